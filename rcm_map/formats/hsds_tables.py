"""The HSDS 3.0 tables rcm_map reads and writes, and their CSV encoding.

The column lists follow the official HSDS 3.0 schema (openreferral/specification,
`schema/*.json`); `tests/unit/test_hsds.py` checks them, column by column,
against the official compiled schema in ../shared/data/peer/hsds-3.0/. A column
spec is ``name[:format][!]``: format is ``uuid``, ``uri``, ``email``,
``date-time`` or ``number`` (a numeric column); ``!`` marks a value the table
requires (HSDS `required`, plus `tabular_required` foreign keys).
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from rcm_map.core.safety import neutralize_csv_cell, restore_csv_cell

_SPECS: dict[str, str] = {
    "organizations": "id:uuid! name! alternate_name description! email:email website:uri "
    "tax_status tax_id year_incorporated:number legal_status logo uri:uri "
    "parent_organization_id:uuid",
    "services": "id:uuid! organization_id:uuid! program_id:uuid name! alternate_name description "
    "url:uri email:email status! interpretation_services application_process fees_description "
    "wait_time fees accreditations eligibility_description minimum_age:number "
    "maximum_age:number assured_date assurer_email:email licenses alert "
    "last_modified:date-time",
    "locations": "id:uuid! location_type! url:uri organization_id:uuid name alternate_name "
    "description transportation latitude:number longitude:number external_identifier "
    "external_identifier_type",
    "service_at_location": "id:uuid! service_id:uuid! location_id:uuid! description",
    "phones": "id:uuid! location_id:uuid service_id:uuid organization_id:uuid contact_id:uuid "
    "service_at_location_id:uuid number! extension:number type description",
    "addresses": "id:uuid! location_id:uuid attention address_1! address_2 city! region "
    "state_province! postal_code! country! address_type!",
    "languages": "id:uuid! service_id:uuid location_id:uuid phone_id:uuid name code note",
    "schedules": "id:uuid! service_id:uuid location_id:uuid service_at_location_id:uuid "
    "valid_from valid_to dtstart timezone:number until count:number wkst freq "
    "interval:number byday byweekno bymonthday byyearday description opens_at closes_at "
    "schedule_link:uri attending_type notes",
    "attributes": "id:uuid! link_id:uuid! taxonomy_term_id:uuid! link_type link_entity! value",
    "taxonomies": "id:uuid! name! description! uri:uri version",
    "taxonomy_terms": "id:uuid! code name! description! parent_id:uuid taxonomy language "
    "taxonomy_id:uuid term_uri:uri",
}

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("services", "status"): ("active", "inactive", "defunct", "temporarily closed"),
    ("locations", "location_type"): ("physical", "postal", "virtual"),
    ("addresses", "address_type"): ("physical", "postal", "virtual"),
    ("schedules", "wkst"): ("MO", "TU", "WE", "TH", "FR", "SA", "SU"),
    ("schedules", "freq"): ("WEEKLY", "MONTHLY"),
}

# Foreign keys we write (table, column) -> referenced table (always its `id`).
FOREIGN_KEYS: dict[tuple[str, str], str] = {
    ("services", "organization_id"): "organizations",
    ("locations", "organization_id"): "organizations",
    ("service_at_location", "service_id"): "services",
    ("service_at_location", "location_id"): "locations",
    ("phones", "service_id"): "services",
    ("addresses", "location_id"): "locations",
    ("languages", "service_id"): "services",
    ("schedules", "service_id"): "services",
    ("attributes", "taxonomy_term_id"): "taxonomy_terms",
    ("taxonomy_terms", "taxonomy_id"): "taxonomies",
}


def _parse_spec(spec: str) -> tuple[tuple[str, str, bool], ...]:
    out = []
    for token in spec.split():
        required = token.endswith("!")
        name, _, fmt = token.rstrip("!").partition(":")
        out.append((name, fmt, required))
    return tuple(out)


COLUMNS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    table: _parse_spec(spec) for table, spec in _SPECS.items()
}
TABLES: tuple[str, ...] = tuple(COLUMNS)


def column_names(table: str) -> list[str]:
    """The columns of a table, in the official order."""
    return [name for name, _, _ in COLUMNS[table]]


def numeric_columns(table: str) -> set[str]:
    """The columns of a table that hold numbers (written and read unquoted)."""
    return {name for name, fmt, _ in COLUMNS[table] if fmt == "number"}


def table_schema(table: str) -> dict[str, Any]:
    """A Frictionless Table Schema for one table (for our datapackage.json)."""
    fields = []
    for name, fmt, required in COLUMNS[table]:
        field: dict[str, Any] = {"name": name, "type": "number" if fmt == "number" else "string"}
        if fmt and fmt != "number":
            field["format"] = fmt
        constraints: dict[str, Any] = {"required": required}
        if name == "id":
            constraints["unique"] = True
        if (table, name) in ENUMS:
            constraints["enum"] = list(ENUMS[(table, name)])
        field["constraints"] = constraints
        fields.append(field)
    keys = [{"fields": col, "reference": {"resource": ref, "fields": "id"}}
            for (tab, col), ref in FOREIGN_KEYS.items() if tab == table]
    out: dict[str, Any] = {"fields": fields, "primaryKey": "id"}
    if keys:
        out["foreignKeys"] = keys
    return out


def _cell(value: Any, numeric: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return neutralize_csv_cell(str(value))


def table_csv_bytes(table: str, rows: list[dict[str, Any]]) -> bytes:
    """One HSDS table as CSV (UTF-8, CRLF); text cells are OWASP-neutralised."""
    columns = column_names(table)
    numbers = numeric_columns(table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c), c in numbers) for c in columns])
    return buffer.getvalue().encode("utf-8")


def parse_number(text: str) -> float | int | str:
    """A numeric cell as int or float; the text itself when it is not a number."""
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() \
        else value


def read_table_rows(text: str, table: str) -> list[dict[str, Any]]:
    """Rows of one HSDS CSV: empty cells dropped, text un-neutralised, numbers parsed."""
    numbers = numeric_columns(table) if table in COLUMNS else set()
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key is None or value is None or not value.strip():
                continue
            key = key.strip()
            row[key] = parse_number(value.strip()) if key in numbers \
                else restore_csv_cell(value)
        rows.append(row)
    return rows
