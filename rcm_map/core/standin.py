"""Public stand-in points for confidential sites: same country, on land, away from borders.

A confidential shelter is never shown at its true site. It is shown at a
*stand-in*: the centre of a 0.1-degree grid cell at least 5 km from the site.
The first version took the nearest such centre with no regard to borders, and
drew five Mexican, Canadian and Costa Rican shelters in the United States or
Panama, and others in the sea (issue 12). A stand-in across a border also tells
anyone which side of the border town the site is on.

The rule now, in order of preference (first tier that has a candidate wins):

1. a cell centre inside the site's own country and at least `BORDER_KM` from the
   country's outline, within `NEAR_KM` of the site, in the site's admin-1 unit;
2. the same in any admin-1 unit of the country, searching ever wider rings;
3. the nearest cell centre inside the country (only for a far small island with
   no such centre within 1,600 km; none of the eight countries has one);
4. the plain nearest cell centre (only for sites outside the eight countries).

Ties go to the nearest candidate, then to the smaller (lon, lat), so the answer
never depends on iteration order. The bundled boundaries hold only the eight
countries, so the outline cannot tell a coast from a land border with the United
States, Belize or Colombia: keeping 5 km from the outline keeps the stand-in
5 km from every foreign country *and* off the sea. Lakes inside a polygon (Lake
Nicaragua) count as the country's land, as they do in the boundary data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from rcm_map.core import boundaries
from rcm_map.core.geo import EARTH_RADIUS_KM, lat_lon_problem

PUBLIC_GRID_DEG = 0.1
"""Stand-ins are centres of cells of this size (degrees)."""
PUBLIC_MIN_KM = 5.0
"""A stand-in is never closer than this to the true site."""
BORDER_KM = 5.0
"""A stand-in keeps this far from the country's outline (coast or border)."""
NEAR_KM = 25.0
"""Within this distance a stand-in in the site's own admin-1 unit is preferred."""
_RINGS_KM = (NEAR_KM, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)  # far islands need the last
_BATCH = 64
_KEYS_AT_ONCE = 4096  # (cell, country, unit) keys of `public_points` solved together
_KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180


def public_point(
    lon: float,
    lat: float,
    country: str | None = None,
    admin1: str | None = None,
    *,
    min_km: float = PUBLIC_MIN_KM,
    grid_deg: float = PUBLIC_GRID_DEG,
) -> tuple[float, float]:
    """Deterministic public stand-in for a confidential site.

    The answer depends on the site only through the grid cell that holds it (and
    the declared country and admin-1 unit), and it is at least `min_km` from every
    point of that cell: all sites of one cell share one stand-in, so the stand-in
    cannot narrow a site down beyond its cell, and a million rows cost one
    computation per distinct cell.

    Parameters
    ----------
    lon, lat
        True coordinates in degrees (WGS 84).
    country
        ISO 3166-1 alpha-3 code the service belongs to. When None or unknown to
        the bundled boundaries, the country containing the site (or within 5 km
        of it) is used.
    admin1
        ISO 3166-2 code of the site's province or state; when None or not a unit
        of `country`, the unit at the site is used.
    min_km
        Minimum distance from the site's cell (so from the site), km.
    grid_deg
        Grid spacing in degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` of a cell centre, rounded to 6 decimals: inside `country`
        and at least `BORDER_KM` from its outline (see the module docstring).

    Raises
    ------
    ValueError
        When the coordinates are not finite or out of range.
    """
    problem = lat_lon_problem(lat, lon, numbers_only=True)
    if problem is not None:
        raise ValueError(problem.message)
    found = _country_of(lon, lat, country)
    unit = _admin1_of(lon, lat, found, admin1) if found else None
    cell = (math.floor(lon / grid_deg), math.floor(lat / grid_deg))
    return _cell_stand_in(cell, found, unit, float(min_km), float(grid_deg))


def public_points(
    lons: Any,
    lats: Any,
    countries: Sequence[str | None],
    admin1s: Sequence[str | None],
    *,
    min_km: float = PUBLIC_MIN_KM,
    grid_deg: float = PUBLIC_GRID_DEG,
) -> tuple[np.ndarray, np.ndarray]:
    """`public_point` of many sites at once: the same answers (and the same ValueError
    for the first bad site), each distinct (cell, country, unit) computed once and
    the nearest ring of many cells together (`_near_stand_ins`).

    Returns the stand-ins' longitudes and latitudes as two float arrays.
    """
    xs, ys = np.asarray(lons, dtype=float).reshape(-1), np.asarray(lats, dtype=float).reshape(-1)
    if not len(xs) == len(ys) == len(countries) == len(admin1s):
        raise ValueError(f"lons, lats, countries and admin1s must have the same length, "
                         f"instead got: {len(xs)}, {len(ys)}, {len(countries)}, {len(admin1s)}")
    with np.errstate(invalid="ignore"):
        bad = ~((np.abs(xs) <= 180) & (np.abs(ys) <= 90))
    for k in np.flatnonzero(bad).tolist():  # raises the scalar function's own message
        public_point(float(xs[k]), float(ys[k]), countries[k], admin1s[k], min_km=min_km,
                     grid_deg=grid_deg)
    cell_x = np.floor(xs / grid_deg).astype(np.int64).tolist()
    cell_y = np.floor(ys / grid_deg).astype(np.int64).tolist()
    keys: dict[tuple[tuple[int, int], str | None, str | None], int] = {}
    which = np.empty(len(xs), dtype=np.int64)
    for k, (x, y, country, admin1) in enumerate(zip(xs.tolist(), ys.tolist(), countries,
                                                     admin1s, strict=True)):
        found = _country_of(x, y, country)
        unit = _admin1_of(x, y, found, admin1) if found else None
        which[k] = keys.setdefault(((cell_x[k], cell_y[k]), found, unit), len(keys))
    key_list = list(keys)
    answers: list[tuple[float, float] | None] = []
    for start in range(0, len(key_list), _KEYS_AT_ONCE):
        answers += _near_stand_ins(key_list[start:start + _KEYS_AT_ONCE], float(min_km),
                                   float(grid_deg))
    done = [answer if answer is not None  # not settled in the nearest ring: the scalar tiers
            else _cell_stand_in(*key, float(min_km), float(grid_deg))
            for key, answer in zip(key_list, answers, strict=True)]
    out = np.array(done, dtype=float).reshape(-1, 2)
    return out[which, 0], out[which, 1]


def _near_stand_ins(
    keys: list[tuple[tuple[int, int], str | None, str | None]], min_km: float, grid_deg: float
) -> list[tuple[float, float] | None]:
    """Tiers 1 and 2 of `_cell_stand_in` within its first ring (`NEAR_KM`), for many
    (cell, country, unit) keys at once; None where that ring has no answer (or the
    country is unknown): the scalar tiers settle those.

    Every distinct candidate centre is tested once for its country, its admin-1
    unit and its distance to the outlines, with the same functions and the same
    arithmetic as `_cell_stand_in`, so the answers are the same.
    """
    answers: list[tuple[float, float] | None] = [None] * len(keys)
    todo = [j for j, (_, country, _) in enumerate(keys) if country is not None]
    if not todo:
        return answers
    owner, xs, ys = _candidates_many([keys[j][0] for j in todo], min_km, NEAR_KM, grid_deg)
    centres, pick = np.unique(np.stack([xs, ys], axis=1), axis=0, return_inverse=True)
    pick = pick.reshape(-1)
    cx, cy = centres[:, 0], centres[:, 1]
    countries = {code: i for i, code in enumerate(boundaries.country_codes())}
    units = {code: i for i, code in enumerate(boundaries.admin1_codes())}
    country_of = np.array([countries.get(keys[j][1], -1) for j in todo],  # type: ignore[arg-type]
                          dtype=np.int64)[owner]
    unit_of = np.array([units.get(keys[j][2], -1) for j in todo],  # type: ignore[arg-type]
                       dtype=np.int64)[owner]
    in_country = _contained(pick, country_of, *boundaries.countries_containing(cx, cy),
                            len(countries))
    interior = np.zeros(len(cx), dtype=bool)
    land = np.unique(pick[in_country])
    interior[land] = ~boundaries.near_outline(cx[land], cy[land], BORDER_KM)
    ok = in_country & interior[pick]
    in_unit = _contained(pick, unit_of, *boundaries.admin1s_containing(cx, cy), len(units))
    for good in (ok & in_unit, ok):  # a centre in the site's own unit first, then the country
        hits = np.flatnonzero(good)
        if not len(hits):
            continue
        for k in hits[np.r_[True, owner[hits][1:] != owner[hits][:-1]]].tolist():
            j = todo[int(owner[k])]  # the first hit of each key, in candidate order
            if answers[j] is None:
                answers[j] = (round(float(xs[k]), 6), round(float(ys[k]), 6))
    return answers


def _contained(pick: np.ndarray, unit: np.ndarray, points: np.ndarray, polygons: np.ndarray,
               n_units: int) -> np.ndarray:
    """Whether centre `pick[i]` lies in polygon `unit[i]` (-1: none), given the
    (point, polygon) pairs of containment."""
    return (unit >= 0) & np.isin(pick * n_units + unit, points * n_units + polygons)


@lru_cache(maxsize=1 << 16)
def _cell_stand_in(
    cell: tuple[int, int], country: str | None, unit: str | None, min_km: float, grid_deg: float
) -> tuple[float, float]:
    """The stand-in of every site in `cell` (tiers in the module docstring)."""
    if country is not None:
        for reach in _RINGS_KM:
            xs, ys, _ = _candidates(cell, min_km, reach, grid_deg)  # nearest first
            xs, ys = _inside(xs, ys, boundaries.points_in_country, country)
            if reach == NEAR_KM and unit is not None:
                found = _first_interior(*_inside(xs, ys, boundaries.points_in_admin1, unit))
                if found is not None:
                    return found
            found = _first_interior(xs, ys)
            if found is not None:
                return found
            if reach == _RINGS_KM[-1] and len(xs):  # a far island: on land at least
                return round(float(xs[0]), 6), round(float(ys[0]), 6)
    xs, ys, _ = _candidates(cell, min_km, 4 * min_km, grid_deg)
    if len(xs) == 0:  # only conceivable at the poles
        raise ValueError(f"No public point found for grid cell {cell!r}.")
    return round(float(xs[0]), 6), round(float(ys[0]), 6)


def _inside(xs: np.ndarray, ys: np.ndarray, test: Any, code: str) -> tuple[np.ndarray, np.ndarray]:
    """The candidates (order kept) that `test` places strictly inside unit `code`."""
    keep = test(xs, ys, [code] * len(xs), tolerance_km=0)
    return xs[keep], ys[keep]


def _first_interior(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float] | None:
    """The first candidate at least `BORDER_KM` from every outline, checked in batches."""
    for start in range(0, len(xs), _BATCH):
        bx, by = xs[start:start + _BATCH], ys[start:start + _BATCH]
        interior = np.flatnonzero(~boundaries.near_outline(bx, by, BORDER_KM))
        if len(interior):
            return round(float(bx[interior[0]]), 6), round(float(by[interior[0]]), 6)
    return None


@lru_cache(maxsize=1)
def _known_countries() -> frozenset[str]:
    return frozenset(u.country for u in boundaries.admin1_units())


def _country_of(lon: float, lat: float, country: str | None) -> str | None:
    """The declared country when the boundaries know it, else the one at the site."""
    if country in _known_countries():
        return country
    found = boundaries.country_at(lon, lat, tolerance_km=5.0)
    return found[0] if found else None


@lru_cache(maxsize=64)
def _unit_codes(country: str) -> frozenset[str]:
    return frozenset(u.code for u in boundaries.admin1_units(country))


def _admin1_of(lon: float, lat: float, country: str, admin1: str | None) -> str | None:
    """The declared admin-1 unit when it belongs to `country`, else the one at the site."""
    if admin1 and admin1 in _unit_codes(country):
        return admin1
    return boundaries.admin1_at(lon, lat, tolerance_km=5.0, country=country)


def _candidates(
    cell: tuple[int, int], min_km: float, reach_km: float, grid_deg: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell centres between `min_km` and `reach_km` of `cell`, nearest first.

    Ties are broken by (lon, lat), so the order never depends on anything else.

    The distance is to the nearest point of the cell, so a centre at `min_km` is
    at least that far from any site inside the cell.
    """
    x0, y0 = cell[0] * grid_deg, cell[1] * grid_deg
    x1, y1 = x0 + grid_deg, y0 + grid_deg
    reach_deg = reach_km / _KM_PER_DEG + grid_deg
    coslat = max(math.cos(math.radians(min(abs(y0), abs(y1)))), 0.05)
    n_lat = math.ceil(reach_deg / grid_deg) + 1
    n_lon = min(math.ceil(reach_deg / coslat / grid_deg) + 1, int(180 / grid_deg))
    ii, jj = np.meshgrid(np.arange(cell[0] - n_lon, cell[0] + n_lon + 1),
                         np.arange(cell[1] - n_lat, cell[1] + n_lat + 1))
    cx = (ii.ravel() + 0.5) * grid_deg  # not wrapped yet: clamping needs one side
    ys = (jj.ravel() + 0.5) * grid_deg
    ok = (ys > -90) & (ys < 90)
    cx, ys = cx[ok], ys[ok]
    dist = haversine_km_many_pairs(np.clip(ys, y0, y1), np.clip(cx, x0, x1), ys, cx)
    reach_km = max(reach_km, min_km + 2 * grid_deg * _KM_PER_DEG)
    ok = (dist >= min_km) & (dist <= reach_km)
    xs, ys, dist = (cx[ok] + 180.0) % 360.0 - 180.0, ys[ok], dist[ok]
    order = np.lexsort((np.round(ys, 6), np.round(xs, 6), np.round(dist, 9)))
    return xs[order], ys[order], dist[order]


def _candidates_many(
    cells: list[tuple[int, int]], min_km: float, reach_km: float, grid_deg: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_candidates` of many cells at once: (cell number, lon, lat) of every candidate,
    by cell, each cell's candidates in `_candidates` order (the same values: the same
    arithmetic, element by element). For rings well below the half-globe width that
    `_candidates` caps at."""
    shapes: dict[tuple[int, int], list[int]] = {}
    reach_deg = reach_km / _KM_PER_DEG + grid_deg
    for j, (_, cy) in enumerate(cells):
        bottom = cy * grid_deg
        coslat = max(math.cos(math.radians(min(abs(bottom), abs(bottom + grid_deg)))), 0.05)
        n_lat = math.ceil(reach_deg / grid_deg) + 1
        n_lon = min(math.ceil(reach_deg / coslat / grid_deg) + 1, int(180 / grid_deg))
        shapes.setdefault((n_lon, n_lat), []).append(j)
    reach_km = max(reach_km, min_km + 2 * grid_deg * _KM_PER_DEG)
    parts = []
    for (n_lon, n_lat), group in shapes.items():
        ci = np.array([cells[j][0] for j in group], dtype=np.int64)[:, None]
        cj = np.array([cells[j][1] for j in group], dtype=np.int64)[:, None]
        di, dj = np.meshgrid(np.arange(-n_lon, n_lon + 1), np.arange(-n_lat, n_lat + 1))
        cx = (ci + di.ravel() + 0.5) * grid_deg
        ys = (cj + dj.ravel() + 0.5) * grid_deg
        x0, y0 = ci * grid_deg, cj * grid_deg
        dist = haversine_km_many_pairs(np.clip(ys, y0, y0 + grid_deg),
                                       np.clip(cx, x0, x0 + grid_deg), ys, cx)
        ok = (ys > -90) & (ys < 90) & (dist >= min_km) & (dist <= reach_km)
        owner = np.broadcast_to(np.array(group, dtype=np.int64)[:, None], ok.shape)[ok]
        parts.append((owner, (cx[ok] + 180.0) % 360.0 - 180.0, ys[ok], dist[ok]))
    owner, xs, ys, dist = (np.concatenate([p[k] for p in parts]) for k in range(4))
    order = np.lexsort((np.round(ys, 6), np.round(xs, 6), np.round(dist, 9), owner))
    return owner[order], xs[order], ys[order]


def haversine_km_many_pairs(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle km between pairs of points (element-wise)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
