"""The vectorised stand-in path gives exactly what the per-site reference gives.

`standin.public_points` (many sites at once), `polygonindex.PolygonIndex.near_pairs`
(many point/outline pairs in one numpy pass) and `model.public_view` (all
confidential rows at once) replaced per-row loops to make a registry of 1,000,000
services ingest in time (issue 13 item 6). Each is compared here with a reference
written the old way, row by row, on hostile inputs: sites on and astride borders
and coasts, at sea, on islands, with a wrong, foreign or missing admin-1 unit, an
unknown country, and confidential rows next to a border.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from rcm_map.core import boundaries, polygonindex, standin
from rcm_map.core.safety import WITHHELD_FOR_CONFIDENTIAL, public_properties
from rcm_map.registry import model

COUNTRIES = ("CAN", "CRI", "GTM", "HND", "MEX", "NIC", "PAN", "SLV")


def outline_sites(n_per_country: int, spread_km: float, seed: int
                  ) -> list[tuple[float, float, str]]:
    """Sites scattered around random points of each country's outline (both sides of
    borders, the sea, lakes), each with its country."""
    rng = np.random.default_rng(seed)
    frame = boundaries.load_admin0()
    sites = []
    for iso3 in COUNTRIES:
        line = frame.loc[frame["country_iso3"] == iso3, "geometry"].iloc[0].boundary
        for where in shapely.line_interpolate_point(line, rng.random(n_per_country),
                                                    normalized=True):
            km = rng.random() * spread_km
            bearing = rng.random() * 2 * math.pi
            lat = where.y + km * math.cos(bearing) / polygonindex.KM_PER_DEG
            lon = where.x + km * math.sin(bearing) / (
                polygonindex.KM_PER_DEG * math.cos(math.radians(lat)))
            sites.append((lon, lat, iso3))
    return sites


# ------------------------------------------------------------------ outline distances


def reference_near(index: polygonindex.PolygonIndex, xs: np.ndarray, ys: np.ndarray,
                   tolerance_km: float) -> dict[tuple[int, int], float]:
    """`_PolygonIndex.near` as it was: one (point, boundary piece) pair at a time."""
    if tolerance_km <= 0 or len(xs) == 0:
        return {}
    dlat = tolerance_km / polygonindex.KM_PER_DEG
    coslat = np.maximum(np.cos(np.radians(np.clip(np.abs(ys) + dlat, 0, 89.9))), 1e-6)
    dlon = dlat / coslat
    boxes = shapely.box(xs - dlon, ys - dlat, xs + dlon, ys + dlat)
    pt_idx, chunk_idx = index.chunk_tree.query(boxes)
    chunks = reference_chunks(index)
    found: dict[tuple[int, int], float] = {}
    for p, c in zip(pt_idx.tolist(), chunk_idx.tolist(), strict=True):
        key = (p, int(index.chunk_owner[c]))
        dist = polyline_km(float(xs[p]), float(ys[p]), chunks[c])
        if dist <= tolerance_km and dist < found.get(key, math.inf):
            found[key] = dist
    return found


def reference_chunks(index: polygonindex.PolygonIndex) -> list[np.ndarray]:
    """The boundary pieces as the index cut them before (straight from the polygons)."""
    chunks = []
    for geom in index.geoms:
        for ring in polygonindex.rings(geom):
            coords = shapely.get_coordinates(ring)
            for start in range(0, len(coords) - 1, polygonindex.CHUNK_SEGMENTS):
                chunks.append(coords[start:start + polygonindex.CHUNK_SEGMENTS + 1])
    return chunks


def polyline_km(lon: float, lat: float, coords: np.ndarray) -> float:
    """Ground distance to a polyline in a local equirectangular frame (the old code)."""
    kx = polygonindex.KM_PER_DEG * math.cos(math.radians(lat))
    x = (coords[:, 0] - lon) * kx
    y = (coords[:, 1] - lat) * polygonindex.KM_PER_DEG
    ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    px, py = ax + t * dx, ay + t * dy
    return float(np.sqrt(px * px + py * py).min())


@pytest.mark.parametrize("which", ["country", "admin1"])
@pytest.mark.parametrize("tolerance_km", [0.5, 5.0, 25.0])
def test_outline_distances_match_the_pairwise_reference(which: str, tolerance_km: float) -> None:
    index = boundaries._country_index() if which == "country" else boundaries._admin1_index()
    sites = outline_sites(60, 30.0, seed=7)
    xs = np.array([s[0] for s in sites])
    ys = np.array([s[1] for s in sites])
    found = index.near(xs, ys, tolerance_km)
    assert found == reference_near(index, xs, ys, tolerance_km)  # same keys, same floats
    assert found  # the sites do come near outlines


@pytest.mark.parametrize("which", ["country", "admin1"])
def test_segment_table_is_the_outline(which: str) -> None:
    """Row c of the padded segment table is boundary piece c, vertex for vertex."""
    index = boundaries._country_index() if which == "country" else boundaries._admin1_index()
    chunks = reference_chunks(index)
    assert len(chunks) == len(index.segments) == len(index.chunk_owner)
    for coords, segments in zip(chunks, index.segments, strict=True):
        n = len(coords) - 1
        assert np.array_equal(segments[:n, :2], coords[:-1])
        assert np.array_equal(segments[:n, 2:], coords[1:])
        assert np.isnan(segments[n:]).all()


# ------------------------------------------------------------------ stand-ins


def hostile_sites() -> list[tuple[float, float, str | None, str | None]]:
    """Sites on and near borders and coasts with right, foreign, unknown or missing
    admin-1 units and countries, plus sites at sea and astride land borders."""
    rng = np.random.default_rng(3)
    sites: list[tuple[float, float, str | None, str | None]] = []
    units = [u.code for u in boundaries.admin1_units()]
    for lon, lat, iso3 in outline_sites(12, 15.0, seed=11):
        own = boundaries.admin1_at(lon, lat, tolerance_km=5.0, country=iso3)
        admin1 = [own, None, "", str(rng.choice(units)), "XX-9"][int(rng.integers(5))]
        sites.append((lon, lat, iso3, admin1))
    border_towns = [(-92.1497, 14.6806, "MEX", "MX-CHP"), (-92.1497, 14.6806, "GTM", None),
                    (-117.00371, 32.5027, "MEX", "MX-BCN"), (-83.01654, 42.30008, "CAN", "CA-ON"),
                    (-82.83844, 8.53305, "CRI", "CR-P"), (-82.83844, 8.53305, "PAN", ""),
                    (-87.8, 13.4, "SLV", None), (-87.8, 13.4, "HND", "HN-VA"),
                    (-85.7, 11.1, "NIC", "NI-RI"), (-89.35, 13.9, "SLV", "SV-SA")]
    sites += border_towns
    # the site's own cell shared by many rows, and rows with the country left to the map
    sites += [(-92.25 + 0.001 * k, 14.95, "MEX", "MX-CHP") for k in range(20)]
    sites += [(-92.26, 14.90, None, None), (-99.13, 19.43, "ZZZ", None)]
    sites += [(-79.5, 9.0, "PAN", "PA-8"), (-84.0, 9.9, "CRI", "CR-SJ")]  # inland
    return sites


def test_public_points_are_public_point_site_by_site() -> None:
    sites = hostile_sites()
    lons, lats, countries, admin1s = map(list, zip(*sites, strict=True))
    xs, ys = standin.public_points(lons, lats, countries, admin1s)
    standin._cell_stand_in.cache_clear()  # the scalar tiers afresh, not what the batch cached
    expected = [standin.public_point(*site) for site in sites]
    assert list(zip(xs.tolist(), ys.tolist(), strict=True)) == expected


def test_public_points_of_nothing_and_of_a_bad_site() -> None:
    xs, ys = standin.public_points([], [], [], [])
    assert xs.tolist() == ys.tolist() == []
    with pytest.raises(ValueError) as vector:
        standin.public_points([-92.2, -92.2], [14.9, 95.0], ["MEX", "MEX"], ["", ""])
    with pytest.raises(ValueError) as scalar:
        standin.public_point(-92.2, 95.0, "MEX", "")
    assert str(vector.value) == str(scalar.value)
    with pytest.raises(ValueError, match="same length"):
        standin.public_points([1.0], [1.0, 2.0], ["MEX"], [""])


def test_near_ring_batches_agree_with_the_scalar_tiers() -> None:
    """Keys the first ring settles and keys it leaves to the scalar tiers, mixed."""
    keys = [((-923, 149), "MEX", "MX-CHP"), ((-1400, 100), None, None),
            ((-921, 146), "GTM", None), ((-921, 146), "MEX", "MX-CHP")]
    found = standin._near_stand_ins(keys, standin.PUBLIC_MIN_KM, standin.PUBLIC_GRID_DEG)
    assert found[1] is None  # no country: left to the scalar tiers
    for key, answer in zip(keys, found, strict=True):
        if answer is not None:
            assert answer == standin._cell_stand_in(*key, standin.PUBLIC_MIN_KM,
                                                    standin.PUBLIC_GRID_DEG)


# ------------------------------------------------------------------ public view


def reference_public_view(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """`model.public_view` as it was: one confidential row at a time."""
    conf = (frame["location_precision"] == "confidential").to_numpy()
    if not conf.any():
        return frame
    out = frame.copy()
    moved = []
    rows = zip(out.geometry[conf], out.loc[conf, "country"], out.loc[conf, "admin1"], strict=True)
    for geom, country, admin1 in rows:
        moved.append(None if geom is None or geom.is_empty else
                     Point(standin.public_point(geom.x, geom.y, str(country), str(admin1 or ""))))
    out.loc[conf, "geometry"] = gpd.GeoSeries(moved, index=out.index[conf], crs=frame.crs)
    text = [*WITHHELD_FOR_CONFIDENTIAL, "source", "location_precision"]
    cleaned = [public_properties(row) for row in out.loc[conf, text].to_dict("records")]
    for name in text:
        out.loc[conf, name] = [row[name] for row in cleaned]
    return out


def test_public_view_matches_the_row_by_row_reference(small_features: list[Any]) -> None:
    """Confidential rows near borders and coasts, with and without points and
    links in their source, mixed with public rows."""
    base = next(f for f in small_features if f["geometry"] is not None)
    features: list[dict[str, Any]] = []
    for k, (lon, lat, iso3, admin1) in enumerate(hostile_sites()):
        props = dict(base["properties"], id=f"site-{k}", country=iso3 or "MEX",
                     admin1=admin1 or "", address=f"Calle {k}", description=f"near {k}",
                     location_precision="confidential" if k % 4 else "address",
                     source=["https://a.example/x — zona 3", "a note only", ""][k % 3])
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    features.append({"type": "Feature", "geometry": None, "properties": dict(
        base["properties"], id="country-wide", location_precision="confidential")})
    frame = model.frame_from_features(features)
    frame.index = pd.RangeIndex(100, 100 + len(frame))  # not a plain 0..n-1 index
    got, expected = model.public_view(frame), reference_public_view(frame)
    pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")),
                                  pd.DataFrame(expected.drop(columns="geometry")))
    assert [None if g is None else g.wkb for g in got.geometry] == \
        [None if g is None else g.wkb for g in expected.geometry]
    assert got.crs == expected.crs
    assert (frame["location_precision"] == "confidential").sum() > 20
