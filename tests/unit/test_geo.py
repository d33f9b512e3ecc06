"""The one latitude/longitude validator (`rcm_map.core.geo.lat_lon_problem`) and the
places that use it: URL state, map centre, map clicks, registry files, HSDS imports,
the evidence table and the confidential stand-ins."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from rcm_map.core.geo import lat_lon_problem, parse_lat_lon, validate_lat_lon
from rcm_map.core.standin import public_point
from rcm_map.formats.evidence import parse_location
from rcm_map.registry.model import validate_collection
from rcm_map.render.mapping import _validate_center
from rcm_map.search.urlstate import click_point, decode


@pytest.mark.parametrize(("lat", "lon", "field", "message"), [
    (100, 101, "latitude", "Latitude must be between -90 and 90, instead got: 100."),
    (14.9, -200, "longitude", "Longitude must be between -180 and 180, instead got: -200."),
    (-92.2667, 14.9, "latitude", "Latitude must be between -90 and 90, instead got: -92.2667 "
     "(are latitude and longitude swapped?)."),
    (math.nan, 1.0, "latitude", "Expected a finite number for latitude, instead got: nan."),
    (1.0, math.inf, "longitude", "Expected a finite number for longitude, instead got: inf."),
    (True, 1.0, "latitude", "Expected a number for latitude, instead got: True."),
    (1.0, None, "longitude", "Expected a number for longitude, instead got: None."),
    ("north", "1", "latitude", "Expected a number for latitude, instead got: 'north'."),
])
def test_each_problem_names_the_field_and_quotes_the_value(lat, lon, field, message):
    problem = lat_lon_problem(lat, lon)
    assert problem is not None
    assert (problem.field, problem.message) == (field, message)
    with pytest.raises(ValueError) as raised:
        validate_lat_lon(lat, lon)
    assert str(raised.value) == message


def test_text_is_a_number_unless_numbers_only():
    assert validate_lat_lon(" 14.9", "-92.26 ") == (14.9, -92.26)
    problem = lat_lon_problem("14.9", -92.26, numbers_only=True)
    assert problem is not None and (problem.field, problem.value) == ("latitude", "14.9")
    assert lat_lon_problem(90, -180, numbers_only=True) is None
    assert parse_lat_lon("14.9,-92.26") == (14.9, -92.26)


def test_every_caller_gives_the_same_message():
    expected = "Latitude must be between -90 and 90, instead got: 95"
    with pytest.raises(ValueError, match=expected):
        _validate_center((95, 0))
    with pytest.raises(ValueError, match=expected.replace("95", "'95'")):  # text is quoted
        parse_lat_lon("95,0")
    collection = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 95]},
        "properties": {"id": "x"}}]}
    assert any(expected in str(i) for i in validate_collection(collection, "f.geojson"))
    with pytest.raises(ValueError, match=expected):
        public_point(0, 95)
    assert parse_location("95,0") is None and parse_location("14.9,-92.26") == (-92.26, 14.9)


_RANGE_CHECK = re.compile(r"-\s*(90|180)(\.0)?\s*<=?\s*\w+\s*<=?\s*(90|180)\b")


def test_no_other_module_checks_the_range_itself():
    """A second copy of the -90..90 / -180..180 check would drift from these messages."""
    package = Path(__file__).resolve().parents[2] / "rcm_map"
    copies = [str(p.relative_to(package)) for p in package.rglob("*.py")
              if p.name != "geo.py" and _RANGE_CHECK.search(p.read_text("utf-8"))]
    assert copies == []


def test_url_state_drops_an_impossible_point_and_keeps_a_good_one():
    decoded = decode({"lat": "95", "lon": "-92.26"})
    assert decoded.state.lat is None and decoded.state.lon is None
    assert {d.param for d in decoded.dropped} == {"lat", "lon"}
    good = decode({"lat": "14.90541", "lon": "-92.25891"}).state
    assert (good.lat, good.lon) == (14.90541, -92.25891)


def test_clicks_wrap_longitude_and_refuse_the_rest():
    assert click_point({"lat": 14.9, "lng": -92.26 + 720}) == pytest.approx((14.9, -92.26))
    assert click_point({"lat": 14.9, "lng": 268}) == (14.9, -92)
    assert click_point({"lat": 95.0, "lng": 0.0}) is None
    assert click_point({"lat": "14.9", "lng": -92.26}) is None
    assert click_point({"lat": 14.9, "lng": math.nan}) is None
