"""What the store hands out and refuses with: records, errors and feature identity.

Belongs here: the exceptions every backend raises, the frozen records (`Diff`,
`ServiceChange`, `StoredService`, `ChangeRecord`, `Report`) and the few helpers
those records need (`feature_id`, `feature_country`, `changed_fields`). No I/O.

May import `core` only; every other module of `store` may import this one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from rcm_map.core import schema
from rcm_map.core.schema import Issue

Feature = dict[str, Any]


class StoreError(Exception):
    """A request the store cannot carry out; the message says why and what to do."""


class StoreUnavailable(StoreError):
    """The store cannot be reached now (database down); retrying later may succeed."""


class NotFoundError(StoreError):
    """No service, change or report with that id."""


class ConflictError(StoreError):
    """Someone else changed the data since the writer read it; nothing was written.

    Attributes
    ----------
    conflicts : list of (service_id, expected_version, current_version)
        `None` as a version means the service did not exist (or no longer exists).
    """

    def __init__(self, message: str, conflicts: list[tuple[str, int | None, int | None]]):
        super().__init__(message)
        self.conflicts = conflicts


class UpdateRejected(StoreError):
    """An update whose content is invalid; `issues` lists every problem."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        head = "; ".join(str(i) for i in issues[:5])
        more = f" (and {len(issues) - 5} more)" if len(issues) > 5 else ""
        super().__init__(f"update rejected: {head}{more}")


@dataclass(frozen=True)
class FieldChange:
    """One field that an update changes."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ServiceChange:
    """A service as it was and as it will be (or was made) by one change."""

    service_id: str
    action: str  # "added", "changed", "removed"
    before: Feature | None
    after: Feature | None
    version_before: int | None = None
    version_after: int | None = None

    @property
    def fields(self) -> list[FieldChange]:
        """The fields that differ (geometry included), for previews and history."""
        return changed_fields(self.before, self.after)


@dataclass(frozen=True)
class Diff:
    """What applying a country update would add, change and remove.

    `base_versions` are the versions of every service of the country when the
    preview was made; `apply_update` refuses the diff if any of them moved.
    """

    country: str
    added: list[ServiceChange] = field(default_factory=list)
    changed: list[ServiceChange] = field(default_factory=list)
    removed: list[ServiceChange] = field(default_factory=list)
    unchanged: int = 0
    base_versions: dict[str, int] = field(default_factory=dict)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when applying would change nothing."""
        return not (self.added or self.changed or self.removed)

    @property
    def changes(self) -> list[ServiceChange]:
        """Every service change, added first, then changed, then removed."""
        return [*self.added, *self.changed, *self.removed]

    def summary(self) -> str:
        """One line such as 'MEX: 3 added, 2 changed, 1 removed, 40 unchanged'."""
        return (f"{self.country}: {len(self.added)} added, {len(self.changed)} changed, "
                f"{len(self.removed)} removed, {self.unchanged} unchanged")


@dataclass(frozen=True)
class StoredService:
    """One service with its version and who changed it last."""

    feature: Feature
    version: int
    updated_at: str = ""
    updated_by: str = ""

    @property
    def id(self) -> str:
        """The service id."""
        return str(self.feature["properties"]["id"])


@dataclass(frozen=True)
class ChangeRecord:
    """One entry of the history: what, when, by whom, and the services it touched."""

    change_id: int
    at: str
    user: str
    action: str
    country: str
    summary: str
    restored_from: int | None = None
    services: list[ServiceChange] = field(default_factory=list)

    @property
    def countries(self) -> tuple[str, ...]:
        """Every country the change touches, old and new state (issue 12).

        A hand edit that moves a service from GTM to MEX belongs to both: it shows
        in both histories, and only someone who is a focal point of both may undo it.
        """
        found = {self.country}
        for s in self.services:
            found |= {feature_country(f) for f in (s.before, s.after) if f}
        return tuple(sorted(found))


@dataclass(frozen=True)
class Report:
    """A problem flagged by a caseworker; it holds no data about children."""

    report_id: int
    service_id: str
    country: str
    kind: str
    comment: str
    created_at: str
    status: str = "open"  # "open" or "resolved"
    resolved_by: str = ""
    resolved_at: str = ""
    resolution_note: str = ""


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the microsecond (history timestamps)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def feature_id(feature: Feature) -> str:
    """The id of a (valid) feature."""
    return str(feature["properties"]["id"])


def feature_country(feature: Feature) -> str:
    """The country of a (valid) feature."""
    return str(feature["properties"]["country"])


def changed_fields(before: Feature | None, after: Feature | None) -> list[FieldChange]:
    """Fields whose values differ between two versions of a service."""
    old_p = (before or {}).get("properties") or {}
    new_p = (after or {}).get("properties") or {}
    out = [FieldChange(name, old_p.get(name), new_p.get(name))
           for name in schema.FIELD_NAMES if old_p.get(name) != new_p.get(name)]
    old_g = coords(before)
    new_g = coords(after)
    if old_g != new_g:
        out.append(FieldChange("geometry", old_g, new_g))
    return out


def coords(feature: Feature | None) -> list[float] | None:
    """[lon, lat] of a feature, None when it has no point."""
    geometry = (feature or {}).get("geometry")
    return list(geometry["coordinates"][:2]) if geometry else None
