"""The PostGIS backend: the registry in PostgreSQL for hosted, multi-editor use.

Search runs in SQL with the same semantics as `rcm_map.search.query.search`:

* filters: bitmasks for service types and populations (`&`), NULL age bounds as
  open, `languages && array`, `country = ANY`, accent-folded free text
  (`strpos` on a `search_text` column folded in Python by `rcm_map.core.text.fold`, so
  folding is identical to the file backend; no `unaccent` needed);
* proximity on the PUBLIC point (`public_geog`, GiST-indexed): nearest-k with the
  KNN operator `<->` then an exact re-sort by (distance, id); radius with
  `ST_DWithin(public_geog, point, metres, false)`.

Distances. `ST_Distance(a, b, false)` and geography `<->` use a sphere of radius
(2a + b) / 3 of WGS84 = 6,371,008.7714 m; `rcm_map.core.geo` uses the IUGG mean radius
6,371,008.8 m. The two differ by 4.5e-9 (1.5 cm over 3,400 km), and we scale
PostGIS distances by `SPHERE_SCALE` so both backends report the same km and cut a
radius at the same place (to float rounding).

Confidential services: the columns a query filters, sorts or returns are derived
from the public view (`base.public_feature`): public point, address withheld,
search text without the address. The true point (`geog`) and `props` are read only
by `get(public=False)`, `all_features` and the history, for focal points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
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
from rcm_map.store.base import (
    ChangeRecord,
    ConflictError,
    Diff,
    Feature,
    NotFoundError,
    Report,
    ServiceChange,
    Store,
    StoredService,
    StoreError,
    UpdateRejected,
    canonical_feature,
    conflict_message,
    public_feature,
    search_text_of,
    validate_report,
    validate_update,
    version_conflicts,
)
from rcm_map.store.pgcount import MatchCounts, filter_key
from rcm_map.store.pgpool import PoolSettings, connect_once, open_pool, transaction

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
# radius and sorting them (a bitmap scan: ~60 ms in a dense city at 100k services,
# growing with the registry). These settings, for the search's own transaction only
# (set in the statement that reads the registry version: no extra round trip), leave
# it the ordered index scan; the other statements of a search have no cheaper plan
# they would lose.
# JIT compiling a search's statements costs 100-1,500 ms, far more than it saves on
# them (the bitmask filters over a million rows, or a plan made costly by the settings
# above, pass `jit_above_cost`): off for every search, in the same statement.
_NO_JIT = ", set_config('jit', 'off', true) AS no_jit"
_KNN_SETTINGS = (", set_config('enable_bitmapscan', 'off', true) AS no_bitmap"
                 ", set_config('enable_sort', 'off', true) AS no_sort")

_SERVICE_COLUMNS = (
    "id", "country", "admin1", "name", "props", "geog", "public_geog", "public_lon",
    "public_lat", "service_bits", "population_bits", "age_min", "age_max", "languages",
    "source_date", "verified_on", "search_text", "version", "updated_by",
)


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        raise StoreError("the PostGIS store needs psycopg 3: pip install 'psycopg[binary]'"
                         ) from exc
    return psycopg


def row_of(feature: Feature, version: int, user: str) -> dict[str, Any]:
    """The column values of one service (filters derived from its public view)."""
    true = canonical_feature(feature)
    pub = public_feature(true)
    props = pub["properties"]
    point = true["geometry"]["coordinates"] if true["geometry"] else None
    ppoint = pub["geometry"]["coordinates"] if pub["geometry"] else None
    source_date, verified_on = props.get("source_date") or None, props.get("verified_on") or None
    return {
        "id": props["id"], "country": props["country"], "admin1": props.get("admin1") or "",
        "name": props["name"], "props": true["properties"],
        "geog": _wkt(point), "public_geog": _wkt(ppoint),
        "public_lon": ppoint[0] if ppoint else None, "public_lat": ppoint[1] if ppoint else None,
        "service_bits": mask_of(props["service_types"], schema.SERVICE_TYPES),
        "population_bits": mask_of(props["populations"], schema.POPULATIONS),
        "age_min": props.get("age_min"), "age_max": props.get("age_max"),
        "languages": list(props.get("languages") or []),
        "source_date": dt.date.fromisoformat(source_date) if source_date else None,
        "verified_on": dt.date.fromisoformat(verified_on) if verified_on else None,
        "search_text": search_text_of(props), "version": version, "updated_by": user,
    }


def _wkt(point: list[float] | None) -> str | None:
    return None if point is None else f"SRID=4326;POINT({point[0]!r} {point[1]!r})"


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


class PostGISStore(Store):
    """The registry in PostgreSQL + PostGIS.

    Parameters
    ----------
    url : str
        A libpq connection string or URL (postgresql://user@host/db?host=/socket/dir).
    migrate : bool
        Apply pending schema migrations on opening (needs the right to CREATE).
    check_countries : bool
        Check at import that points lie in their country (bundled boundaries).
    """

    def __init__(self, url: str, *, migrate: bool = True, check_countries: bool = True,
                 pool: PoolSettings | None = None) -> None:
        self.url = url
        self.check_countries = check_countries
        self._psycopg = _import_psycopg()
        self.pool_settings = pool or PoolSettings.from_env()
        if migrate:
            from rcm_map.store.migrate import migrate as run_migrations

            with connect_once(url, self.pool_settings) as conn:
                run_migrations(conn)
        self._pool = open_pool(url, self.pool_settings)
        self.match_counts = MatchCounts()
        if migrate:  # rows written by an earlier version: today's stand-ins
            self.refresh_public_rows()

    def __repr__(self) -> str:
        return "PostGISStore(<url hidden>)"  # the URL may hold a password

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """A pooled connection inside one transaction, committed on success
        (StoreUnavailable when the database cannot be reached; a value PostgreSQL
        refuses, such as NUL in text, is a StoreError naming it)."""
        try:
            with transaction(self._pool) as conn:
                yield conn
        except self._psycopg.DataError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"the database refused a value: {first}; nothing was saved"
                             ) from None

    def close(self) -> None:
        """Close the pool and its connections."""
        self._pool.close()

    def registry_version(self) -> int:
        """A counter that moves with every committed change to the services.

        Bumped by a trigger (migration 0003) for any write, the store's or not;
        one indexed single-row read, cheap enough to check on every page rerun.
        """
        with self._tx() as conn:
            return int(conn.execute("SELECT version FROM registry_state").fetchone()["version"])

    def count(self) -> int:
        """How many services the registry holds."""
        with self._tx() as conn:
            return int(conn.execute("SELECT count(*) AS n FROM services").fetchone()["n"])

    def facets(self) -> tuple[list[str], list[str]]:
        """The spoken-language codes and admin-1 codes in use (for filter choices)."""
        with self._tx() as conn:
            langs = conn.execute("SELECT DISTINCT unnest(languages) AS c FROM services")
            admin1 = conn.execute("SELECT DISTINCT admin1 AS c FROM services WHERE admin1 <> ''")
            found = [r["c"] for r in langs.fetchall()], [r["c"] for r in admin1.fetchall()]
        return sorted(found[0]), sorted(found[1])  # code-point order, as the file reader

    def public_features(self) -> list[Feature]:
        """Every service as the public may see it (`base.public_feature`), sorted by id."""
        with self._tx() as conn:
            rows = conn.execute("SELECT props, public_lon, public_lat FROM services "
                                'ORDER BY id COLLATE "C"').fetchall()
        out = []
        for row in rows:
            shown = public_feature({"type": "Feature", "geometry": None,
                                    "properties": _ordered(row["props"])})
            if row["public_lon"] is not None:
                shown["geometry"] = {"type": "Point",
                                     "coordinates": [row["public_lon"], row["public_lat"]]}
            out.append(shown)
        return out

    def _lock_country(self, conn: Any, country: str) -> None:
        """Serialise writers of one country (the lock ends with the transaction)."""
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                     (f"rcm_map:country:{country}",))

    # --- reading --------------------------------------------------------------------

    def search(self, query: Query) -> SearchResult:
        """The search in one round trip (pipeline) when the match count is cached:
        the version read, the located rows and the country-wide rows are sent
        together; a count not cached yet costs one more statement."""
        problems = query.problems()
        if problems:
            raise ValueError("; ".join(problems))
        where, params = where_clause(query)
        knn = _KNN_SETTINGS if query.near is not None and query.limit is not None else ""
        with self._tx() as conn:
            with conn.pipeline():
                state_cur = conn.execute(f"SELECT version, xmin::text AS row_tx{_NO_JIT}{knn} "  # noqa: S608
                                         "FROM registry_state")
                rows_cur = self._located(conn, query, where, params)
                wide_cur = self._countrywide(conn, query, where, params)
            state = state_cur.fetchone()
            rows, wide = rows_cur.fetchall(), wide_cur.fetchall()
            # The version was read before counting: a write in between only stores a
            # newer count under a key no later search asks for.
            total = self.match_counts.get_or_count(
                filter_key((int(state["version"]), state["row_tx"]), where, params),
                lambda: conn.execute(f"SELECT count(*) AS n FROM services WHERE {where} "  # noqa: S608
                                     "AND public_geog IS NOT NULL", params).fetchone()["n"])
        located = _located_frame(rows, query.near is not None)
        countrywide = _countrywide_frame(wide)
        return SearchResult(located=located, countrywide=countrywide, total_matching=int(total))

    def _located(self, conn: Any, query: Query, where: str, params: dict[str, Any]) -> Any:
        """Send the query for located services (a cursor to fetch from)."""
        if query.near is not None:
            return self._nearest(conn, query, where, params)
        limit = "LIMIT %(limit)s" if query.limit is not None else ""
        return conn.execute(
            f"SELECT props, public_lon, public_lat FROM services WHERE {where} "  # noqa: S608
            f"AND public_geog IS NOT NULL ORDER BY country {_C}, name {_C}, id {_C} "
            f"{limit}", {**params, "limit": query.limit})

    def _countrywide(self, conn: Any, query: Query, where: str, params: dict[str, Any]
                     ) -> Any:
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

    def _nearest(self, conn: Any, query: Query, where: str, params: dict[str, Any]) -> Any:
        """Send the nearest / within-radius query (a cursor to fetch from)."""
        lat, lon = validate_lat_lon(*query.near)  # type: ignore[misc]
        params = {**params, "lon": lon, "lat": lat}
        point = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
        conds = f"{where} AND public_geog IS NOT NULL"
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
                      f"services WHERE {conds} ORDER BY public_geog <-> {point} "
                      "LIMIT %(limit)s) AS knn), false)")
            limit = "LIMIT %(limit)s"
        return conn.execute(
            f"SELECT props, public_lon, public_lat, "  # noqa: S608
            f"ST_Distance(public_geog, {point}, false) AS dist_m FROM services "
            f"WHERE {conds} ORDER BY dist_m, id {_C} {limit}", params)

    def get(self, service_id: str, *, public: bool = True) -> StoredService:
        with self._tx() as conn:
            row = conn.execute(f"{_SELECT_STORED} WHERE id = %s", (service_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"database: no service with id {service_id!r}")
        stored = _stored(row)
        if public:
            return StoredService(public_feature(stored.feature), stored.version,
                                 stored.updated_at, stored.updated_by)
        return stored

    def all_features(self, country: str | None = None) -> list[StoredService]:
        with self._tx() as conn:
            return self._services(conn, country)

    def _services(self, conn: Any, country: str | None) -> list[StoredService]:
        where = "WHERE country = %(c)s" if country else ""
        rows = conn.execute(f"{_SELECT_STORED} {where} ORDER BY id {_C}", {"c": country})
        return [_stored(r) for r in rows.fetchall()]

    def _ids_outside(self, country: str) -> dict[str, str]:
        with self._tx() as conn:
            rows = conn.execute("SELECT id, country FROM services WHERE country <> %s",
                                (country,)).fetchall()
        return {r["id"]: r["country"] for r in rows}

    def _current_version(self, service_id: str) -> int | None:
        with self._tx() as conn:
            return self._version(conn, service_id)

    def _version(self, conn: Any, service_id: str) -> int | None:
        row = conn.execute("SELECT version FROM services WHERE id = %s",
                           (service_id,)).fetchone()
        return None if row is None else int(row["version"])

    # --- writing --------------------------------------------------------------------

    def apply_update(self, diff: Diff, user: str, *, note: str = "") -> int:
        with self._tx() as conn:
            self._lock_country(conn, diff.country)
            rows = conn.execute("SELECT id, version, updated_by FROM services "
                                "WHERE country = %s", (diff.country,)).fetchall()
            now = {r["id"]: r["version"] for r in rows}
            conflicts = version_conflicts(diff.base_versions, now)
            for change in diff.added:
                elsewhere = self._version(conn, change.service_id)
                if change.service_id not in now and elsewhere is not None:
                    conflicts.append((change.service_id, None, elsewhere))
            if conflicts:
                users = {r["id"]: r["updated_by"] for r in rows}
                raise ConflictError(conflict_message(diff.country, conflicts, users), conflicts)
            summary = diff.summary() + (f" - {note}" if note else "")
            return self._record(conn, [(c.service_id, c.after) for c in diff.changes], user,
                                "import", diff.country, summary, None)

    def update_service(self, service_id: str, feature: Feature, expected_version: int,
                       user: str, *, action: str = "edit", summary: str = "") -> int:
        country = self._country_of(service_id)
        found, _ = validate_update(country, [feature], {}, file=f"edit of {service_id}",
                                   check_countries=self.check_countries)
        props = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(props, dict) and props.get("id") != service_id:
            found.append(schema.Issue(f"an edit cannot change the id (editing {service_id!r})",
                                      f"edit of {service_id}", 0, service_id, "id",
                                      props.get("id")))
        if found:
            raise UpdateRejected(found)
        with self._tx() as conn:
            self._lock_country(conn, country)
            self._check_versions(conn, country, {service_id: expected_version})
            self._record(conn, [(service_id, feature)], user, action, country,
                         summary or f"edited {service_id}", None)
            return self._version(conn, service_id) or 0

    def _country_of(self, service_id: str) -> str:
        with self._tx() as conn:
            row = conn.execute("SELECT country FROM services WHERE id = %s",
                               (service_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"database: no service with id {service_id!r}")
        return str(row["country"])

    def _check_versions(self, conn: Any, country: str, expected: dict[str, int | None]) -> None:
        rows = conn.execute("SELECT id, version, updated_by FROM services WHERE id = ANY(%s)",
                            (list(expected),)).fetchall()
        conflicts = version_conflicts(expected, {r["id"]: r["version"] for r in rows})
        if conflicts:
            users = {r["id"]: r["updated_by"] for r in rows}
            raise ConflictError(conflict_message(country, conflicts, users), conflicts)

    def _restore_states(self, country: str, targets: dict[str, tuple[Feature | None, int | None]],
                        user: str, restored_from: int) -> int:
        with self._tx() as conn:
            self._lock_country(conn, country)
            self._check_versions(conn, country, {k: v for k, (_, v) in targets.items()})
            changes = [(fid, state) for fid, (state, _) in sorted(targets.items())]
            summary = f"restored {len(changes)} services as before change {restored_from}"
            return self._record(conn, changes, user, "restore", country, summary, restored_from)

    def _record(self, conn: Any, changes: list[tuple[str, Feature | None]], user: str,
                action: str, country: str, summary: str, restored_from: int | None) -> int:
        """Write services and history for (id, new state or None) pairs; return change id."""
        from psycopg.types.json import Jsonb

        ids = [fid for fid, _ in changes]
        old = {s.id: s for s in self._stored_many(conn, ids)}
        top = {r["service_id"]: r["top"] for r in conn.execute(
            "SELECT service_id, max(version_after) AS top FROM service_changes "
            "WHERE service_id = ANY(%s) GROUP BY service_id", (ids,)).fetchall()}
        change_id = conn.execute(
            "INSERT INTO changes (username, action, country, summary, restored_from) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING change_id",
            (user, action, country, summary, restored_from)).fetchone()["change_id"]
        history: list[tuple[Any, ...]] = []
        upserts: list[Any] = []
        deletes: list[str] = []
        for fid, state in changes:
            before = old.get(fid)
            if state is None:
                deletes.append(fid)
                history.append((change_id, fid, "removed", before.version if before else None,
                                None, Jsonb(before.feature) if before else None, None))
                continue
            new = canonical_feature(state)
            version = max(top.get(fid) or 0, before.version if before else 0) + 1
            upserts.append(row_of(new, version, user))
            history.append((change_id, fid, "changed" if before else "added",
                            before.version if before else None, version,
                            Jsonb(before.feature) if before else None, Jsonb(new)))
        if deletes:
            conn.execute("DELETE FROM services WHERE id = ANY(%s)", (deletes,))
        if upserts:
            self._upsert(conn, upserts)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO service_changes (change_id, service_id, action, "
                            "version_before, version_after, before, after) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s)", history)
        return int(change_id)

    def _upsert(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        from psycopg.types.json import Jsonb

        cols = ", ".join(_SERVICE_COLUMNS)
        values = ", ".join(f"%({c})s" for c in _SERVICE_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _SERVICE_COLUMNS if c != "id")
        sql = (f"INSERT INTO services ({cols}, updated_at) VALUES ({values}, now()) "  # noqa: S608
               f"ON CONFLICT (id) DO UPDATE SET {updates}, updated_at = now()")
        with conn.cursor() as cur:
            cur.executemany(sql, [{**r, "props": Jsonb(r["props"])} for r in rows])

    def refresh_public_rows(self) -> int:
        """Recompute the public columns of confidential services; return how many changed.

        The public point and text are derived when a row is written, so rows written
        by an earlier version keep its stand-ins (issue 12: some across a border) until
        refreshed here, on opening. Only confidential rows can differ.
        """
        with self._tx() as conn:
            rows = conn.execute(f"{_SELECT_STORED} WHERE props->>'location_precision' = "
                                "'confidential' FOR UPDATE").fetchall()
            current = {r["id"]: r for r in conn.execute(
                "SELECT id, public_lon, public_lat, search_text FROM services "
                "WHERE props->>'location_precision' = 'confidential'").fetchall()}
            stale = []
            for stored in map(_stored, rows):
                fresh = row_of(stored.feature, stored.version, stored.updated_by)
                now = current[fresh["id"]]
                if (now["public_lon"], now["public_lat"], now["search_text"]) != (
                        fresh["public_lon"], fresh["public_lat"], fresh["search_text"]):
                    stale.append(fresh)
            if stale:
                with conn.cursor() as cur:
                    cur.executemany(
                        "UPDATE services SET public_geog = %(public_geog)s, public_lon = "
                        "%(public_lon)s, public_lat = %(public_lat)s, search_text = "
                        "%(search_text)s WHERE id = %(id)s", stale)
        return len(stale)

    def _stored_many(self, conn: Any, ids: list[str]) -> list[StoredService]:
        rows = conn.execute(f"{_SELECT_STORED} WHERE id = ANY(%s)", (ids,)).fetchall()
        return [_stored(r) for r in rows]

    # --- history --------------------------------------------------------------------

    def history(self, *, country: str | None = None, service_id: str | None = None,
                limit: int = 50) -> list[ChangeRecord]:
        conds = ["TRUE"]
        params: dict[str, Any] = {"limit": int(limit)}
        if country:  # the change's own country, or that of any state it touched
            conds.append("(country = %(country)s OR change_id IN (SELECT change_id FROM "
                         "service_changes WHERE before->'properties'->>'country' = %(country)s"
                         " OR after->'properties'->>'country' = %(country)s))")
            params["country"] = country
        if service_id:
            conds.append("change_id IN (SELECT change_id FROM service_changes "
                         "WHERE service_id = %(sid)s)")
            params["sid"] = service_id
        with self._tx() as conn:
            rows = conn.execute(f"SELECT * FROM changes WHERE {' AND '.join(conds)} "  # noqa: S608
                                "ORDER BY change_id DESC LIMIT %(limit)s", params).fetchall()
            return [self._record_of(conn, r) for r in rows]

    def change(self, change_id: int) -> ChangeRecord:
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM changes WHERE change_id = %s",
                               (int(change_id),)).fetchone()
            if row is None:
                raise NotFoundError(f"database: no change with id {change_id!r}")
            return self._record_of(conn, row)

    def _record_of(self, conn: Any, row: dict[str, Any]) -> ChangeRecord:
        services = [
            ServiceChange(s["service_id"], s["action"], _feature(s["before"]),
                          _feature(s["after"]), s["version_before"], s["version_after"])
            for s in conn.execute(f"SELECT * FROM service_changes WHERE change_id = %s "  # noqa: S608
                                  f"ORDER BY service_id {_C}", (row["change_id"],)).fetchall()
        ]
        return ChangeRecord(int(row["change_id"]), _iso(row["at"]), row["username"],
                            row["action"], row["country"], row["summary"],
                            row["restored_from"], services)

    # --- reports --------------------------------------------------------------------

    def report_problem(self, service_id: str, kind: str, comment: str = "") -> int:
        validate_report(kind, comment)
        country = self._country_of(service_id)
        with self._tx() as conn:
            row = conn.execute("INSERT INTO reports (service_id, country, kind, comment) "
                               "VALUES (%s, %s, %s, %s) RETURNING report_id",
                               (service_id, country, kind, comment.strip())).fetchone()
        return int(row["report_id"])

    def open_reports(self, country: str | None = None) -> list[Report]:
        cond = "AND country = %(c)s" if country else ""
        with self._tx() as conn:
            rows = conn.execute(f"SELECT * FROM reports WHERE status = 'open' {cond} "  # noqa: S608
                                "ORDER BY report_id", {"c": country}).fetchall()
        return [_report(r) for r in rows]

    def report(self, report_id: int) -> Report:
        """One report, open or resolved."""
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM reports WHERE report_id = %s",
                               (int(report_id),)).fetchone()
        if row is None:
            raise NotFoundError(f"database: no report with id {report_id!r}")
        return _report(row)

    def resolve_report(self, report_id: int, user: str, note: str = "") -> None:
        with self._tx() as conn:
            row = conn.execute("SELECT status FROM reports WHERE report_id = %s FOR UPDATE",
                               (int(report_id),)).fetchone()
            if row is None:
                raise NotFoundError(f"database: no report with id {report_id!r}")
            if row["status"] != "open":
                raise StoreError(f"report {report_id} is already {row['status']}")
            conn.execute("UPDATE reports SET status = 'resolved', resolved_by = %s, "
                         "resolved_at = clock_timestamp(), resolution_note = %s "
                         "WHERE report_id = %s", (user, note.strip(), int(report_id)))


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


_SELECT_STORED = ("SELECT props, ST_X(geog::geometry) AS lon, ST_Y(geog::geometry) AS lat, "
                  "version, updated_at, updated_by FROM services")


def _ordered(props: dict[str, Any]) -> dict[str, Any]:
    return {name: props.get(name, schema.empty_value(name)) for name in schema.FIELD_NAMES}


def _stored(row: dict[str, Any]) -> StoredService:
    geometry = (None if row["lon"] is None
                else {"type": "Point", "coordinates": [row["lon"], row["lat"]]})
    feature = {"type": "Feature", "geometry": geometry, "properties": _ordered(row["props"])}
    return StoredService(feature, int(row["version"]), _iso(row["updated_at"]),
                         row["updated_by"])


def _feature(value: Any) -> Feature | None:
    if value is None:
        return None
    return {"type": "Feature", "geometry": value.get("geometry"),
            "properties": _ordered(value["properties"])}


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else str(value or "")


def _report(row: dict[str, Any]) -> Report:
    return Report(int(row["report_id"]), row["service_id"], row["country"], row["kind"],
                  row["comment"], _iso(row["created_at"]), row["status"], row["resolved_by"],
                  _iso(row["resolved_at"]), row["resolution_note"])


def _public_columns(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Schema columns of public rows, with the dtypes the engine's frames have."""
    records = [public_feature({"type": "Feature", "geometry": None,
                               "properties": _ordered(r["props"])})["properties"]
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


__all__ = ["POSTGIS_SPHERE_RADIUS_M", "SPHERE_SCALE", "PostGISStore", "row_of", "where_clause"]
