"""The registry schema: vocabularies (codes), fields, and validation.

One GeoJSON Feature per service point. This module knows what a valid set of
properties looks like; `registry.py` knows about files and geometry. Codes are
stable snake_case strings; their labels, for display only, are in the message
catalogues (`rcm_map.core.i18n.Translator.label`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

LANGUAGES_UI = ("es", "en", "fr")

# Controlled vocabularies: stable codes, in display order (bit order of the search
# masks: append new codes, never reorder). Labels are in the message catalogues
# (``vocab.<vocabulary>.<code>``, see rcm_map/core/i18n.py).
SERVICE_TYPES: tuple[str, ...] = (
    "child_protection_authority", "shelter", "consular_assistance", "migration_authority",
    "asylum_refugee", "legal_assistance", "health", "psychosocial",
    "family_tracing_reunification", "return_reception", "education", "food_basic_needs",
    "documentation", "anti_trafficking", "hotline",
    # Immigration-controlled reception and holding sites (CAIM, CAMI, ERM stations):
    # children pass through them, but they are not shelters (actors_sources.md section 7).
    "migration_holding",
)
POPULATIONS: tuple[str, ...] = (
    "unaccompanied", "separated", "accompanied", "families", "asylum_seekers", "returnees",
    "trafficking_survivors", "lgbtiq", "indigenous",
)
ORGANIZATION_TYPES: tuple[str, ...] = (
    "government", "ngo", "international", "consular", "faith_based", "other",
)
LOCATION_PRECISIONS: tuple[str, ...] = ("address", "city", "confidential", "country_wide")
POINT_PRECISIONS = ("address", "city", "confidential")
"""Precisions that need a point; ``country_wide`` is the one for services without one."""

NOTIFIES_AUTHORITIES: tuple[str, ...] = ("yes", "no", "unknown")
COUNTRIES: tuple[str, ...] = ("CAN", "CRI", "SLV", "GTM", "HND", "MEX", "NIC", "PAN")
ISO2_BY_ISO3 = {
    "CAN": "CA", "CRI": "CR", "SLV": "SV", "GTM": "GT",
    "HND": "HN", "MEX": "MX", "NIC": "NI", "PAN": "PA",
}  # fmt: skip

# Age bands overlap-match a service's [age_min, age_max] range.
AGE_BANDS: dict[str, tuple[int, int]] = {"0-5": (0, 5), "6-11": (6, 11), "12-17": (12, 17)}
AGE_LIMITS = (0, 25)

VOCABULARIES: dict[str, tuple[str, ...]] = {
    "service_types": SERVICE_TYPES,
    "populations": POPULATIONS,
    "organization_type": ORGANIZATION_TYPES,
    "location_precision": LOCATION_PRECISIONS,
    "notifies_authorities": NOTIFIES_AUTHORITIES,
    "country": COUNTRIES,
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "str", "list", "age", "date", "email", "url", or a vocabulary name
    required: bool = False


FIELDS: tuple[Field, ...] = (
    Field("id", "str", required=True),
    Field("name", "str", required=True),
    Field("organization", "str", required=True),
    Field("organization_type", "organization_type", required=True),
    Field("service_types", "list:service_types", required=True),
    Field("age_min", "age"),
    Field("age_max", "age"),
    Field("populations", "list:populations"),
    Field("country", "country", required=True),
    Field("admin1", "admin1"),
    Field("city", "str"),
    Field("address", "str"),
    Field("phones", "list:str"),
    Field("email", "email"),
    Field("website", "url"),
    Field("hours", "str"),
    Field("languages", "list:language"),
    Field("cost", "str"),
    Field("referral", "str"),
    Field("notifies_authorities", "notifies_authorities"),
    Field("location_precision", "location_precision", required=True),
    Field("source_date", "date"),  # newest dated public source: NOT a verification
    Field("verified_on", "date"),  # a focal point confirmed the entry with the organisation
    Field("verified_by", "str"),
    Field("eligibility", "str"),
    Field("source", "str", required=True),
    Field("description", "str"),
)
# Fields renamed since the first registry files; `upgrade_properties` reads them.
LEGACY_FIELDS: dict[str, str] = {
    # `last_verified` was always the date of the newest source, never a verification
    # (issue 16), so old files keep that meaning under its honest name.
    "last_verified": "source_date",
}
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)

# Version of what a valid registry is and of the public view built from it
# (validation, normalisation, public points, withheld fields). Bump it with any such
# change: registry caches built under another version are rebuilt, and
# tests/unit/test_schema_version.py fails when that code changes and this does not.
# 4: one coordinate validator's messages; 5: stand-ins in the country, source notes
# withheld, country_wide (issue 12); 6: source_date, verified_on, verified_by,
# eligibility and migration_holding (honest dates, issue 16); 7: the stand-in validates
# its input with core.geo (one coordinate validator, issue 17); 8: the fast reader
# (registry.fastscan) builds caches
SCHEMA_VERSION = 8
LIST_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind.startswith("list:"))
TEXT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in FIELDS if f.name not in LIST_FIELDS and f.kind != "age"
)

MAX_TEXT_LENGTH = 5000
_EMAIL = re.compile(r"^[^@\s<>\"'`]+@[^@\s<>\"'`]+\.[^@\s<>\"'`]+$")
_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_ADMIN1 = re.compile(r"^([A-Z]{2})-[A-Z0-9]{1,3}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # TAB, LF and CR are text


@dataclass(frozen=True)
class Issue:
    """One problem found in a registry or an import, precise enough to fix by hand."""

    message: str
    file: str = ""
    index: int | None = None  # feature index or CSV row number
    feature_id: str = ""
    field: str = ""
    value: Any = None
    severity: str = "error"  # "error" or "warning"
    row_label: str = "feature"

    def __str__(self) -> str:
        where = [self.file] if self.file else []
        if self.index is not None:
            ident = f" (id {self.feature_id!r})" if self.feature_id else ""
            where.append(f"{self.row_label} {self.index}{ident}")
        if self.field:
            where.append(f"field {self.field!r}")
        head = ": ".join(where)
        value = f" (got {_short_repr(self.value)})" if self.value is not None else ""
        prefix = "warning: " if self.severity == "warning" else ""
        text = f"{prefix}{self.message}{value}"
        return f"{head}: {text}" if head else text


MAX_ISSUES_SHOWN = 200
"""Issue lines printed or shown at most; the rest are counted (issue 12: a hostile
archive once printed 10.1 million lines)."""


def issue_lines(issues: list[Issue], indent: str = "", limit: int = MAX_ISSUES_SHOWN
                ) -> list[str]:
    """One line per issue, at most `limit`, then one line counting the rest."""
    lines = [f"{indent}{issue}" for issue in issues[:limit]]
    if len(issues) > limit:
        lines.append(f"{indent}... and {len(issues) - limit:,} more issues "
                     f"(the first {limit} are shown)")
    return lines


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_empty(value: Any) -> bool:
    """True for None, NaN, empty strings and empty lists."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return isinstance(value, (list, tuple)) and len(value) == 0


def _check_vocab(code: Any, vocab: tuple[str, ...]) -> str | None:
    if not isinstance(code, str) or code not in vocab:
        return "unknown code; expected one of: " + ", ".join(vocab)
    return None


def _check_value(kind: str, value: Any, props: dict[str, Any]) -> str | None:
    """Return why `value` is invalid for a field of `kind`, or None when it is fine."""
    if isinstance(value, str) and _SURROGATE.search(value):
        # JSON "\ud800" escapes decode to lone surrogates that no UTF-8 output can
        # encode: accepted, they made every later search and export fail.
        return "text holds an invalid character (a lone UTF-16 surrogate); re-save as UTF-8"
    if isinstance(value, str) and (bad := _CONTROL.search(value)):
        # NUL passed the preview, then PostgreSQL refused it on apply (issue 12).
        return (f"text holds a control character (U+{ord(bad.group()):04X}) at position "
                f"{bad.start() + 1}; remove it")
    if kind == "str":
        if not isinstance(value, str):
            return "expected text"
        if len(value) > MAX_TEXT_LENGTH:
            return f"text longer than {MAX_TEXT_LENGTH} characters"
        return None
    if kind in VOCABULARIES:
        return _check_vocab(value, VOCABULARIES[kind])
    if kind == "age":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"expected a whole number of years from {AGE_LIMITS[0]} to {AGE_LIMITS[1]}"
        if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
            return f"expected a whole number of years from {AGE_LIMITS[0]} to {AGE_LIMITS[1]}"
        if not AGE_LIMITS[0] <= value <= AGE_LIMITS[1]:
            return f"age outside {AGE_LIMITS[0]}..{AGE_LIMITS[1]}"
        return None
    if kind == "date":
        if not isinstance(value, str):
            return "expected an ISO date YYYY-MM-DD"
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return "expected an ISO date YYYY-MM-DD"
        if len(value) != 10:
            return "expected an ISO date YYYY-MM-DD"
        if day > dt.date.today() + dt.timedelta(days=1):
            return "date is in the future"
        return None
    if kind == "email":
        if not isinstance(value, str) or not _EMAIL.match(value) or len(value) > 254:
            return "expected one e-mail address like name@example.org"
        return None
    if kind == "url":
        if not isinstance(value, str) or not _URL.match(value) or len(value) > 2000:
            return "expected an http:// or https:// address"
        return None
    if kind == "admin1":
        match = _ADMIN1.match(value) if isinstance(value, str) else None
        if match is None:
            return "expected an ISO 3166-2 code such as MX-CHP"
        country = props.get("country")
        if isinstance(country, str) and ISO2_BY_ISO3.get(country, match.group(1)) != match.group(1):
            return f"ISO 3166-2 code is not in country {country}"
        return None
    if kind.startswith("list:"):
        if not isinstance(value, list):
            return "expected a list"
        item_kind = kind.split(":", 1)[1]
        for item in value:
            if item_kind == "language":
                if not isinstance(item, str) or not _LANGUAGE.match(item):
                    return f"{item!r} is not an ISO 639 language code (2-3 lowercase letters)"
            else:
                problem = _check_value(item_kind, item, props)
                if problem:
                    return f"item {item!r}: {problem}"
        if len(set(map(repr, value))) != len(value):
            return "list repeats an item"
        return None
    raise ValueError(f"unknown field kind {kind!r}")


def check_value(kind: str, value: Any) -> str | None:
    """Why `value` is not a valid value of a field of `kind` (e.g. "email"), or None."""
    return _check_value(kind, value, {})


def validate_properties(
    props: Any, *, file: str = "", index: int | None = None, row_label: str = "feature"
) -> list[Issue]:
    """Every problem in one feature's properties; an empty list means valid."""
    if not isinstance(props, dict):
        return [Issue("properties must be a JSON object", file, index, "", "properties",
                      type(props).__name__, row_label=row_label)]
    props = upgrade_properties(props)
    raw_id = props.get("id")
    fid: str = raw_id if isinstance(raw_id, str) else ""
    issues: list[Issue] = []

    def add(field: str, message: str, value: Any = None) -> None:
        issues.append(Issue(message, file, index, fid, field, value, row_label=row_label))

    for field in FIELDS:
        value = props.get(field.name)
        if is_empty(value):
            if field.required:
                add(field.name, "required field is missing or empty")
            continue
        problem = _check_value(field.kind, value, props)
        if problem:
            add(field.name, problem, value)
    if isinstance(fid, str) and fid and not _ID.match(fid):
        add("id", "id must be 1-128 letters, digits, '.', '_', ':' or '-'", fid)
    for name in props:
        if name not in FIELD_NAMES and name != "distance_km":
            issues.append(Issue("unknown field (ignored)", file, index, fid, name,
                                severity="warning", row_label=row_label))
    lo, hi = props.get("age_min"), props.get("age_max")
    ages_valid = not any(i.field in ("age_min", "age_max") for i in issues)
    if ages_valid and isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
        add("age_min", f"age_min is greater than age_max ({hi!r})", lo)
    return issues


def upgrade_properties(props: dict[str, Any]) -> dict[str, Any]:
    """Properties with legacy field names (`LEGACY_FIELDS`) renamed; input untouched.

    A legacy value never overwrites a value under the new name.
    """
    if not any(old in props for old in LEGACY_FIELDS):
        return props
    out = dict(props)
    for old, new in LEGACY_FIELDS.items():
        if old in out:
            value = out.pop(old)
            if is_empty(out.get(new)):
                out[new] = value
    return out


def empty_value(field_name: str) -> Any:
    """The canonical empty value of a field: [] for lists, None for ages, '' for text."""
    if field_name in LIST_FIELDS:
        return []
    if field_name in ("age_min", "age_max"):
        return None
    if field_name == "notifies_authorities":
        return "unknown"
    return ""


def normalize_properties(props: dict[str, Any]) -> dict[str, Any]:
    """Return properties with every schema field present in canonical form.

    Assumes `validate_properties` found no errors. Ages become int or None, lists
    lists, empty text ''. Legacy names are upgraded; unknown fields are dropped.
    """
    props = upgrade_properties(props)
    out: dict[str, Any] = {}
    for name in FIELD_NAMES:
        value: Any = props.get(name)
        if is_empty(value):
            out[name] = empty_value(name)
        elif name in ("age_min", "age_max"):
            out[name] = int(value)
        elif name in LIST_FIELDS:
            out[name] = [str(v) for v in value]
        else:
            out[name] = value.strip() if isinstance(value, str) else value
    return out
