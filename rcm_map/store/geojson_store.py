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
    feature_country,
    feature_id,
    features_json,
    now_iso,
    public_feature,
    validate_report,
    validate_update,
    version_conflicts,
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
        return {r["id"]: _stored(r) for r in rows}

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

    def _commit_changes(
        self,
        conn: sqlite3.Connection,
        country: str,
        expected: dict[str, int | None],
        changes: list[tuple[str, Feature | None]],
        user: str,
        action: str,
        summary: str,
        restored_from: int | None = None,
        backup: bool = True,
    ) -> int:
        """Check versions, record and write; the caller holds the transaction."""
        mirror = self._mirror(conn)
        current = {fid: s.version for fid, s in mirror.items() if fid in expected}
        conflicts = version_conflicts(expected, current)
        if conflicts:
            users = {fid: s.updated_by for fid, s in mirror.items()}
            raise ConflictError(conflict_message(country, conflicts, users), conflicts)
        rows = [(fid, mirror.get(fid), None if new is None else canonical_feature(new))
                for fid, new in changes]
        change_id = self._record(conn, rows, user, action, country, summary, restored_from)
        self._write_file(conn, backup)
        return change_id

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

    def get(self, service_id: str, *, public: bool = True) -> StoredService:
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM services WHERE id = ?", (service_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"{self.path}: no service with id {service_id!r}")
        stored = _stored(row)
        if public:
            return StoredService(public_feature(stored.feature), stored.version,
                                 stored.updated_at, stored.updated_by)
        return stored

    def all_features(self, country: str | None = None) -> list[StoredService]:
        with self._tx() as conn:
            return list(self._mirror(conn, country).values())

    def _ids_outside(self, country: str) -> dict[str, str]:
        with self._tx() as conn:
            rows = conn.execute("SELECT id, country FROM services WHERE country <> ?",
                                (country,))
            return {r["id"]: r["country"] for r in rows}

    def _current_version(self, service_id: str) -> int | None:
        with self._tx() as conn:
            row = conn.execute("SELECT version FROM services WHERE id = ?",
                               (service_id,)).fetchone()
        return None if row is None else int(row["version"])

    # --- writing --------------------------------------------------------------------

    def apply_update(self, diff: Diff, user: str, *, note: str = "") -> int:
        with self._tx() as conn:
            mine = self._mirror(conn, diff.country)
            country_now = {fid: s.version for fid, s in mine.items()}
            conflicts = version_conflicts(diff.base_versions, country_now)
            added_elsewhere = [c.service_id for c in diff.added if c.service_id not in country_now
                               and self._exists(conn, c.service_id)]
            conflicts += [(fid, None, self._version(conn, fid)) for fid in added_elsewhere]
            if conflicts:
                users = {fid: s.updated_by for fid, s in mine.items()}
                raise ConflictError(conflict_message(diff.country, conflicts, users), conflicts)
            expected: dict[str, int | None] = dict(diff.base_versions)
            changes = [(c.service_id, c.after) for c in diff.changes]
            summary = diff.summary() + (f" - {note}" if note else "")
            return self._commit_changes(conn, diff.country, expected, changes, user, "import",
                                        summary)

    def update_service(self, service_id: str, feature: Feature, expected_version: int,
                       user: str, *, action: str = "edit", summary: str = "") -> int:
        with self._tx() as conn:
            old = self._mirror_one(conn, service_id)
            if old is None:
                raise NotFoundError(f"{self.path}: no service with id {service_id!r}")
            _check_edit(service_id, feature, old, self.check_countries)
            self._commit_changes(conn, feature_country(old.feature),
                                 {service_id: expected_version}, [(service_id, feature)], user,
                                 action, summary or f"edited {service_id}", backup=False)
            return self._version(conn, service_id) or 0

    def _restore_states(self, country: str, targets: dict[str, tuple[Feature | None, int | None]],
                        user: str, restored_from: int) -> int:
        with self._tx() as conn:
            expected = {fid: version for fid, (_, version) in targets.items()}
            changes = [(fid, state) for fid, (state, _) in sorted(targets.items())]
            summary = f"restored {len(changes)} services as before change {restored_from}"
            return self._commit_changes(conn, country, expected, changes, user, "restore",
                                        summary, restored_from)

    def _mirror_one(self, conn: sqlite3.Connection, fid: str) -> StoredService | None:
        row = conn.execute("SELECT * FROM services WHERE id = ?", (fid,)).fetchone()
        return None if row is None else _stored(row)

    def _exists(self, conn: sqlite3.Connection, fid: str) -> bool:
        return self._version(conn, fid) is not None

    def _version(self, conn: sqlite3.Connection, fid: str) -> int | None:
        row = conn.execute("SELECT version FROM services WHERE id = ?", (fid,)).fetchone()
        return None if row is None else int(row["version"])

    # --- history --------------------------------------------------------------------

    def history(self, *, country: str | None = None, service_id: str | None = None,
                limit: int = 50) -> list[ChangeRecord]:
        where, args = [], []
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
            rows = conn.execute(sql, (*args, int(limit))).fetchall()
            return [self._record_of(conn, r) for r in rows]

    def change(self, change_id: int) -> ChangeRecord:
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM changes WHERE change_id = ?",
                               (int(change_id),)).fetchone()
            if row is None:
                raise NotFoundError(f"{self.sidecar}: no change with id {change_id!r}")
            return self._record_of(conn, row)

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

    def report_problem(self, service_id: str, kind: str, comment: str = "") -> int:
        validate_report(kind, comment)
        with self._tx() as conn:
            old = self._mirror_one(conn, service_id)
            if old is None:
                raise NotFoundError(f"{self.path}: no service with id {service_id!r}")
            cur = conn.execute("INSERT INTO reports (service_id, country, kind, comment, "
                               "created_at) VALUES (?, ?, ?, ?, ?)",
                               (service_id, feature_country(old.feature), kind, comment.strip(),
                                now_iso()))
            return int(cur.lastrowid or 0)

    def open_reports(self, country: str | None = None) -> list[Report]:
        sql = "SELECT * FROM reports WHERE status = 'open'"
        sql += " AND country = ?" if country else ""
        with self._tx() as conn:
            rows = conn.execute(sql + " ORDER BY report_id", (country,) if country else ())
            return [_report(r) for r in rows]

    def report(self, report_id: int) -> Report:
        """One report, open or resolved."""
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM reports WHERE report_id = ?",
                               (int(report_id),)).fetchone()
        if row is None:
            raise NotFoundError(f"{self.sidecar}: no report with id {report_id!r}")
        return _report(row)

    def resolve_report(self, report_id: int, user: str, note: str = "") -> None:
        with self._tx() as conn:
            row = conn.execute("SELECT status FROM reports WHERE report_id = ?",
                               (int(report_id),)).fetchone()
            if row is None:
                raise NotFoundError(f"{self.sidecar}: no report with id {report_id!r}")
            if row["status"] != "open":
                raise StoreError(f"report {report_id} is already {row['status']}")
            conn.execute("UPDATE reports SET status = 'resolved', resolved_by = ?, "
                         "resolved_at = ?, resolution_note = ? WHERE report_id = ?",
                         (user, now_iso(), note.strip(), int(report_id)))


def _check_edit(service_id: str, feature: Feature, old: StoredService,
                check_countries: bool) -> None:
    """Raise UpdateRejected when an edit is invalid, renames the id or moves country."""
    country = feature_country(old.feature)
    found, _ = validate_update(country, [feature], {}, file=f"edit of {service_id}",
                               check_countries=check_countries)
    props = feature.get("properties") if isinstance(feature, dict) else None
    if isinstance(props, dict) and props.get("id") != service_id:
        from rcm_map.core.schema import Issue

        found.append(Issue(f"an edit cannot change the id (editing {service_id!r})",
                           f"edit of {service_id}", 0, service_id, "id", props.get("id")))
    if found:
        raise UpdateRejected(found)


def _stored(row: sqlite3.Row) -> StoredService:
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

