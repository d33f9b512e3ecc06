"""Map HSDS 3.0 services onto registry features, reporting what does not fit.

`import_hsds` returns the features that are valid registry entries and one
`Issue` per problem: an unknown taxonomy term, a location without coordinates
or with an impossible position (latitude 100), a required registry field that
the HSDS record does not provide, a website that is not http(s), ... Each issue
names the HSDS file, the row (tabular) or record (JSON), the HSDS id, the HSDS
field and the value. A record with an error is not imported; warnings are
informative. Nothing is made up: an empty HSDS value stays empty.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from rcm_map.core import schema
from rcm_map.core.geo import lat_lon_problem
from rcm_map.core.schema import Issue
from rcm_map.formats.hsds_read import MISSING, Obj, _issue, read_services
from rcm_map.formats.taxonomy import TAXONOMIES, resolve_term
from rcm_map.registry.model import RegistryError, validate_collection

ISO3_BY_ISO2 = {v: k for k, v in schema.ISO2_BY_ISO3.items()}
_ADMIN1 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")

# Where each registry field comes from in HSDS, to name it in issues.
HSDS_FIELD = {
    "id": "attributes (rcm_map:field record_id) or id", "name": "name",
    "organization": "organization.name",
    "organization_type": "organization.attributes (rcm_map:organization_type)",
    "service_types": "attributes (rcm_map:service_type)", "age_min": "minimum_age",
    "age_max": "maximum_age", "populations": "attributes (rcm_map:population)",
    "country": "addresses.country or attributes (rcm_map:field country)",
    "admin1": "addresses.state_province or attributes (rcm_map:field admin1)",
    "city": "addresses.city", "address": "addresses.address_1", "phones": "phones.number",
    "email": "email", "website": "url", "hours": "schedules.description",
    "languages": "languages.code", "cost": "fees_description",
    "referral": "application_process",
    "notifies_authorities": "attributes (rcm_map:notifies_authorities)",
    "location_precision": "attributes (rcm_map:location_precision)",
    "source_date": "attributes (rcm_map:field source_date)", "verified_on": "assured_date",
    "verified_by": "attributes (rcm_map:field verified_by)",
    "eligibility": "eligibility_description", "source": "attributes (rcm_map:field source)",
    "description": "description", "geometry.coordinates": "location.latitude/longitude",
}


def _dicts(obj: Obj, key: str) -> list[Obj]:
    value = obj.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> Any:
    """Strings stripped; other values (numbers, objects) left for validation to judge."""
    return value.strip() if isinstance(value, str) else ("" if value is None else value)


class _Terms:
    """What a service's attributes say, through our taxonomies."""

    def __init__(self) -> None:
        self.lists: dict[str, list[str]] = {"service_types": [], "populations": []}
        self.scalars: dict[str, str] = {}
        self.values: dict[str, str] = {}

    def read(self, owner: Obj, issues: list[Issue]) -> None:
        for attribute in _dicts(owner, "attributes"):
            term = attribute.get("taxonomy_term")
            term = term if isinstance(term, dict) else {"id": attribute.get("taxonomy_term_id")}
            found = resolve_term(term)
            if found is None:
                shown = {k: term[k] for k in ("id", "code", "name", "taxonomy") if term.get(k)}
                issues.append(_issue(attribute if "_file" in attribute else owner,
                                     "unknown taxonomy term; not mapped (rcm_map reads its own "
                                     "rcm_map:* taxonomies, see docs/interop.md)",
                                     "attributes.taxonomy_term", shown, "warning"))
                continue
            self._add(*found, attribute, owner, issues)

    def _add(self, key: str, code: str, attribute: Obj, owner: Obj,
             issues: list[Issue]) -> None:
        field = TAXONOMIES[key].field
        if key == "field":
            self.values.setdefault(code, _text(attribute.get("value")))
        elif field in self.lists:
            if code not in self.lists[field]:
                self.lists[field].append(code)
        elif self.scalars.setdefault(field, code) != code:
            issues.append(_issue(owner, f"second {field} term ignored (kept "
                                 f"{self.scalars[field]!r})", "attributes", code, "warning"))


def _address(location: Obj) -> Obj:
    found = _dicts(location, "addresses")
    physical = [a for a in found if a.get("address_type") == "physical"]
    return (physical or found or [{}])[0]


def _country(terms: _Terms, address: Obj) -> Any:
    if terms.values.get("country"):
        return terms.values["country"]
    code = _text(address.get("country"))
    if isinstance(code, str) and code:
        return ISO3_BY_ISO2.get(code.upper(), code.upper())
    return ""


def _admin1(terms: _Terms, address: Obj, issues: list[Issue]) -> str:
    if terms.values.get("admin1"):
        return terms.values["admin1"]
    state = _text(address.get("state_province"))
    if isinstance(state, str) and state and not _ADMIN1.match(state):
        issues.append(_issue(address, "state_province is not an ISO 3166-2 code such as "
                             "MX-CHP; admin1 left empty", "state_province", state, "warning"))
        return ""
    return state if isinstance(state, str) else ""


def _street(address: Obj) -> str:
    parts = [_text(address.get(k)) for k in ("address_1", "address_2")]
    return ", ".join(p for p in parts if isinstance(p, str) and p)


def _phones(owners: list[Obj], issues: list[Issue]) -> list[Any]:
    for owner in owners:
        numbers = []
        for phone in _dicts(owner, "phones"):
            number = _text(phone.get("number"))
            if isinstance(number, str) and len(number) > 2 and number[0] == number[-1] == '"':
                issues.append(_issue(phone if "_file" in phone else owner,
                                     "phone number wrapped in quotation marks; marks removed",
                                     "phones.number", number, "warning"))
                number = number[1:-1].strip()
            if number not in ("", *numbers):
                numbers.append(number)
        if numbers:
            return numbers
    return []


def _languages(owners: list[Obj], issues: list[Issue]) -> list[Any]:
    for owner in owners:
        codes = []
        for lang in _dicts(owner, "languages"):
            code = _text(lang.get("code"))
            if not code:
                issues.append(_issue(lang if "_file" in lang else owner, "language without an "
                                     "ISO 639 code; not mapped", "languages.code",
                                     lang.get("name"), "warning"))
            elif (code.lower() if isinstance(code, str) else code) not in codes:
                codes.append(code.lower() if isinstance(code, str) else code)
        if codes:
            return codes
    return []


def _hours(owners: list[Obj]) -> str:
    for owner in owners:
        texts = []
        for schedule in _dicts(owner, "schedules"):
            text = _text(schedule.get("description"))
            if not text and schedule.get("opens_at"):
                text = " ".join(str(_text(schedule.get(k))) for k in ("byday", "opens_at")
                                if schedule.get(k)) + f"-{_text(schedule.get('closes_at'))}"
            if isinstance(text, str) and text and text not in texts:
                texts.append(text)
        if texts:
            return " / ".join(texts)
    return ""


def _age(service: Obj, key: str, issues: list[Issue]) -> Any:
    value = service.get(key)
    if value is None or value == "":
        return None
    high = schema.AGE_LIMITS[1]
    if key == "maximum_age" and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value) and value > high:
        issues.append(_issue(service, f"maximum_age above {high}: read as no upper age limit",
                             key, value, "warning"))
        return None
    return value


def _position(location: Obj, issues: list[Issue]) -> list[float] | None:
    """[lon, lat] of a location, or None after reporting why it has no usable position."""
    if location.get(MISSING):
        return None  # reported when the package was read
    lat, lon = location.get("latitude"), location.get("longitude")
    if lat is None and lon is None:
        issues.append(_issue(location, "missing coordinates: the location has no latitude "
                             "and longitude (geocode it first)", "latitude/longitude"))
        return None
    problem = lat_lon_problem(lat, lon, numbers_only=True)
    if problem is not None:
        issues.append(_issue(location, f"invalid position: {problem.message}", problem.field,
                             problem.value))
        return None
    return [float(lon), float(lat)]


def _properties(service: Obj, location: Obj, file: str, issues: list[Issue]) -> Obj:
    org = service.get("organization") if isinstance(service.get("organization"), dict) else {}
    terms = _Terms()
    for owner in (org, service, location):
        terms.read(owner, issues)
    address = _address(location)
    sal_owners = [service, location]
    return {
        "id": terms.values.get("record_id") or "",
        "name": _text(service.get("name")), "organization": _text(org.get("name")),
        "organization_type": terms.scalars.get("organization_type", ""),
        "service_types": terms.lists["service_types"],
        "age_min": _age(service, "minimum_age", issues),
        "age_max": _age(service, "maximum_age", issues),
        "populations": terms.lists["populations"], "country": _country(terms, address),
        "admin1": _admin1(terms, address, issues),
        "city": terms.values.get("city") or _text(address.get("city")),
        "address": _street(address) or terms.values.get("address", ""),
        "phones": _phones(sal_owners, issues), "email": _text(service.get("email")),
        "website": _text(service.get("url")), "hours": _hours(sal_owners),
        "languages": _languages(sal_owners, issues),
        "cost": _text(service.get("fees_description")),
        "referral": _text(service.get("application_process")),
        "notifies_authorities": terms.scalars.get("notifies_authorities", "unknown"),
        "location_precision": terms.scalars.get("location_precision", ""),
        "source_date": terms.values.get("source_date", ""),
        "verified_on": _text(service.get("assured_date")),
        "verified_by": terms.values.get("verified_by", ""),
        "eligibility": _text(service.get("eligibility_description")),
        "source": terms.values.get("source")
        or f"HSDS 3.0 import of {Path(file).name}, service {service.get('id', '')}",
        "description": _text(service.get("description")),
    }


def _status_ok(service: Obj, issues: list[Issue]) -> bool:
    status = service.get("status")
    if status in (None, "", "active"):
        return True
    issues.append(_issue(service, "service is not active; only active services are "
                         "imported", "status", status))
    return False


_NO_POSITION: Obj = {}  # marker: the location had no usable position (already reported)


def service_candidates(service: Obj) -> tuple[list[tuple[Obj, Obj]], list[Issue]]:
    """(feature, origin) pairs for one nested HSDS service, and issues found on the way.

    One feature per location of the service; a service with no location gives
    one unmapped (country-wide) feature. A location with no usable position
    gives no feature, only an issue.
    """
    issues: list[Issue] = []
    if not _status_ok(service, issues):
        return [], issues
    file = str(service.get("_file", ""))
    sid = str(service.get("id") or "")
    sals = _dicts(service, "service_at_locations")
    locations = [s["location"] for s in sals if isinstance(s.get("location"), dict)]
    out = []
    for location in locations or [{}]:
        props = _properties(service, location, file, issues)
        geometry: Obj | None = None
        if not location:  # no location at all: a country-wide service unless it says more
            props["location_precision"] = props["location_precision"] or "country_wide"
        else:
            coords = _position(location, issues)
            # A bad position rejects the record, but its other fields are still
            # checked so that the report gives every reason at once.
            geometry = {"type": "Point", "coordinates": coords} if coords else _NO_POSITION
        if not props["id"]:
            props["id"] = sid if len(locations) <= 1 else f"{sid}:{location.get('id', '')}"
        elif len(locations) > 1:
            props["id"] = f"{props['id']}:{location.get('id', '')}"
        out.append(({"type": "Feature", "geometry": geometry, "properties": props},
                    location or service))
    return out, issues


def _apply_defaults(props: Obj, defaults: dict[str, Any] | None, origin: Obj,
                    issues: list[Issue]) -> None:
    for name, value in (defaults or {}).items():
        if name in schema.FIELD_NAMES and schema.is_empty(props.get(name)):
            props[name] = value
            issues.append(_issue(origin, f"{name} not in the record; filled from the "
                                 "defaults given to the import", HSDS_FIELD.get(name, name),
                                 value, "warning"))


def _translate(issue: Issue, service: Obj, origin: Obj) -> Issue:
    """A registry validation issue restated in HSDS terms (file, row, id, HSDS field)."""
    where = origin if issue.field == "geometry.coordinates" else service
    hsds = HSDS_FIELD.get(issue.field, issue.field)
    message = f"{issue.message} (registry field {issue.field!r})" if issue.field else \
        issue.message
    return _issue(where, message, hsds, issue.value, issue.severity)


def services_to_features(services: list[Obj], defaults: dict[str, Any] | None = None
                         ) -> tuple[list[Obj], list[Issue]]:
    """Registry features of nested HSDS services; records with errors are left out."""
    issues: list[Issue] = []
    candidates: list[tuple[Obj, Obj, Obj]] = []
    for service in services:
        found, problems = service_candidates(service)
        issues += problems
        for feature, origin in found:
            _apply_defaults(feature["properties"], defaults, origin, issues)
            candidates.append((feature, service, origin))
    rejected = {i for i, c in enumerate(candidates) if c[0]["geometry"] is _NO_POSITION}
    collection = {"type": "FeatureCollection", "features": [
        {**f, "geometry": None if f["geometry"] is _NO_POSITION else f["geometry"]}
        for f, _, _ in candidates]}
    for issue in validate_collection(collection):
        if issue.index in rejected and "needs a point" in issue.message:
            continue  # the unusable position is already reported
        feature, service, origin = candidates[issue.index or 0]
        issues.append(_translate(issue, service, origin))
        if issue.severity == "error":
            rejected.add(issue.index)
    features = [{"type": "Feature", "geometry": f["geometry"],
                 "properties": schema.normalize_properties(f["properties"])}
                for i, (f, _, _) in enumerate(candidates) if i not in rejected]
    return features, issues


def import_hsds(path: str | Path, defaults: dict[str, Any] | None = None
                ) -> tuple[list[Obj], list[Issue]]:
    """Import an HSDS 3.0 package or JSON document into registry features.

    Parameters
    ----------
    path
        A package folder (or its `datapackage.json`, or a ZIP of it), or an HSDS
        JSON file: service, organization, location, service_at_location, or a
        page (`contents`) of them.
    defaults
        Values for registry fields a partner's records lack (for instance
        ``{"organization_type": "ngo"}``); each use is reported as a warning.

    Returns
    -------
    features, issues
        Valid registry features (canonical properties) and every issue found.
        A record with an error is not among the features.
    """
    try:
        services, issues = read_services(path)
    except RegistryError as exc:
        return [], exc.issues
    features, more = services_to_features(services, defaults)
    return features, issues + more
