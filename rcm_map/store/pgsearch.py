"""The search SQL of the PostGIS store, with the same semantics as
`rcm_map.search.query.search`.

* filters: bitmasks for service types and populations (`&`), NULL age bounds as
  open, `languages && array`, `country = ANY`, accent-folded free text
  (`strpos` on a `search_text` column folded in Python by `rcm_map.core.text.fold`, so
  folding is identical to the file backend; no `unaccent` needed);
* proximity on the PUBLIC point: nearest-k with the KNN operator `<->` then an
  exact re-sort by (distance, id); radius with `ST_DWithin(public_geog, point,
  metres, false)`. Both walk `service_filters` (migration 0005: the public point,
  GiST-indexed, and the filtered columns of each located service, no properties)
  and join only the chosen services to `services`; the match count scans it too.

Distances. `ST_Distance(a, b, false)` and geography `<->` use a sphere of radius
(2a + b) / 3 of WGS84 = 6,371,008.7714 m; `rcm_map.core.geo` uses the IUGG mean radius
6,371,008.8 m. The two differ by 4.5e-9 (1.5 cm over 3,400 km), and we scale
PostGIS distances by `SPHERE_SCALE` so both backends report the same km and cut a
radius at the same place (to float rounding).

Belongs here: turning a `Query` into SQL and the rows back into the engine's
frames. Only public columns are read. May import `core`, `registry`, `search`,
`store.pgrows` and `store.pgcount`; `store.postgis` calls `search` inside its
own transaction.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from rcm_map.core import schema
from rcm_map.core.geo import EARTH_RADIUS_KM, validate_lat_lon
from rcm_map.core.safety import distance_band
from rcm_map.core.text import fold
from rcm_map.registry.model import mask_of
from rcm_map.search.query import Query, SearchResult, admin1_near_point
from rcm_map.store.diffing import public_feature
from rcm_map.store.pgcount import MatchCounts, filter_key
from rcm_map.store.pgrows import ordered

WGS84_A = 6378137.0
WGS84_B = WGS84_A * (1 - 1 / 298.257223563)
POSTGIS_SPHERE_RADIUS_M = (2 * WGS84_A + WGS84_B) / 3  # 6371008.7714...
SPHERE_SCALE = EARTH_RADIUS_KM * 1000 / POSTGIS_SPHERE_RADIUS_M
_C = 'COLLATE "C"'  # code-point order, as Python sorts strings
# `noqa: S608` below: SQL is assembled only from fixed fragments of this module;
# every value is a bound parameter.

# A nearest-k search must walk the GiST index in distance order and stop after k
# matches. The planner cannot estimate bitmask and open-age filters, guesses a handful
# of matches in the whole radius, and then prefers reading every service within the
# radius and sorting them (a bitmap scan, growing with the services in the radius).
# These settings, for the search's own transaction only (set in the statement that
# reads the registry version: no extra round trip), leave it the ordered index scan;
# the other statements of a search have no cheaper plan they would lose.
# JIT compiling a search's statements costs 100-1,500 ms, far more than it saves on
# them (a plan made costly by these settings passes `jit_above_cost`): off for every
# search, in the same statement.
_NO_JIT = ", set_config('jit', 'off', true) AS no_jit"
_KNN_SETTINGS = (", set_config('enable_bitmapscan', 'off', true) AS no_bitmap"
                 ", set_config('enable_sort', 'off', true) AS no_sort")


def where_clause(query: Query) -> tuple[str, dict[str, Any]]:
    """SQL conditions (joined with AND) and parameters for a query's filters."""
    conds: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if query.service_types:
        conds.append("(service_bits & %(sbits)s) <> 0")
        params["sbits"] = mask_of(query.service_types, schema.SERVICE_TYPES)
    if query.populations:
        conds.append("(population_bits & %(pbits)s) <> 0")
        params["pbits"] = mask_of(query.populations, schema.POPULATIONS)
    if query.age is not None:
        conds.append("(age_min IS NULL OR age_min <= %(age)s) "
                     "AND (age_max IS NULL OR %(age)s <= age_max)")
        params["age"] = int(query.age)
    if query.age_band is not None:
        lo, hi = schema.AGE_BANDS[query.age_band]
        conds.append("(age_min IS NULL OR age_min <= %(band_hi)s) "
                     "AND (age_max IS NULL OR %(band_lo)s <= age_max)")
        params.update(band_lo=lo, band_hi=hi)
    if query.languages:
        conds.append("languages && %(langs)s::text[]")
        params["langs"] = list(query.languages)
    if query.countries:
        conds.append("country = ANY(%(countries)s)")
        params["countries"] = list(query.countries)
    if query.admin1:
        conds.append("admin1 = ANY(%(admin1)s)")
        params["admin1"] = list(query.admin1)
    if query.verified_since is not None:
        conds.append("verified_on >= %(since)s")  # a real verification, never a source date
        params["since"] = query.verified_since
    needle = fold(query.text) if query.text.strip() else ""
    if needle:
        conds.append("strpos(search_text, %(needle)s) > 0")
        params["needle"] = needle
    return " AND ".join(conds), params


def search(conn: Any, query: Query, match_counts: MatchCounts) -> SearchResult:
    """Run a (valid) query in the transaction `conn`, as `rcm_map.search.query.search` does.

    `match_counts` caches the count of matches per registry version and filter. One
    round trip (a pipeline) when the count is cached: the version read, the located
    rows and the country-wide rows are sent together; a count not cached yet costs
    one more statement.
    """
    where, params = where_clause(query)
    knn = _KNN_SETTINGS if query.near is not None and query.limit is not None else ""
    with conn.pipeline():
        state_cur = conn.execute(f"SELECT version, xmin::text AS row_tx{_NO_JIT}{knn} "  # noqa: S608
                                 "FROM registry_state")
        rows_cur = _located(conn, query, where, params)
        wide_cur = _countrywide(conn, query, where, params)
    state = state_cur.fetchone()
    rows, wide = rows_cur.fetchall(), wide_cur.fetchall()
    # The version was read before counting: a write in between only stores a
    # newer count under a key no later search asks for.
    total = match_counts.get_or_count(
        filter_key((int(state["version"]), state["row_tx"]), where, params),
        lambda: conn.execute(f"SELECT count(*) AS n FROM service_filters "  # noqa: S608
                             f"WHERE {where}", params).fetchone()["n"])
    located = _located_frame(rows, query.near is not None)
    countrywide = _countrywide_frame(wide)
    return SearchResult(located=located, countrywide=countrywide, total_matching=int(total))


def _located(conn: Any, query: Query, where: str, params: dict[str, Any]) -> Any:
    """Send the query for located services (a cursor to fetch from)."""
    if query.near is not None:
        return _nearest(conn, query, where, params)
    limit = "LIMIT %(limit)s" if query.limit is not None else ""
    return conn.execute(
        f"SELECT props, public_lon, public_lat FROM services WHERE {where} "  # noqa: S608
        f"AND public_geog IS NOT NULL ORDER BY country {_C}, name {_C}, id {_C} "
        f"{limit}", {**params, "limit": query.limit})


def _countrywide(conn: Any, query: Query, where: str, params: dict[str, Any]) -> Any:
    """Send the query for country-wide services (a cursor to fetch from)."""
    params = dict(params)
    near_countries = _countrywide_countries(query)
    if near_countries is not None:
        where += " AND country = ANY(%(near_countries)s)"
        params["near_countries"] = near_countries
    if query.near is not None:
        # A province-wide service only where the point is in (or near) it.
        where += " AND (admin1 = '' OR admin1 = ANY(%(near_admin1)s))"
        params["near_admin1"] = admin1_near_point(*query.near)
    return conn.execute(
        f"SELECT props FROM services WHERE {where} AND public_geog IS NULL "  # noqa: S608
        f"ORDER BY country {_C}, name {_C}, id {_C}", params)


def _nearest(conn: Any, query: Query, where: str, params: dict[str, Any]) -> Any:
    """Send the nearest / within-radius query, exact distance then id (a cursor).

    The services are chosen in `service_filters` (migration 0005: the public point
    and the filtered columns, no properties); only the chosen rows are joined to
    `services` for their properties.
    """
    lat, lon = validate_lat_lon(*query.near)  # type: ignore[misc]
    params = {**params, "lon": lon, "lat": lat}
    point = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
    conds = where
    if query.radius_km is not None:
        params["radius_m"] = query.radius_km * 1000 / SPHERE_SCALE
        conds += f" AND ST_DWithin(public_geog, {point}, %(radius_m)s, false)"
    limit = ""
    if query.limit is not None:
        # KNN (index-assisted, in distance order) finds k candidates; the largest
        # of their exact distances bounds the true k nearest, so the exact re-sort
        # by (distance, id) keeps every tie (+1 m covers rounding in ST_DWithin).
        # No candidate: the bound is NULL and nothing is returned.
        params["limit"] = query.limit
        conds += (f" AND ST_DWithin(public_geog, {point}, (SELECT max(ST_Distance("  # noqa: S608
                  f"public_geog, {point}, false)) + 1.0 FROM (SELECT public_geog FROM "
                  f"service_filters WHERE {conds} ORDER BY public_geog <-> {point} "
                  "LIMIT %(limit)s) AS knn), false)")
        limit = "LIMIT %(limit)s"
    return conn.execute(
        "SELECT s.props, s.public_lon, s.public_lat, f.dist_m FROM ("  # noqa: S608
        f"SELECT id, ST_Distance(public_geog, {point}, false) AS dist_m FROM service_filters "
        f"WHERE {conds} ORDER BY dist_m, id {_C} {limit}) AS f JOIN services AS s "
        f"USING (id) ORDER BY f.dist_m, f.id {_C}", params)


def _countrywide_countries(query: Query) -> list[str] | None:
    """Countries whose country-wide services a query near a point lists (None: all).

    Mirrors `rcm_map.search.query.search`: with `near` and no country filter, only the
    country (or countries, near a border) around the point (and, in `search`, only
    the provinces around it: `admin1_near_point`).
    """
    if query.near is None or query.countries:
        return None
    from rcm_map.search.query import countries_at

    return list(countries_at(*query.near))


def _public_columns(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Schema columns of public rows, with the dtypes the engine's frames have."""
    records = [public_feature({"type": "Feature", "geometry": None,
                               "properties": ordered(r["props"])})["properties"]
               for r in rows]
    columns: dict[str, Any] = {}
    for name in schema.FIELD_NAMES:
        values = [rec[name] for rec in records]
        if name in ("age_min", "age_max"):
            columns[name] = pd.array(values, dtype="Int64")
        elif name in schema.LIST_FIELDS:
            columns[name] = pd.Series(values, dtype=object)
        else:
            columns[name] = pd.array(values, dtype="str")
    return columns


@lru_cache(maxsize=1)
def _empty_public_frame() -> pd.DataFrame:
    return pd.DataFrame(_public_columns([]))


def _located_frame(rows: list[dict[str, Any]], with_distance: bool) -> pd.DataFrame:
    """One frame built in one go (each added column cost a block insert)."""
    columns = _public_columns(rows)
    columns["lon"] = np.array([r["public_lon"] for r in rows], dtype=float)
    columns["lat"] = np.array([r["public_lat"] for r in rows], dtype=float)
    if with_distance:
        km = np.array([float(r["dist_m"]) * SPHERE_SCALE / 1000 for r in rows], dtype=float)
        columns["distance_km"] = np.round(km, 3)
        conf = [p == "confidential" for p in columns["location_precision"]]
        columns["distance_band"] = [distance_band(d) if c else "" for d, c in zip(
            km, conf, strict=True)]
    return pd.DataFrame(columns)


def _countrywide_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Country-wide services (none near most places: the empty frame is built once)."""
    if not rows:
        return _empty_public_frame().copy()
    return pd.DataFrame(_public_columns(rows))
