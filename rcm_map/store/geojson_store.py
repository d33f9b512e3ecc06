"""The file backend: the registry GeoJSON plus a SQLite sidecar beside it.

`actors.geojson` stays the registry that every other tool reads. The sidecar
`actors.geojson.store.sqlite` keeps a mirror of each service with its version, the
history of changes (before/after of every service) and the problem reports. A lock
file `actors.geojson.lock` serialises writers across threads and processes.

A write runs inside one SQLite transaction: check versions, record history, back
the registry up (imports and restores), replace the file atomically
(`store.files.atomic_write_bytes`), then commit. Were the process killed between
the file replace and the commit, the next call finds the file's hash differs from
the recorded one and records the difference as an `external_edit`, so nothing
is lost; the same catches hand edits of the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from rcm_map.core import files
from rcm_map.formats.export import geojson_bytes
from rcm_map.registry.model import (
    Registry,
    RegistryError,
    frame_from_features,
    read_registry_features,
)
from rcm_map.search.query import Query, SearchResult, search
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
    feature_country,
    feature_id,
    features_json,
    now_iso,
)

LOCK_TIMEOUT_S = 60.0
SIDECAR_SUFFIX = ".store.sqlite"
LOCK_SUFFIX = ".lock"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS services (
    id TEXT PRIMARY KEY, country TEXT NOT NULL, version INTEGER NOT NULL,
    feature TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS services_country ON services (country);
CREATE TABLE IF NOT EXISTS changes (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL,
    action TEXT NOT NULL, country TEXT NOT NULL, summary TEXT NOT NULL,
    restored_from INTEGER);
CREATE TABLE IF NOT EXISTS service_changes (
    change_id INTEGER NOT NULL REFERENCES changes (change_id), service_id TEXT NOT NULL,
    action TEXT NOT NULL, version_before INTEGER, version_after INTEGER,
    before TEXT, after TEXT);
CREATE INDEX IF NOT EXISTS service_changes_service ON service_changes (service_id);
CREATE TABLE IF NOT EXISTS reports (
    report_id INTEGER PRIMARY KEY AUTOINCREMENT, service_id TEXT NOT NULL,
    country TEXT NOT NULL, kind TEXT NOT NULL, comment TEXT NOT NULL,
    created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
    resolved_by TEXT NOT NULL DEFAULT '', resolved_at TEXT NOT NULL DEFAULT '',
    resolution_note TEXT NOT NULL DEFAULT '');
"""


class GeoJSONStore(Store):
    """A registry GeoJSON file with a SQLite sidecar for versions, history and reports.

    Parameters
    ----------
    path : str or Path
        The registry file. It may not exist yet (an empty registry).
    check_countries : bool
        Check at import that points lie in their country (bundled boundaries).
    """

    def __init__(self, path: str | Path, *, check_countries: bool = True) -> None:
        self.path = Path(path)
        self.sidecar = self.path.with_name(self.path.name + SIDECAR_SUFFIX)
        self.lock = FileLock(str(self.path.with_name(self.path.name + LOCK_SUFFIX)),
                             timeout=LOCK_TIMEOUT_S)
        self.check_countries = check_countries
        self.where = str(self.path)
        self._cache: tuple[tuple[int, int, int], Registry] | None = None
        files.clean_temp_files(self.path.parent if str(self.path.parent) else ".")

    def __repr__(self) -> str:
        return f"GeoJSONStore({str(self.path)!r})"

    # --- plumbing -------------------------------------------------------------------

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """Lock, open the sidecar, begin a write transaction and sync with the file."""
        with self.lock:
            conn = sqlite3.connect(self.sidecar, timeout=LOCK_TIMEOUT_S, isolation_level=None)
            try:
                conn.row_factory = sqlite3.Row
                conn.executescript(_SCHEMA)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    self._sync(conn)
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()

    def _file_bytes(self) -> bytes | None:
        return self.path.read_bytes() if self.path.exists() else None

    def _sync(self, conn: sqlite3.Connection) -> None:
        """Bring the mirror in line with the file if it changed outside the store."""
        data = self._file_bytes()
        digest = hashlib.sha256(data).hexdigest() if data is not None else ""
        row = conn.execute("SELECT value FROM meta WHERE key = 'sha256'").fetchone()
        if row is not None and row["value"] == digest:
            return
        if data is None:
            features: list[Feature] = []
        else:
            try:
                features = read_registry_features(self.path)
            except RegistryError as exc:
                raise StoreError(f"{self.path}: the registry file is not valid, so the store "
                                 f"will not change it: {exc}") from None
        new = {feature_id(f): canonical_feature(f) for f in features}
        mirror = self._mirror(conn)
        fresh = row is None and not mirror
        action = "baseline" if fresh else "external_edit"
        user = "system" if fresh else f"file:{self.path.name}"
        changes = []
        for fid in sorted(set(new) | set(mirror)):
            old = mirror.get(fid)
            if old is not None and old.feature == new.get(fid):
                continue
            changes.append((fid, old, new.get(fid)))
        if changes:
            summary = (f"{len(new)} services found in {self.path.name}" if fresh
                       else f"{len(changes)} services edited outside the store")
            self._record(conn, changes, user, action, _country_of(changes), summary, None)
        self._set_meta(conn, "sha256", digest)

    def _mirror(self, conn: sqlite3.Connection, country: str | None = None
                ) -> dict[str, StoredService]:
        # Only fixed SQL fragments are joined; values are bound parameters.
        sql = "SELECT * FROM services" + (" WHERE country = ?" if country else "")  # noqa: S608
        rows = conn.execute(sql + " ORDER BY id", (country,) if country else ())
        return {r["id"]: _stored_row(r) for r in rows}

    def _set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                     "DO UPDATE SET value = excluded.value", (key, value))

    def _next_version(self, conn: sqlite3.Connection, fid: str) -> int:
        row = conn.execute("SELECT MAX(version_after) AS v FROM service_changes "
                           "WHERE service_id = ?", (fid,)).fetchone()
        return int(row["v"] or 0) + 1

    def _record(
        self,
        conn: sqlite3.Connection,
        changes: list[tuple[str, StoredService | None, Feature | None]],
        user: str,
        action: str,
        country: str,
        summary: str,
        restored_from: int | None,
    ) -> int:
        """Write the history rows and the mirror for a list of (id, old, new) changes."""
        at = now_iso()
        cur = conn.execute("INSERT INTO changes (at, user, action, country, summary, "
                           "restored_from) VALUES (?, ?, ?, ?, ?, ?)",
                           (at, user, action, country, summary, restored_from))
        change_id = int(cur.lastrowid or 0)
        for fid, old, new in changes:
            before = old.feature if old else None
            v_before = old.version if old else None
            if new is None:
                kind, v_after = "removed", None
                conn.execute("DELETE FROM services WHERE id = ?", (fid,))
            else:
                kind = "added" if old is None else "changed"
                v_after = self._next_version(conn, fid)
                conn.execute(
                    "INSERT INTO services (id, country, version, feature, updated_at, "
                    "updated_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                    "country = excluded.country, version = excluded.version, "
                    "feature = excluded.feature, updated_at = excluded.updated_at, "
                    "updated_by = excluded.updated_by",
                    (fid, feature_country(new), v_after, features_json(new), at, user))
            conn.execute("INSERT INTO service_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (change_id, fid, kind, v_before, v_after, features_json(before),
                          features_json(new)))
        return change_id

    def _write_file(self, conn: sqlite3.Connection, backup: bool) -> None:
        """Write the mirror to the registry file atomically (after a backup if asked)."""
        if backup:
            files.make_backup(self.path)
        features = [s.feature for s in self._mirror(conn).values()]
        data = geojson_bytes(features, sort=True)
        files.atomic_write_bytes(self.path, data)
        self._set_meta(conn, "sha256", hashlib.sha256(data).hexdigest())

    # --- reading --------------------------------------------------------------------

    def registry(self) -> Registry:
        """The public, indexed registry (cached until the file changes)."""
        if not self.path.exists():
            return Registry.from_frame(frame_from_features([]))
        st = self.path.stat()
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, Registry.from_frame(frame_from_features(
                read_registry_features(self.path))))
        return self._cache[1]

    def search(self, query: Query) -> SearchResult:
        """Run a query with the in-memory engine (`rcm_map.search.query.search`)."""
        return search(self.registry(), query)

    def _stored(self, conn: sqlite3.Connection, service_id: str) -> StoredService | None:
        row = conn.execute("SELECT * FROM services WHERE id = ?", (service_id,)).fetchone()
        return None if row is None else _stored_row(row)

    def all_features(self, country: str | None = None) -> list[StoredService]:
        with self._tx() as conn:
            return list(self._mirror(conn, country).values())

    def _ids_outside(self, country: str) -> dict[str, str]:
        with self._tx() as conn:
            rows = conn.execute("SELECT id, country FROM services WHERE country <> ?",
                                (country,))
            return {r["id"]: r["country"] for r in rows}

    def _versions(self, conn: sqlite3.Connection, *, country: str | None = None,
                  ids: list[str] | None = None) -> dict[str, tuple[int, str]]:
        if ids is not None:
            marks = ", ".join("?" * len(ids))
            # Only "?" marks are joined; the ids are bound parameters.
            rows = conn.execute("SELECT id, version, updated_by FROM services "  # noqa: S608
                                f"WHERE id IN ({marks})", ids)
        else:
            rows = conn.execute("SELECT id, version, updated_by FROM services "
                                "WHERE country = ?", (country,))
        return {r["id"]: (int(r["version"]), r["updated_by"]) for r in rows}

    # --- writing --------------------------------------------------------------------

    def _commit(self, conn: sqlite3.Connection, changes: list[Change], user: str, action: str,
                country: str, summary: str, restored_from: int | None, *,
                backup: bool = True) -> int:
        mirror = {fid: self._stored(conn, fid) for fid, _ in changes}
        rows = [(fid, mirror[fid], None if new is None else canonical_feature(new))
                for fid, new in changes]
        change_id = self._record(conn, rows, user, action, country, summary, restored_from)
        self._write_file(conn, backup)
        return change_id

    # --- history --------------------------------------------------------------------

    def _changes(self, *, change_id: int | None = None, country: str | None = None,
                 service_id: str | None = None, limit: int = 50) -> list[ChangeRecord]:
        where: list[str] = []
        args: list[Any] = []
        if change_id is not None:
            where.append("change_id = ?")
            args.append(change_id)
        if country:  # the change's own country, or that of any state it touched
            where.append("(country = ? OR change_id IN (SELECT change_id FROM service_changes"
                         " WHERE json_extract(before, '$.properties.country') = ?"
                         " OR json_extract(after, '$.properties.country') = ?))")
            args += [country, country, country]
        if service_id:
            where.append("change_id IN (SELECT change_id FROM service_changes "
                         "WHERE service_id = ?)")
            args.append(service_id)
        # Only fixed SQL fragments are joined; values are bound parameters.
        sql = ("SELECT * FROM changes"  # noqa: S608
               + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY change_id DESC LIMIT ?")
        with self._tx() as conn:
            rows = conn.execute(sql, (*args, limit)).fetchall()
            return [self._record_of(conn, r) for r in rows]

    def _record_of(self, conn: sqlite3.Connection, row: sqlite3.Row) -> ChangeRecord:
        services = [
            ServiceChange(s["service_id"], s["action"], _loads(s["before"]), _loads(s["after"]),
                          s["version_before"], s["version_after"])
            for s in conn.execute("SELECT * FROM service_changes WHERE change_id = ? "
                                  "ORDER BY service_id", (row["change_id"],))
        ]
        return ChangeRecord(row["change_id"], row["at"], row["user"], row["action"],
                            row["country"], row["summary"], row["restored_from"], services)

    # --- reports --------------------------------------------------------------------

    def _insert_report(self, conn: sqlite3.Connection, service_id: str, country: str,
                       kind: str, comment: str) -> int:
        cur = conn.execute("INSERT INTO reports (service_id, country, kind, comment, "
                           "created_at) VALUES (?, ?, ?, ?, ?)",
                           (service_id, country, kind, comment, now_iso()))
        return int(cur.lastrowid or 0)

    def _reports(self, conn: sqlite3.Connection, *, report_id: int | None = None,
                 country: str | None = None, open_only: bool = False) -> list[Report]:
        where: list[str] = ["TRUE"]
        args: list[Any] = []
        if report_id is not None:
            where.append("report_id = ?")
            args.append(report_id)
        if country:
            where.append("country = ?")
            args.append(country)
        if open_only:
            where.append("status = 'open'")
        # Only fixed SQL fragments are joined; values are bound parameters.
        rows = conn.execute(f"SELECT * FROM reports WHERE {' AND '.join(where)} "  # noqa: S608
                            "ORDER BY report_id", args)
        return [_report(r) for r in rows]

    def _close_report(self, conn: sqlite3.Connection, report_id: int, user: str,
                      note: str) -> str | None:
        row = conn.execute("SELECT status FROM reports WHERE report_id = ?",
                           (report_id,)).fetchone()
        if row is not None and row["status"] == "open":
            conn.execute("UPDATE reports SET status = 'resolved', resolved_by = ?, "
                         "resolved_at = ?, resolution_note = ? WHERE report_id = ?",
                         (user, now_iso(), note, report_id))
        return None if row is None else str(row["status"])


def _stored_row(row: sqlite3.Row) -> StoredService:
    return StoredService(json.loads(row["feature"]), int(row["version"]), row["updated_at"],
                         row["updated_by"])


def _report(row: sqlite3.Row) -> Report:
    return Report(row["report_id"], row["service_id"], row["country"], row["kind"],
                  row["comment"], row["created_at"], row["status"], row["resolved_by"],
                  row["resolved_at"], row["resolution_note"])


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _country_of(changes: list[tuple[str, StoredService | None, Feature | None]]) -> str:
    """The one country a set of changes touches, or '*' when several."""
    found = {feature_country(new) if new else feature_country(old.feature)  # type: ignore[union-attr]
             for _, old, new in changes}
    return found.pop() if len(found) == 1 else "*"

