"""Polygons keyed by code, with fast containment and within-distance tests.

The engine of `rcm_map.core.boundaries`: an STR tree of the polygons for
containment, and each outline cut into pieces of `CHUNK_SEGMENTS` segments, kept
both as an STR tree (to find the pieces near a point) and as one array of segments
(to measure many (point, piece) pairs in one numpy pass). Distances are on the
ground, in a local equirectangular frame around each point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from rcm_map.core.geo import EARTH_RADIUS_KM

KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180.0
CHUNK_SEGMENTS = 32  # boundary pieces small enough that a bbox query finds few of them
PAIRS_AT_ONCE = 8192  # (point, boundary piece) pairs measured in one numpy pass (~2 MB each)


class PolygonIndex:
    """Polygons keyed by code, with fast containment and within-distance tests."""

    def __init__(self, keys: Sequence[str], geoms: Sequence[Any]) -> None:
        self.keys = list(keys)
        self.key_index = {k: i for i, k in enumerate(self.keys)}
        self.geoms = np.asarray(geoms, dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        chunks, owners = [], []
        for i, geom in enumerate(self.geoms):
            for ring in rings(geom):
                coords = shapely.get_coordinates(ring)
                for start in range(0, len(coords) - 1, CHUNK_SEGMENTS):
                    chunks.append(coords[start : start + CHUNK_SEGMENTS + 1])
                    owners.append(i)
        self.chunk_owner = np.asarray(owners, dtype=np.int64)
        self.chunk_tree = shapely.STRtree([shapely.linestrings(c) for c in chunks])
        # every chunk as CHUNK_SEGMENTS segments: (start x, start y, end x, end y),
        # NaN past its last one, so many (point, chunk) pairs are measured at once
        self.segments = np.full((len(chunks), CHUNK_SEGMENTS, 4), np.nan)
        for c, coords in enumerate(chunks):
            self.segments[c, : len(coords) - 1, :2] = coords[:-1]
            self.segments[c, : len(coords) - 1, 2:] = coords[1:]

    def containing(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (point index, polygon index) where the polygon contains the point."""
        points = shapely.points(xs, ys)
        pt_idx, geom_idx = self.tree.query(points)  # bounding boxes only
        inside = shapely.contains_xy(self.geoms[geom_idx], xs[pt_idx], ys[pt_idx])
        return pt_idx[inside], geom_idx[inside]

    def near(
        self, xs: np.ndarray, ys: np.ndarray, tolerance_km: float
    ) -> dict[tuple[int, int], float]:
        """{(point index, polygon index): distance_km} for boundaries within tolerance."""
        points, owners, dists = self.near_pairs(xs, ys, tolerance_km)
        return dict(zip(zip(points.tolist(), owners.tolist(), strict=True), dists.tolist(),
                        strict=True))

    def near_pairs(
        self, xs: np.ndarray, ys: np.ndarray, tolerance_km: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`near` as arrays: point index, polygon index and distance_km of every polygon
        whose outline is within tolerance of a point (its least distance), sorted by
        point then polygon."""
        none = np.zeros(0, dtype=np.int64)
        if tolerance_km <= 0 or len(xs) == 0:
            return none, none, np.zeros(0)
        dlat = tolerance_km / KM_PER_DEG
        coslat = np.maximum(np.cos(np.radians(np.clip(np.abs(ys) + dlat, 0, 89.9))), 1e-6)
        dlon = dlat / coslat
        boxes = shapely.box(xs - dlon, ys - dlat, xs + dlon, ys + dlat)
        pt_idx, chunk_idx = self.chunk_tree.query(boxes)
        dist = np.empty(len(pt_idx))
        for start in range(0, len(pt_idx), PAIRS_AT_ONCE):
            p, c = pt_idx[start:start + PAIRS_AT_ONCE], chunk_idx[start:start + PAIRS_AT_ONCE]
            dist[start:start + len(p)] = _distances_to_chunks_km(xs[p], ys[p], self.segments[c])
        keep = dist <= tolerance_km
        pt_idx, owner, dist = pt_idx[keep], self.chunk_owner[chunk_idx[keep]], dist[keep]
        if len(pt_idx) == 0:
            return none, none, np.zeros(0)
        order = np.lexsort((owner, pt_idx))
        pt_idx, owner, dist = pt_idx[order], owner[order], dist[order]
        first = np.flatnonzero(np.r_[True, (pt_idx[1:] != pt_idx[:-1])
                                     | (owner[1:] != owner[:-1])])
        return (pt_idx[first].astype(np.int64), owner[first].astype(np.int64),
                np.minimum.reduceat(dist, first))


def rings(geom: Any) -> list[Any]:
    """The exterior and interior rings of every polygon of `geom`."""
    out = []
    for poly in shapely.get_parts(geom):
        out.append(shapely.get_exterior_ring(poly))
        holes = shapely.get_num_interior_rings(poly)
        out.extend(shapely.get_interior_ring(poly, i) for i in range(holes))
    return out


def _distances_to_chunks_km(lons: np.ndarray, lats: np.ndarray, segments: np.ndarray
                            ) -> np.ndarray:
    """Ground distance from each (lon, lat) to its polyline of `segments` (one row of
    `PolygonIndex.segments` per point), in a local equirectangular frame at the point."""
    kx = KM_PER_DEG * np.array([math.cos(math.radians(lat)) for lat in lats.tolist()])
    ax = (segments[:, :, 0] - lons[:, None]) * kx[:, None]
    ay = (segments[:, :, 1] - lats[:, None]) * KM_PER_DEG
    bx = (segments[:, :, 2] - lons[:, None]) * kx[:, None]
    by = (segments[:, :, 3] - lats[:, None]) * KM_PER_DEG
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    px, py = ax + t * dx, ay + t * dy
    return np.fmin.reduce(np.sqrt(px * px + py * py), axis=1)  # NaN: no segment there
