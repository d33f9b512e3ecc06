"""The Store interface shared by the GeoJSON file and PostGIS backends.

A store holds the registry (true locations), a version per service, the history of
every change and the problem reports. Reading (`search`, `get`) is public and
returns the public view: confidential services at their public point, address
withheld. Writing takes the user's name for the history and the versions the
writer saw, so an edit based on stale data is refused with `ConflictError`
instead of silently overwriting someone else's change.

The pure helpers here (`diff_features`, `validate_update`, ...) are shared by
both backends so that they compute identical previews, versions and errors.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rcm_map.core import schema
from rcm_map.core.safety import WITHHELD_FOR_CONFIDENTIAL, public_properties
from rcm_map.core.schema import Issue
from rcm_map.core.standin import public_point
from rcm_map.registry.model import errors, validate_collection
from rcm_map.search.query import Query, SearchResult

Feature = dict[str, Any]

REPORT_KINDS: tuple[str, ...] = ("wrong_info", "closed", "moved", "other")
"""What a public problem report is about; labels are ``vocab.report_kind.<code>``."""
MAX_REPORT_COMMENT = 1000
# Actions recorded in the history.
ACTIONS = ("import", "edit", "verify", "restore", "baseline", "external_edit")


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


# --- canonical features -------------------------------------------------------------


def canonical_feature(feature: Feature) -> Feature:
    """A feature with normalised properties and [lon, lat] floats (or null geometry)."""
    props = schema.normalize_properties(feature.get("properties") or {})
    geometry = feature.get("geometry")
    if geometry:
        lon, lat = geometry["coordinates"][:2]
        geometry = {"type": "Point", "coordinates": [float(lon), float(lat)]}
    else:
        geometry = None
    return {"type": "Feature", "geometry": geometry, "properties": props}


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
    old_g = _coords(before)
    new_g = _coords(after)
    if old_g != new_g:
        out.append(FieldChange("geometry", old_g, new_g))
    return out


def _coords(feature: Feature | None) -> list[float] | None:
    geometry = (feature or {}).get("geometry")
    return list(geometry["coordinates"][:2]) if geometry else None


def public_feature(feature: Feature) -> Feature:
    """The feature as it may be shown to anyone: confidential ones moved and withheld."""
    props = public_properties(feature["properties"])
    geometry = feature.get("geometry")
    if props.get("location_precision") == "confidential":
        if geometry:
            lon, lat = _stand_in(geometry, props)
            geometry = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def keep_withheld(stored: Feature, incoming: Feature) -> Feature:
    """Keep a confidential service's true site when an update brings back its public view.

    Focal points often edit an export of the public registry and upload it again.
    There, a confidential service sits at its public point with no address; taking
    that at face value would overwrite the true site that only the server knows.
    So an incoming point equal to the stored site's public point, an empty
    withheld field and a source reduced to its links mean "unchanged", not
    "moved" or "erased".
    """
    props = incoming["properties"]
    if (props.get("location_precision") != "confidential"
            or stored["properties"].get("location_precision") != "confidential"):
        return incoming
    out = {**incoming, "properties": dict(props)}
    true_point, shown = _coords(stored), _coords(incoming)
    if (true_point and shown
            and _same_point(shown, _stand_in(stored["geometry"], stored["properties"]))):
        out["geometry"] = stored["geometry"]
    for name in WITHHELD_FOR_CONFIDENTIAL:
        if not props.get(name):
            out["properties"][name] = stored["properties"].get(name, "")
    kept_source = stored["properties"].get("source", "")
    if props.get("source", "") in ("", public_properties(stored["properties"])["source"]):
        out["properties"]["source"] = kept_source
    return canonical_feature(out)


def _stand_in(geometry: Mapping[str, Any], props: Mapping[str, Any]) -> tuple[float, float]:
    """The public stand-in of a confidential feature's point (same country and admin-1)."""
    lon, lat = geometry["coordinates"][:2]
    return public_point(lon, lat, props.get("country"), props.get("admin1") or None)


def _same_point(a: list[float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < 1e-6 and abs(a[1] - b[1]) < 1e-6


def features_json(feature: Feature | None) -> str | None:
    """Stable JSON text of a feature (history storage)."""
    if feature is None:
        return None
    return json.dumps(feature, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --- validation and diffs -----------------------------------------------------------


def validate_update(
    country: str,
    features: list[Feature],
    other_countries_ids: Mapping[str, str],
    *,
    file: str = "upload",
    check_countries: bool = True,
) -> tuple[list[Issue], list[Issue]]:
    """Errors and warnings of a country update, each naming the feature and field.

    Parameters
    ----------
    country : str
        The ISO 3166-1 alpha-3 code the update is for; every feature must carry it.
    features : list of dict
        GeoJSON features as uploaded (not yet normalised).
    other_countries_ids : mapping of id to country
        Ids already used by services of other countries (ids are registry-wide).
    file : str
        The name shown in messages (the uploaded file's name).
    check_countries : bool
        Check each point lies inside its country (needs the bundled boundaries).
    """
    if country not in schema.COUNTRIES:
        return [Issue(f"unknown country code; expected one of: {', '.join(schema.COUNTRIES)}",
                      file, field="country", value=country)], []
    issues = validate_collection({"type": "FeatureCollection", "features": features}, file,
                                 check_countries=check_countries)
    found = errors(issues)
    warnings = [i for i in issues if i.severity != "error"]
    for index, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            continue
        fid, fcountry = props.get("id"), props.get("country")
        if fcountry != country:
            found.append(Issue(f"this update is for {country}; the service belongs elsewhere",
                               file, index, str(fid or ""), "country", fcountry))
        if isinstance(fid, str) and other_countries_ids.get(fid, country) != country:
            found.append(Issue(f"id already used by a service in {other_countries_ids[fid]}",
                               file, index, fid, "id", fid))
    return found, warnings


def diff_features(
    country: str,
    current: Iterable[StoredService],
    incoming: Iterable[Feature],
    warnings: list[Issue] | None = None,
) -> Diff:
    """Compare a country's stored services with an update (both already valid).

    The update is the country's complete listing: stored services it does not
    contain are removed.
    """
    stored = {s.id: s for s in current}
    new = {feature_id(f): canonical_feature(f) for f in incoming}
    for fid, feature in new.items():
        if fid in stored:
            new[fid] = keep_withheld(stored[fid].feature, feature)
    added, changed, removed, unchanged = [], [], [], 0
    for fid in sorted(new):
        old = stored.get(fid)
        if old is None:
            added.append(ServiceChange(fid, "added", None, new[fid]))
        elif canonical_feature(old.feature) != new[fid]:
            changed.append(ServiceChange(fid, "changed", old.feature, new[fid], old.version))
        else:
            unchanged += 1
    for fid in sorted(set(stored) - set(new)):
        removed.append(ServiceChange(fid, "removed", stored[fid].feature, None,
                                     stored[fid].version))
    return Diff(country, added, changed, removed, unchanged,
                {fid: s.version for fid, s in stored.items()}, list(warnings or []))


def version_conflicts(
    expected: Mapping[str, int | None], current: Mapping[str, int]
) -> list[tuple[str, int | None, int | None]]:
    """(id, expected, current) for every service whose version moved (None = absent)."""
    ids = sorted(set(expected) | set(current))
    return [(i, expected.get(i), current.get(i)) for i in ids
            if expected.get(i) != current.get(i)]


def conflict_message(country: str, conflicts: list[tuple[str, int | None, int | None]],
                     last_users: Mapping[str, str] | None = None) -> str:
    """A message telling the editor what moved and what to do."""
    parts = []
    for fid, old, new in conflicts[:5]:
        who = (last_users or {}).get(fid)
        by = f" by {who}" if who else ""
        if old is None:
            parts.append(f"{fid!r} was added{by}")
        elif new is None:
            parts.append(f"{fid!r} was removed{by}")
        else:
            parts.append(f"{fid!r} changed from version {old} to {new}{by}")
    more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
    return (f"Conflict: the {country} registry changed since you loaded it "
            f"({'; '.join(parts)}{more}). Nothing was saved; reload, review and try again.")


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


def search_text_of(props: Mapping[str, Any]) -> str:
    """Folded free-text of a service's public properties (same as Registry.search_text)."""
    from rcm_map.core.text import fold

    cols = ("name", "organization", "city", "description", "address", "referral")
    return fold(" ".join(str(props.get(c) or "") for c in cols))


# --- the interface ------------------------------------------------------------------


class Store(abc.ABC):
    """Where the registry lives. Both backends pass the same tests (tests/store/)."""

    # Reading (public) ---------------------------------------------------------------

    @abc.abstractmethod
    def search(self, query: Query) -> SearchResult:
        """Run a query exactly as `rcm_map.search.query.search` does on the public registry."""

    @abc.abstractmethod
    def get(self, service_id: str, *, public: bool = True) -> StoredService:
        """One service and its version; raise NotFoundError when the id is unknown.

        `public=False` returns the true location and address (focal points only).
        """

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

    @abc.abstractmethod
    def apply_update(self, diff: Diff, user: str, *, note: str = "") -> int:
        """Apply a previewed diff in one transaction and return its change id.

        Raises ConflictError if the country changed since the preview.
        """

    @abc.abstractmethod
    def update_service(self, service_id: str, feature: Feature, expected_version: int,
                       user: str, *, action: str = "edit", summary: str = "") -> int:
        """Replace one service if it is still at `expected_version`; return the new version.

        `action` ("edit" or "verify") and `summary` are what the history records.
        Raises ConflictError (someone else saved first), NotFoundError, UpdateRejected.
        """

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

    # History --------------------------------------------------------------------------

    @abc.abstractmethod
    def history(self, *, country: str | None = None, service_id: str | None = None,
                limit: int = 50) -> list[ChangeRecord]:
        """Changes, newest first, with the services each touched (before/after)."""

    @abc.abstractmethod
    def change(self, change_id: int) -> ChangeRecord:
        """One change with its services; NotFoundError if unknown."""

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
                    current = self._current_version(service_id)
                    country = feature_country(s.after) if s.after else record.country
                    return self._restore_states(country, {service_id: (s.after, current)},
                                                user, record.change_id)
        raise NotFoundError(f"service {service_id!r} has no recorded version {version!r}")

    @abc.abstractmethod
    def _restore_states(self, country: str, targets: dict[str, tuple[Feature | None, int | None]],
                        user: str, restored_from: int) -> int:
        """Set each service to a state if it is still at the given version (None = absent)."""

    @abc.abstractmethod
    def _current_version(self, service_id: str) -> int | None:
        """The version of a service now, None when it does not exist."""

    @abc.abstractmethod
    def _ids_outside(self, country: str) -> dict[str, str]:
        """Ids (and their country) of services outside `country`."""

    # Problem reports ------------------------------------------------------------------

    @abc.abstractmethod
    def report_problem(self, service_id: str, kind: str, comment: str = "") -> int:
        """Record a caseworker's report on a service; return its id (no personal data kept)."""

    @abc.abstractmethod
    def open_reports(self, country: str | None = None) -> list[Report]:
        """Open reports, oldest first, optionally of one country."""

    @abc.abstractmethod
    def resolve_report(self, report_id: int, user: str, note: str = "") -> None:
        """Close a report; NotFoundError if unknown, StoreError if already resolved."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections (PostGIS); a no-op for files."""
