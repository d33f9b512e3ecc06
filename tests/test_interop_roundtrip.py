"""Round trips registry -> HSDS -> registry and registry -> HXL -> registry lose nothing.

Both formats carry every registry field (HSDS through our own taxonomies and
value attributes, see docs/interop.md), so the round trip must give back the
exact features: canonical properties, and positions to the 6 decimals every
export writes. Run over the hand-made fixture, the bundled registry (when it
has been built) and Hypothesis-generated registries.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm_map.core import schema
from rcm_map.formats.hsds import export_hsds, features_of, import_hsds
from rcm_map.formats.hxl import export_hxl, import_hxl
from rcm_map.formats.interop import hsds_zip_bytes
from rcm_map.registry.model import Registry, frame_from_features

REGISTRY = Path(__file__).resolve().parent.parent / "data" / "actors.geojson"


def by_id(features: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["id"]: f for f in features}


def via_hsds(features: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    export_hsds(features, folder)
    out, issues = import_hsds(folder)
    assert issues == []
    return out


def via_hxl(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, issues = import_hxl(export_hxl(frame_from_features(features)))
    assert issues == []
    return out


def assert_same(original: list[dict[str, Any]], back: list[dict[str, Any]]) -> None:
    expected = by_id(features_of(frame_from_features(original)))
    got = by_id(back)
    assert got.keys() == expected.keys()
    for fid, feature in expected.items():
        assert got[fid]["properties"] == feature["properties"], fid
        assert got[fid]["geometry"] == feature["geometry"], fid


# --- the fixture and the bundled registry ----------------------------------------

def test_small_registry_round_trips_through_hsds(small_features, tmp_path):
    assert_same(small_features, via_hsds(small_features, tmp_path))


def test_small_registry_round_trips_through_hxl(small_features):
    assert_same(small_features, via_hxl(small_features))


def test_public_view_round_trips_too(small_features, tmp_path):
    """What the app and the command export: confidential rows already moved."""
    public = Registry.from_frame(frame_from_features(small_features)).frame
    expected = features_of(public)
    assert_same(expected, via_hsds(expected, tmp_path))
    assert_same(expected, via_hxl(expected))


@pytest.fixture(scope="module")
def registry_features() -> list[dict[str, Any]]:
    """The bundled registry (data/actors.geojson), when it has been built."""
    if not REGISTRY.is_file():
        pytest.skip("data/actors.geojson not built yet")
    return json.loads(REGISTRY.read_text("utf-8"))["features"]


def test_bundled_registry_round_trips_through_hsds(registry_features, tmp_path):
    assert_same(registry_features, via_hsds(registry_features, tmp_path))


def test_bundled_registry_round_trips_through_hsds_zip(registry_features, tmp_path):
    (tmp_path / "p.zip").write_bytes(hsds_zip_bytes(registry_features))
    out, issues = import_hsds(tmp_path / "p.zip")
    assert issues == []
    assert_same(registry_features, out)


def test_bundled_registry_round_trips_through_hxl(registry_features):
    assert_same(registry_features, via_hxl(registry_features))


# --- generated registries ---------------------------------------------------------

# A point well inside each country, so the import's country check passes.
ANCHORS = {"MEX": (-92.2667, 14.9), "GTM": (-90.5133, 14.6417), "CAN": (-79.3832, 43.6532),
           "CRI": (-84.0907, 9.9281), "SLV": (-89.2182, 13.6929), "HND": (-87.2068, 14.0723),
           "NIC": (-86.2514, 12.1328), "PAN": (-79.5199, 8.9824)}

# Text as people type it, formula starts and quotes included.
_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029")
text = st.text(st.one_of(_chars, st.sampled_from("=+-@'\";,\n")), max_size=40).map(str.strip)
item = text.filter(lambda s: s and ";" not in s and s == s.strip())
vocab_list = lambda v, lo: st.lists(st.sampled_from(list(v)), min_size=lo, unique=True)  # noqa: E731


@st.composite
def feature(draw: st.DrawFn) -> dict[str, Any]:
    country = draw(st.sampled_from(list(ANCHORS)))
    ages = sorted(draw(st.lists(st.integers(0, 25), min_size=2, max_size=2)))
    age_min = draw(st.sampled_from([None, ages[0]]))
    age_max = draw(st.sampled_from([None, ages[1]]))
    lon, lat = ANCHORS[country]
    geometry = None
    if draw(st.integers(0, 4)):  # one in five is country-wide (no point)
        dx, dy = draw(st.tuples(st.integers(-5000, 5000), st.integers(-5000, 5000)))
        geometry = {"type": "Point",
                    "coordinates": [round(lon + dx * 1e-6, 6), round(lat + dy * 1e-6, 6)]}
    suffix = draw(st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=3))
    day = draw(st.dates(dt.date(2000, 1, 1), dt.date.today()))
    props = {
        "id": draw(st.from_regex(r"[a-z0-9][a-z0-9._:-]{0,20}", fullmatch=True)),
        "name": draw(item), "organization": draw(st.sampled_from(["Org A", "Org B", "ÑGO"])),
        "organization_type": draw(st.sampled_from(list(schema.ORGANIZATION_TYPES))),
        "service_types": draw(vocab_list(schema.SERVICE_TYPES, 1)),
        "age_min": age_min, "age_max": age_max,
        "populations": draw(vocab_list(schema.POPULATIONS, 0)), "country": country,
        "admin1": draw(st.sampled_from(["", f"{schema.ISO2_BY_ISO3[country]}-{suffix}"])),
        "city": draw(text), "address": draw(text),
        "phones": draw(st.lists(item, max_size=3, unique=True)),
        "email": draw(st.sampled_from(["", "info@example.org", "-x@example.org"])),
        "website": draw(st.sampled_from(["", "https://example.org/a?b=c", "http://x.org"])),
        "hours": draw(text),
        "languages": draw(st.lists(st.sampled_from(["es", "en", "fr", "mam", "kek", "ur"]),
                                   unique=True)),
        "cost": draw(text), "referral": draw(text),
        "notifies_authorities": draw(st.sampled_from(list(schema.NOTIFIES_AUTHORITIES))),
        "location_precision": "country_wide" if geometry is None
        else draw(st.sampled_from(schema.POINT_PRECISIONS)),
        "source_date": draw(st.sampled_from(["", day.isoformat()])),
        "verified_on": draw(st.sampled_from(["", day.isoformat()])),
        "verified_by": draw(st.sampled_from(["", "ana (MEX)"])),
        "source": draw(item), "description": draw(text),
    }
    return {"type": "Feature", "geometry": geometry, "properties": props}


registries = st.lists(feature(), min_size=1, max_size=6,
                      unique_by=lambda f: f["properties"]["id"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(features=registries)
def test_generated_registries_round_trip_through_hsds(features, tmp_path_factory):
    assert schema.validate_properties(features[0]["properties"]) == []
    assert_same(features, via_hsds(features, tmp_path_factory.mktemp("hsds")))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(features=registries)
def test_generated_registries_round_trip_through_hxl(features):
    assert_same(features, via_hxl(features))


def test_values_starting_with_apostrophes_round_trip(small_features):
    small_features[0]["properties"]["name"] = "''=1+1"
    assert_same(small_features, via_hxl(small_features))
