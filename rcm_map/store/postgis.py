"""The PostGIS backend: the registry in PostgreSQL for hosted, multi-editor use.

Belongs here: the connection pool and transactions, and the SQL of the hooks that
`store.base.Store` asks a backend for (read and write services, history rows,
reports). What a store does with them (version checks, undo, report rules) is in
`store.base`; the search SQL is in `store.pgsearch`, the row layout in
`store.pgrows`, the one-COPY seeding in `store.pgbulk`.

Confidential services: the columns a query filters, sorts or returns are derived
from the public view (`base.public_feature`): public point, address withheld,
search text without the address. The true point (`geog`) and `props` are read only
by `get(public=False)`, `all_features` and the history, for focal points.

May import `core`, `registry`, `search` and the modules of `store` named above.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from rcm_map.search.query import Query, SearchResult
from rcm_map.store import pgsearch
from rcm_map.store.base import (
    Change,
    ChangeRecord,
    Feature,
    Report,
    ServiceChange,
    Store,
    StoredService,
    StoreError,
    canonical_feature,
    public_feature,
)
from rcm_map.store.pgcount import MatchCounts
from rcm_map.store.pgpool import PoolSettings, connect_once, open_pool, transaction
from rcm_map.store.pgrows import (
    SELECT_STORED,
    feature_of,
    iso,
    ordered,
    report_of,
    row_of,
    stored_of,
    upsert,
)
from rcm_map.store.pgsearch import POSTGIS_SPHERE_RADIUS_M, SPHERE_SCALE, where_clause

_C = 'COLLATE "C"'  # code-point order, as Python sorts strings
# `noqa: S608` below: SQL is assembled only from fixed fragments of this module;
# every value is a bound parameter.


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        raise StoreError("the PostGIS store needs psycopg 3: pip install 'psycopg[binary]'"
                         ) from exc
    return psycopg


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

    where = "database"

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

    def service_points(self) -> np.ndarray:
        """(n, 2) public lat/lon of the located services that are not confidential
        (the place finder's ranking signal)."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT public_lat AS lat, public_lon AS lon FROM services "
                "WHERE public_lat IS NOT NULL "
                "AND props->>'location_precision' <> 'confidential'").fetchall()
        return np.array([(r["lat"], r["lon"]) for r in rows], dtype=float).reshape(-1, 2)

    def public_features(self) -> list[Feature]:
        """Every service as the public may see it (`base.public_feature`), sorted by id."""
        with self._tx() as conn:
            rows = conn.execute("SELECT props, public_lon, public_lat FROM services "
                                'ORDER BY id COLLATE "C"').fetchall()
        out = []
        for row in rows:
            shown = public_feature({"type": "Feature", "geometry": None,
                                    "properties": ordered(row["props"])})
            if row["public_lon"] is not None:
                shown["geometry"] = {"type": "Point",
                                     "coordinates": [row["public_lon"], row["public_lat"]]}
            out.append(shown)
        return out

    @contextmanager
    def _write_tx(self, country: str) -> Iterator[Any]:
        """A transaction holding the lock of one country's writers (ends with it)."""
        with self._tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                         (f"rcm_map:country:{country}",))
            yield conn

    # --- reading --------------------------------------------------------------------

    def search(self, query: Query) -> SearchResult:
        problems = query.problems()
        if problems:
            raise ValueError("; ".join(problems))
        with self._tx() as conn:
            return pgsearch.search(conn, query, self.match_counts)

    def _stored(self, conn: Any, service_id: str) -> StoredService | None:
        row = conn.execute(f"{SELECT_STORED} WHERE id = %s", (service_id,)).fetchone()  # noqa: S608
        return None if row is None else stored_of(row)

    def all_features(self, country: str | None = None) -> list[StoredService]:
        where = "WHERE country = %(c)s" if country else ""
        with self._tx() as conn:
            rows = conn.execute(f"{SELECT_STORED} {where} ORDER BY id {_C}",  # noqa: S608
                                {"c": country}).fetchall()
        return [stored_of(r) for r in rows]

    def _ids_outside(self, country: str) -> dict[str, str]:
        with self._tx() as conn:
            rows = conn.execute("SELECT id, country FROM services WHERE country <> %s",
                                (country,)).fetchall()
        return {r["id"]: r["country"] for r in rows}

    def _versions(self, conn: Any, *, country: str | None = None,
                  ids: list[str] | None = None) -> dict[str, tuple[int, str]]:
        if ids is not None:
            rows = conn.execute("SELECT id, version, updated_by FROM services "
                                "WHERE id = ANY(%s)", (ids,))
        else:
            rows = conn.execute("SELECT id, version, updated_by FROM services "
                                "WHERE country = %s", (country,))
        return {r["id"]: (int(r["version"]), r["updated_by"]) for r in rows.fetchall()}

    # --- writing --------------------------------------------------------------------

    def _commit(self, conn: Any, changes: list[Change], user: str, action: str,
                country: str, summary: str, restored_from: int | None, *,
                backup: bool = True) -> int:
        """Write services and history in one go (the database needs no file backup)."""
        from psycopg.types.json import Jsonb

        ids = [fid for fid, _ in changes]
        rows = conn.execute(f"{SELECT_STORED} WHERE id = ANY(%s)", (ids,)).fetchall()  # noqa: S608
        old = {s.id: s for s in map(stored_of, rows)}
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
            upsert(conn, upserts)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO service_changes (change_id, service_id, action, "
                            "version_before, version_after, before, after) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s)", history)
        return int(change_id)

    def refresh_public_rows(self) -> int:
        """Recompute the public columns of confidential services; return how many changed.

        The public point and text are derived when a row is written, so rows written
        by an earlier version keep its stand-ins (issue 12: some across a border) until
        refreshed here, on opening. Only confidential rows can differ.
        """
        with self._tx() as conn:
            rows = conn.execute(f"{SELECT_STORED} WHERE props->>'location_precision' = "
                                "'confidential' FOR UPDATE").fetchall()
            current = {r["id"]: r for r in conn.execute(
                "SELECT id, public_lon, public_lat, search_text FROM services "
                "WHERE props->>'location_precision' = 'confidential'").fetchall()}
            stale = []
            for stored in map(stored_of, rows):
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

    # --- history --------------------------------------------------------------------

    def _changes(self, *, change_id: int | None = None, country: str | None = None,
                 service_id: str | None = None, limit: int = 50) -> list[ChangeRecord]:
        conds = ["TRUE"]
        params: dict[str, Any] = {"limit": limit, "cid": change_id, "country": country,
                                  "sid": service_id}
        if change_id is not None:
            conds.append("change_id = %(cid)s")
        if country:  # the change's own country, or that of any state it touched
            conds.append("(country = %(country)s OR change_id IN (SELECT change_id FROM "
                         "service_changes WHERE before->'properties'->>'country' = %(country)s"
                         " OR after->'properties'->>'country' = %(country)s))")
        if service_id:
            conds.append("change_id IN (SELECT change_id FROM service_changes "
                         "WHERE service_id = %(sid)s)")
        with self._tx() as conn:
            rows = conn.execute(f"SELECT * FROM changes WHERE {' AND '.join(conds)} "  # noqa: S608
                                "ORDER BY change_id DESC LIMIT %(limit)s", params).fetchall()
            return [self._record_of(conn, r) for r in rows]

    def _record_of(self, conn: Any, row: dict[str, Any]) -> ChangeRecord:
        services = [
            ServiceChange(s["service_id"], s["action"], feature_of(s["before"]),
                          feature_of(s["after"]), s["version_before"], s["version_after"])
            for s in conn.execute(f"SELECT * FROM service_changes WHERE change_id = %s "  # noqa: S608
                                  f"ORDER BY service_id {_C}", (row["change_id"],)).fetchall()
        ]
        return ChangeRecord(int(row["change_id"]), iso(row["at"]), row["username"],
                            row["action"], row["country"], row["summary"],
                            row["restored_from"], services)

    # --- reports --------------------------------------------------------------------

    def _insert_report(self, conn: Any, service_id: str, country: str, kind: str,
                       comment: str) -> int:
        row = conn.execute("INSERT INTO reports (service_id, country, kind, comment) "
                           "VALUES (%s, %s, %s, %s) RETURNING report_id",
                           (service_id, country, kind, comment)).fetchone()
        return int(row["report_id"])

    def _reports(self, conn: Any, *, report_id: int | None = None, country: str | None = None,
                 open_only: bool = False) -> list[Report]:
        conds = ["TRUE"]
        if report_id is not None:
            conds.append("report_id = %(r)s")
        if country:
            conds.append("country = %(c)s")
        if open_only:
            conds.append("status = 'open'")
        rows = conn.execute(f"SELECT * FROM reports WHERE {' AND '.join(conds)} "  # noqa: S608
                            "ORDER BY report_id", {"r": report_id, "c": country}).fetchall()
        return [report_of(r) for r in rows]

    def _close_report(self, conn: Any, report_id: int, user: str, note: str) -> str | None:
        row = conn.execute("SELECT status FROM reports WHERE report_id = %s FOR UPDATE",
                           (report_id,)).fetchone()
        if row is not None and row["status"] == "open":
            conn.execute("UPDATE reports SET status = 'resolved', resolved_by = %s, "
                         "resolved_at = clock_timestamp(), resolution_note = %s "
                         "WHERE report_id = %s", (user, note, report_id))
        return None if row is None else str(row["status"])


__all__ = ["POSTGIS_SPHERE_RADIUS_M", "SPHERE_SCALE", "PostGISStore", "row_of", "where_clause"]
