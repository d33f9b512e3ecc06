"""Pure logic of country updates shared by both backends, so they compute identical
previews, versions, public views and errors.

Belongs here: normalising a feature (`canonical_feature`), its public view
(`public_feature`, `keep_withheld`), validating an update or one edit
(`validate_update`, `check_edit`), the diff of an update (`diff_features`) and
version conflicts. No I/O and no SQL.

May import `core`, `registry` and `store.records`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rcm_map.core import schema
from rcm_map.core.safety import WITHHELD_FOR_CONFIDENTIAL, public_properties
from rcm_map.core.schema import Issue
from rcm_map.core.standin import public_point
from rcm_map.registry.model import errors, validate_collection
from rcm_map.store.records import (
    Diff,
    Feature,
    ServiceChange,
    StoredService,
    UpdateRejected,
    coords,
    feature_id,
)


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
    true_point, shown = coords(stored), coords(incoming)
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



def search_text_of(props: Mapping[str, Any]) -> str:
    """Folded free-text of a service's public properties (same as Registry.search_text)."""
    from rcm_map.core.text import fold

    cols = ("name", "organization", "city", "description", "address", "referral")
    return fold(" ".join(str(props.get(c) or "") for c in cols))


def check_edit(service_id: str, feature: Feature, country: str, *,
               check_countries: bool = True) -> None:
    """Raise UpdateRejected when a one-service edit is invalid, renames the id or
    moves the service out of `country`."""
    found, _ = validate_update(country, [feature], {}, file=f"edit of {service_id}",
                               check_countries=check_countries)
    props = feature.get("properties") if isinstance(feature, dict) else None
    if isinstance(props, dict) and props.get("id") != service_id:
        found.append(Issue(f"an edit cannot change the id (editing {service_id!r})",
                           f"edit of {service_id}", 0, service_id, "id", props.get("id")))
    if found:
        raise UpdateRejected(found)
