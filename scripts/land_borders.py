"""Distance from points to the land borders between the countries of admin0.geojson.

Used at build time by scripts/build_gazetteer.py to give every place a
`border_km`. A land border is the part of one country's outline that lies on
another's: the outlines share their border vertices (they were simplified on
shared arcs, see PROVENANCE.md), so the boundary of country B within ~500 m of
country A is the A-B border. Borders with countries outside the file (the United
States, Belize, Colombia) are not in it and so not measured.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

EARTH_RADIUS_KM = 6371.0088
VERTEX_SPACING_DEG = 0.005  # ~550 m: distances are exact to about 0.3 km
NEIGHBOUR_BUFFER_DEG = 0.005


def land_border_vertices(admin0: Path) -> np.ndarray:
    """(lat, lon) vertices, every ~550 m, of the land borders between the file's countries."""
    features = json.loads(admin0.read_text(encoding="utf-8"))["features"]
    countries = [shape(f["geometry"]) for f in features]
    parts = []
    for a, b in combinations(countries, 2):
        if not a.envelope.intersects(b.envelope):
            continue
        border = b.boundary.intersection(a.buffer(NEIGHBOUR_BUFFER_DEG))
        if border.is_empty:
            continue
        coords = shapely.get_coordinates(shapely.segmentize(border, VERTEX_SPACING_DEG))
        parts.append(coords[:, ::-1])
    if not parts:
        raise ValueError(f"{admin0}: no two countries share a border; is this admin0.geojson?")
    return np.concatenate(parts)


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def distances_to_land_borders_km(lats: list[float], lons: list[float], admin0: Path) -> np.ndarray:
    """Great-circle distance (km) from each point to the nearest land-border vertex."""
    border = land_border_vertices(admin0)
    targets = _unit_vectors(border[:, 0], border[:, 1])
    points = _unit_vectors(np.asarray(lats, float), np.asarray(lons, float))
    nearest = np.empty(len(points))
    for start in range(0, len(points), 1000):  # 1000 x ~10,000 dot products at a time
        cosines = points[start:start + 1000] @ targets.T
        nearest[start:start + 1000] = cosines.max(axis=1)
    return EARTH_RADIUS_KM * np.arccos(np.clip(nearest, -1.0, 1.0))
