"""The HSDS 3.0 tables rcm_map writes and reads, derived from the official schema.

`hsds_spec/datapackage.json` next to this module is Open Referral's HSDS 3.0.0
tabular data package descriptor, unchanged (CC BY-SA 4.0; see
`hsds_spec/README.md`). Every table layout used here comes from it: columns and
their order, types and formats, required columns, enumerations, primary and
foreign keys. This module only chooses which official tables rcm_map fills
(`TABLES`, by file name) and encodes cells as CSV.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
from functools import cache
from importlib import resources
from typing import Any

from rcm_map.core.safety import neutralize_csv_cell, restore_csv_cell
from rcm_map.core.schema import Issue

# The official tables rcm_map fills, by file name without ".csv" (the official
# resource names are singular: "organization" for organizations.csv).
TABLES: tuple[str, ...] = (
    "organizations", "services", "locations", "service_at_location", "phones",
    "addresses", "languages", "schedules", "attributes", "taxonomies", "taxonomy_terms",
)
NUMERIC_TYPES = ("number", "integer")


@cache
def official_descriptor() -> dict[str, Any]:
    """The official HSDS 3.0.0 `datapackage.json` (read once; do not modify it)."""
    text = resources.files(__package__).joinpath("hsds_spec/datapackage.json").read_text(
        encoding="utf-8")
    descriptor: dict[str, Any] = json.loads(text)
    return descriptor


@cache
def _resources_by_table() -> dict[str, dict[str, Any]]:
    return {r["path"].removesuffix(".csv"): r for r in official_descriptor()["resources"]}


def official_resource(table: str) -> dict[str, Any]:
    """The official resource (name, path, description, schema, ...) of a table.

    Raises
    ------
    KeyError
        When HSDS 3.0 has no such table.
    """
    return _resources_by_table()[table]


def _fields(table: str) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = official_resource(table)["schema"]["fields"]
    return fields


def column_names(table: str) -> list[str]:
    """The columns of a table, in the official order."""
    return [f["name"] for f in _fields(table)]


# Table -> its official columns, for the tables rcm_map reads and writes.
COLUMNS: dict[str, tuple[str, ...]] = {t: tuple(column_names(t)) for t in TABLES}


def numeric_columns(table: str) -> set[str]:
    """The columns of a table that hold numbers (written and read unquoted)."""
    return {f["name"] for f in _fields(table) if f.get("type") in NUMERIC_TYPES}


def required_columns(table: str) -> list[str]:
    """The columns a row of the table must fill, in the official order."""
    return [f["name"] for f in _fields(table) if f.get("constraints", {}).get("required")]


def enum(table: str, column: str) -> tuple[str, ...] | None:
    """The values a column allows, or None when it is free."""
    for f in _fields(table):
        if f["name"] == column:
            allowed = f.get("constraints", {}).get("enum")
            return tuple(allowed) if allowed else None
    raise KeyError(f"HSDS table {table!r} has no column {column!r}")


def foreign_keys(table: str) -> list[tuple[str, str]]:
    """(column, referenced table) of each official foreign key of a table."""
    by_name = {r["name"]: t for t, r in _resources_by_table().items()}
    return [(key["fields"], by_name[key["reference"]["resource"]])
            for key in official_resource(table)["schema"].get("foreignKeys", [])]


def table_resource(table: str, tables: tuple[str, ...] = TABLES) -> dict[str, Any]:
    """The descriptor of one table in a package holding `tables`: the official
    resource, with the foreign keys to tables the package does not hold left out
    (no row of ours fills those columns, e.g. `services.program_id`)."""
    resource = copy.deepcopy(official_resource(table))
    kept_names = {official_resource(t)["name"] for t in tables}
    schema = resource["schema"]
    keys = [k for k in schema.get("foreignKeys", []) if k["reference"]["resource"] in kept_names]
    if keys:
        schema["foreignKeys"] = keys
    else:
        schema.pop("foreignKeys", None)
    resource["encoding"] = "utf-8"
    return resource


def missing_required(table: str, rows: list[dict[str, Any]]) -> list[Issue]:
    """One warning per required cell the rows leave empty, naming the CSV row.

    A row's `_record` key (when present) is the registry id it comes from, so
    that the warning names the service rather than an HSDS uuid.
    """
    out = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        for column in required_columns(table):
            if _cell(row.get(column), False) == "":
                out.append(Issue("HSDS requires this value and the registry does not know "
                                 "it; left empty, never made up", f"{table}.csv", number,
                                 str(row.get("_record", "")), column, severity="warning",
                                 row_label="row"))
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
    numbers = numeric_columns(table) if table in _resources_by_table() else set()
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
