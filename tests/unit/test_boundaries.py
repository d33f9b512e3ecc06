"""Admin boundaries: the bundled files, point-in-country with a km tolerance, lookups."""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import numpy as np
import pytest
import shapely
from shapely.geometry import box, shape

from rcm_map.core import boundaries, polygonindex
from rcm_map.core.boundaries import (
    admin1_at,
    admin1_units,
    country_at,
    load_admin0,
    load_admin1,
    point_in_admin1,
    point_in_country,
    points_in_country,
)
from rcm_map.core.polygonindex import KM_PER_DEG

TAPACHULA = (-92.25891, 14.90541)
CIUDAD_HIDALGO = (-92.15195, 14.68018)  # Chiapas, on the Suchiate: 1:10m puts it in GTM
TECUN_UMAN = (-92.14039, 14.67737)
CORINTO_NI = (-87.17304, 12.4825)  # port: falls just outside the 1:10m coastline


def test_admin1_units_per_country() -> None:
    counts = Counter(u.country for u in admin1_units())
    assert counts == {"CAN": 13, "CRI": 7, "GTM": 22, "HND": 18, "MEX": 32, "NIC": 17,
                      "PAN": 12, "SLV": 14}
    codes = {u.code: u for u in admin1_units()}
    assert "MX-DIF" not in codes
    assert codes["MX-CMX"].name == "Ciudad de México"
    assert (codes["NI-AN"].name, codes["NI-AS"].name) == ("Costa Caribe Norte", "Costa Caribe Sur")
    assert codes["PA-KY"].name == "Guna Yala"
    assert [u.code for u in admin1_units("CRI")] == sorted(u.code for u in admin1_units("CRI"))


def test_frames() -> None:
    admin0, admin1 = load_admin0(), load_admin1()
    assert sorted(admin0["country_iso3"]) == ["CAN", "CRI", "GTM", "HND", "MEX", "NIC", "PAN",
                                              "SLV"]
    assert list(admin0.columns) == ["geometry", "country_iso3", "name", "name_es"]
    assert set(admin1.columns) == {"geometry", "country_iso3", "admin1_code", "name", "name_es",
                                   "type_en"}
    assert len(admin1) == 135 and admin1.crs.to_epsg() == 4326
    assert admin0.geometry.is_valid.all() and admin1.geometry.is_valid.all()


@pytest.mark.parametrize("name", ["admin0", "admin1"])
def test_files_are_rfc7946(name: str) -> None:
    path = boundaries.DATA_DIR / f"{name}.geojson"
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert set(data) == {"type", "features"}  # no "crs" member
    assert not re.search(r"\d\.\d{6,}", text), "coordinates have more than 5 decimals"
    for feature in data["features"]:
        geom = shape(feature["geometry"])
        for poly in shapely.get_parts(geom):
            assert shapely.is_ccw(poly.exterior), feature["properties"]
            assert not any(shapely.is_ccw(ring) for ring in poly.interiors)


@pytest.mark.parametrize(("point", "iso3", "expected"), [
    (TAPACHULA, "MEX", True),
    (TAPACHULA, "GTM", False),
    (TECUN_UMAN, "GTM", True),
    (CIUDAD_HIDALGO, "MEX", True),  # within tolerance of the misplaced river border
    (CORINTO_NI, "NIC", True),
    ((-79.3832, 43.6532), "CAN", True),  # Toronto
    ((14.90541, -92.25891), "MEX", False),  # lon/lat swapped: in range, in the ocean
    ((-92.25891, 14.90541), "XXX", False),
    ((math.nan, 14.9), "MEX", False),
    ((math.inf, 14.9), "MEX", False),
])
def test_point_in_country(point: tuple[float, float], iso3: str, expected: bool) -> None:
    assert point_in_country(*point, iso3) is expected


def test_tolerance_is_what_rescues_border_towns() -> None:
    assert not point_in_country(*CIUDAD_HIDALGO, "MEX", tolerance_km=0)
    assert country_at(*CIUDAD_HIDALGO, tolerance_km=0) == ["GTM"]
    assert country_at(*CIUDAD_HIDALGO) == ["GTM", "MEX"]  # containing first, then near
    assert country_at(*TAPACHULA) == ["MEX"]
    assert country_at(-40.0, 30.0) == []  # Atlantic


def test_vectorised_matches_scalar() -> None:
    rng = np.random.default_rng(7)
    lons = rng.uniform(-118, -77, 400)
    lats = rng.uniform(7, 33, 400)
    iso3s = list(rng.choice(["MEX", "GTM", "HND", "PAN", "CRI", "NIC", "SLV"], 400))
    vector = points_in_country(lons, lats, iso3s, tolerance_km=5.0)
    scalar = [point_in_country(x, y, c) for x, y, c in zip(lons, lats, iso3s, strict=True)]
    assert vector.tolist() == scalar
    assert vector.dtype == bool and vector.any() and not vector.all()


def test_vectorised_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same length"):
        points_in_country([1.0, 2.0], [1.0], ["MEX"])
    with pytest.raises(ValueError, match="instead got"):
        points_in_country(["west"], [1.0], ["MEX"])
    assert points_in_country([], [], []).tolist() == []


@pytest.mark.parametrize("lat0", [0.0, 45.0, 60.0])
def test_distance_is_in_km_not_degrees(lat0: float) -> None:
    """A point 3 km east of a square is found at 3 km whatever the latitude."""
    index = polygonindex.PolygonIndex(["SQ"], [box(0.0, lat0, 1.0, lat0 + 1.0)])
    lat = lat0 + 0.5
    lon = 1.0 + 3.0 / (KM_PER_DEG * math.cos(math.radians(lat)))
    found = index.near(np.array([lon]), np.array([lat]), tolerance_km=5.0)
    assert found[(0, 0)] == pytest.approx(3.0, abs=0.01)
    assert index.near(np.array([lon]), np.array([lat]), tolerance_km=2.9) == {}


def test_admin1_lookups() -> None:
    assert admin1_at(-99.13, 19.43) == "MX-CMX"
    assert admin1_at(*TAPACHULA) == "MX-CHP"
    assert admin1_at(*CORINTO_NI) is None  # in the sea at 1:10m
    assert admin1_at(*CORINTO_NI, tolerance_km=3) == "NI-CI"
    assert admin1_at(*CIUDAD_HIDALGO, tolerance_km=5, country="MEX") == "MX-CHP"
    assert point_in_admin1(*TAPACHULA, "MX-CHP")
    assert not point_in_admin1(*TAPACHULA, "MX-OAX")
    assert not point_in_admin1(*TAPACHULA, "MX-XXX")


def test_hundred_thousand_points_stay_fast() -> None:
    import time

    rng = np.random.default_rng(0)
    n = 100_000
    lons, lats = rng.uniform(-120, -77, n), rng.uniform(7, 55, n)
    iso3s = rng.choice(["MEX", "CAN", "GTM", "PAN"], n)
    points_in_country(lons[:10], lats[:10], iso3s[:10])  # build the index outside the timing
    start = time.perf_counter()
    points_in_country(lons, lats, iso3s)
    assert time.perf_counter() - start < 10  # ~0.6 s measured on 2 cores
