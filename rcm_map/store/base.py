"""The Store interface shared by the GeoJSON file and PostGIS backends.

A store holds the registry (true locations), a version per service, the history of
every change and the problem reports. Reading (`search`, `get`) is public and
returns the public view: confidential services at their public point, address
withheld. Writing takes the user's name for the history and the versions the
writer saw, so an edit based on stale data is refused with `ConflictError`
instead of silently overwriting someone else's change.

Belongs here: what a store does, once: version checks, country updates, edits,
verification, undo, problem reports and their rules. A backend only says how to
read and write its rows (the `_`-prefixed abstract hooks: SQL for PostGIS,
SQLite plus the registry file for `geojson_store`).

May import `core`, `registry`, `search` and `store.records` / `store.diffing`.
The records, errors and pure helpers are re-exported here, so
``from rcm_map.store.base import ConflictError, public_feature`` keeps working.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from rcm_map.core import schema
from rcm_map.search.query import Query, SearchResult
from rcm_map.store.diffing import (
    canonical_feature,
    check_edit,
    conflict_message,
    diff_features,
    features_json,
    keep_withheld,
    public_feature,
    search_text_of,
    validate_update,
    version_conflicts,
)
from rcm_map.store.records import (
    ChangeRecord,
    ConflictError,
    Diff,
    Feature,
    FieldChange,
    NotFoundError,
    Report,
    ServiceChange,
    StoredService,
    StoreError,
    StoreUnavailable,
    UpdateRejected,
    changed_fields,
    feature_country,
    feature_id,
    now_iso,
)

REPORT_KINDS: dict[str, schema.Labels] = {
    "wrong_info": {"es": "Información incorrecta", "en": "Wrong information",
                   "fr": "Information erronée"},
    "closed": {"es": "Ya no funciona / cerrado", "en": "Closed or no longer running",
               "fr": "Fermé ou plus en service"},
    "moved": {"es": "Se mudó", "en": "Moved", "fr": "A déménagé"},
    "other": {"es": "Otro problema", "en": "Other problem", "fr": "Autre problème"},
}
MAX_REPORT_COMMENT = 1000
# Actions recorded in the history.
ACTIONS = ("import", "edit", "verify", "restore", "baseline", "external_edit")

Change = tuple[str, Feature | None]
"""(service id, its new state or None to remove it)."""


def validate_report(kind: str, comment: str) -> None:
    """Raise StoreError when a problem report's kind or comment is not acceptable."""
    if kind not in REPORT_KINDS:
        raise StoreError(f"report kind: unknown code {kind!r}; expected one of: "
                         + ", ".join(REPORT_KINDS))
    if not isinstance(comment, str):
        raise StoreError(f"report comment: expected text, instead got: {type(comment).__name__}")
    if schema._CONTROL.search(comment):
        raise StoreError("report comment: holds a control character; remove it")
    if len(comment) > MAX_REPORT_COMMENT:
        raise StoreError(f"report comment: {len(comment)} characters, more than the limit "
                         f"of {MAX_REPORT_COMMENT}")


class Store(abc.ABC):
    """Where the registry lives. Both backends pass the same tests (tests/store/)."""

    where = "store"
    """How messages name this store (the registry file, or 'database')."""

    # Reading (public) ---------------------------------------------------------------

    @abc.abstractmethod
    def search(self, query: Query) -> SearchResult:
        """Run a query exactly as `rcm_map.search.query.search` does on the public registry."""

    def get(self, service_id: str, *, public: bool = True) -> StoredService:
        """One service and its version; raise NotFoundError when the id is unknown.

        `public=False` returns the true location and address (focal points only).
        """
        with self._tx() as conn:
            stored = self._stored(conn, service_id)
        if stored is None:
            raise NotFoundError(f"{self.where}: no service with id {service_id!r}")
        if public:
            return StoredService(public_feature(stored.feature), stored.version,
                                 stored.updated_at, stored.updated_by)
        return stored

    @abc.abstractmethod
    def all_features(self, country: str | None = None) -> list[StoredService]:
        """Every service (true data) sorted by id, optionally of one country."""

    # Country updates ------------------------------------------------------------------

    def preview_update(self, country: str, features: list[Feature], *,
                       file: str = "upload", check_countries: bool = True) -> Diff:
        """What replacing `country`'s services with `features` would change.

        Raises UpdateRejected listing every problem when the update is invalid.
        """
        others = self._ids_outside(country)
        found, warnings = validate_update(country, features, others, file=file,
                                          check_countries=check_countries)
        if found:
            raise UpdateRejected(found)
        return diff_features(country, self.all_features(country), features, warnings)

    def apply_update(self, diff: Diff, user: str, *, note: str = "") -> int:
        """Apply a previewed diff in one transaction and return its change id.

        Raises ConflictError if the country changed since the preview, or if a
        service it adds was meanwhile added to another country.
        """
        summary = diff.summary() + (f" - {note}" if note else "")
        with self._write_tx(diff.country) as conn:
            now = self._versions(conn, country=diff.country)
            conflicts = version_conflicts(diff.base_versions,
                                          {fid: v for fid, (v, _) in now.items()})
            new_ids = [c.service_id for c in diff.added if c.service_id not in now]
            elsewhere = self._versions(conn, ids=new_ids) if new_ids else {}
            conflicts += [(fid, None, elsewhere[fid][0]) for fid in new_ids if fid in elsewhere]
            if conflicts:
                users = {fid: who for fid, (_, who) in now.items()}
                raise ConflictError(conflict_message(diff.country, conflicts, users), conflicts)
            changes = [(c.service_id, c.after) for c in diff.changes]
            return self._commit(conn, changes, user, "import", diff.country, summary, None)

    def update_service(self, service_id: str, feature: Feature, expected_version: int,
                       user: str, *, action: str = "edit", summary: str = "") -> int:
        """Replace one service if it is still at `expected_version`; return the new version.

        `action` ("edit" or "verify") and `summary` are what the history records.
        Raises ConflictError (someone else saved first), NotFoundError, UpdateRejected.
        """
        country = feature_country(self.get(service_id, public=False).feature)
        check_edit(service_id, feature, country, check_countries=self.check_countries)
        with self._write_tx(country) as conn:
            self._check_versions(conn, country, {service_id: expected_version})
            self._commit(conn, [(service_id, feature)], user, action, country,
                         summary or f"edited {service_id}", None, backup=False)
            return self._versions(conn, ids=[service_id])[service_id][0]

    def mark_verified(self, service_id: str, user: str, expected_version: int,
                      on: dt.date | None = None) -> int:
        """Record that `user` confirmed the service with the organisation `on` (today).

        Sets ``verified_on`` and ``verified_by`` and nothing else, as a "verify" change
        in the history; returns the new version. Raises like `update_service`.
        """
        day = on or dt.date.today()
        if day > dt.date.today():
            raise StoreError(f"verified_on: a verification cannot be in the future, instead "
                             f"got: {day.isoformat()}")
        stored = self.get(service_id, public=False)
        feature = canonical_feature(stored.feature)
        feature["properties"].update(verified_on=day.isoformat(), verified_by=user)
        return self.update_service(service_id, feature, expected_version, user,
                                   action="verify",
                                   summary=f"verified {service_id} with the organisation")

    def _check_versions(self, conn: Any, country: str,
                        expected: dict[str, int | None]) -> None:
        """Raise ConflictError unless every service is at its expected version."""
        now = self._versions(conn, ids=list(expected))
        conflicts = version_conflicts(expected, {fid: v for fid, (v, _) in now.items()})
        if conflicts:
            users = {fid: who for fid, (_, who) in now.items()}
            raise ConflictError(conflict_message(country, conflicts, users), conflicts)

    # History --------------------------------------------------------------------------

    def history(self, *, country: str | None = None, service_id: str | None = None,
                limit: int = 50) -> list[ChangeRecord]:
        """Changes, newest first, with the services each touched (before/after).

        `country` keeps the changes whose own country, or the country of any state
        they touched, is that one (a service moved between countries shows in both).
        """
        return self._changes(country=country, service_id=service_id, limit=int(limit))

    def change(self, change_id: int) -> ChangeRecord:
        """One change with its services; NotFoundError if unknown."""
        found = self._changes(change_id=int(change_id), limit=1)
        if not found:
            raise NotFoundError(f"{self.where}: no change with id {change_id!r}")
        return found[0]

    def restore(self, change_id: int, user: str) -> int:
        """Undo change `change_id`: put back what it replaced, as a new change.

        Refused with ConflictError when a service it touched changed since.
        """
        record = self.change(change_id)
        if record.action == "baseline":
            raise StoreError(f"change {change_id} is the baseline (the registry as first "
                             "found); restore a single service version instead")
        targets = {s.service_id: (s.before, s.version_after) for s in record.services}
        return self._restore_states(record.country, targets, user, change_id)

    def restore_version(self, service_id: str, version: int, user: str) -> int:
        """Make `version` of a service current again (as a new change); return change id."""
        for record in self.history(service_id=service_id, limit=10_000):
            for s in record.services:
                if s.service_id == service_id and s.version_after == version:
                    with self._tx() as conn:
                        now = self._versions(conn, ids=[service_id]).get(service_id)
                    country = feature_country(s.after) if s.after else record.country
                    return self._restore_states(
                        country, {service_id: (s.after, now[0] if now else None)},
                        user, record.change_id)
        raise NotFoundError(f"service {service_id!r} has no recorded version {version!r}")

    def _restore_states(self, country: str, targets: dict[str, tuple[Feature | None, int | None]],
                        user: str, restored_from: int) -> int:
        """Set each service to a state if it is still at the given version (None = absent)."""
        with self._write_tx(country) as conn:
            self._check_versions(conn, country, {k: v for k, (_, v) in targets.items()})
            changes = [(fid, state) for fid, (state, _) in sorted(targets.items())]
            summary = f"restored {len(changes)} services as before change {restored_from}"
            return self._commit(conn, changes, user, "restore", country, summary,
                                restored_from)

    # Problem reports ------------------------------------------------------------------

    def report_problem(self, service_id: str, kind: str, comment: str = "") -> int:
        """Record a caseworker's report on a service; return its id (no personal data kept)."""
        validate_report(kind, comment)
        country = feature_country(self.get(service_id, public=False).feature)
        with self._tx() as conn:
            return self._insert_report(conn, service_id, country, kind, comment.strip())

    def open_reports(self, country: str | None = None) -> list[Report]:
        """Open reports, oldest first, optionally of one country."""
        with self._tx() as conn:
            return self._reports(conn, country=country, open_only=True)

    def report(self, report_id: int) -> Report:
        """One report, open or resolved; NotFoundError if unknown."""
        with self._tx() as conn:
            found = self._reports(conn, report_id=int(report_id))
        if not found:
            raise NotFoundError(f"{self.where}: no report with id {report_id!r}")
        return found[0]

    def resolve_report(self, report_id: int, user: str, note: str = "") -> None:
        """Close a report; NotFoundError if unknown, StoreError if already resolved."""
        with self._tx() as conn:
            status = self._close_report(conn, int(report_id), user, note.strip())
        if status is None:
            raise NotFoundError(f"{self.where}: no report with id {report_id!r}")
        if status != "open":
            raise StoreError(f"report {report_id} is already {status}")

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections (PostGIS); a no-op for files."""

    # What a backend provides ---------------------------------------------------------

    check_countries: bool = True
    """Check that edited points lie in their country (bundled boundaries)."""

    @abc.abstractmethod
    def _tx(self) -> AbstractContextManager[Any]:
        """One transaction; yields the connection the hooks below take."""

    @contextmanager
    def _write_tx(self, country: str) -> Iterator[Any]:
        """A transaction that writes `country` (PostGIS also locks the country)."""
        with self._tx() as conn:
            yield conn

    @abc.abstractmethod
    def _stored(self, conn: Any, service_id: str) -> StoredService | None:
        """One service (true data) or None."""

    @abc.abstractmethod
    def _versions(self, conn: Any, *, country: str | None = None,
                  ids: list[str] | None = None) -> dict[str, tuple[int, str]]:
        """(version, last editor) of the services of `country`, or with these `ids`."""

    @abc.abstractmethod
    def _ids_outside(self, country: str) -> dict[str, str]:
        """Ids (and their country) of services outside `country`."""

    @abc.abstractmethod
    def _commit(self, conn: Any, changes: list[Change], user: str, action: str,
                country: str, summary: str, restored_from: int | None, *,
                backup: bool = True) -> int:
        """Write the services and their history (versions already checked); change id.

        `backup`: the file backend copies the registry file aside first.
        """

    @abc.abstractmethod
    def _changes(self, *, change_id: int | None = None, country: str | None = None,
                 service_id: str | None = None, limit: int = 50) -> list[ChangeRecord]:
        """History records, newest first, filtered as `history` and `change` describe."""

    @abc.abstractmethod
    def _insert_report(self, conn: Any, service_id: str, country: str, kind: str,
                       comment: str) -> int:
        """Store a new open report; return its id."""

    @abc.abstractmethod
    def _reports(self, conn: Any, *, report_id: int | None = None, country: str | None = None,
                 open_only: bool = False) -> list[Report]:
        """Reports by id, or of a country, oldest first."""

    @abc.abstractmethod
    def _close_report(self, conn: Any, report_id: int, user: str, note: str) -> str | None:
        """Resolve a report if open; return its status before (None: no such report)."""


__all__ = [
    "ACTIONS", "MAX_REPORT_COMMENT", "REPORT_KINDS", "Change", "ChangeRecord", "ConflictError",
    "Diff", "Feature", "FieldChange", "NotFoundError", "Report", "ServiceChange", "Store",
    "StoreError", "StoreUnavailable", "StoredService", "UpdateRejected", "canonical_feature",
    "changed_fields", "conflict_message", "diff_features", "feature_country", "feature_id",
    "features_json", "keep_withheld", "now_iso", "public_feature", "search_text_of",
    "validate_report", "validate_update", "version_conflicts",
]
