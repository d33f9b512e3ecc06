"""Import a CSV of services into registry features (GeoJSON Feature dicts).

Two CSV formats are recognised by their header:

* the source list format of the registry (``tests/data/actors_sources.csv``; 19 columns:
  name, organization, country_iso3, admin1 name, city, phone, age_groups,
  source_url, source_note, ...), used by focal points for country updates;
* the project's own CSV export (schema field names plus lon/lat, lists joined
  with ';', UTF-8 with BOM), so that an export re-imports unchanged.

Never invent: phones, e-mails, addresses and websites are copied from the file
(phones split on ';', each stripped, otherwise verbatim) or left empty. Values the
schema rejects (a website that is not http/https) are dropped with a warning.
The rules that turn source columns into schema fields are documented in
data/README.md ("How the import maps the source list"); each is a small
function here so it can be tested alone.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rcm_map.core import schema
from rcm_map.core.boundaries import admin1_at, point_in_admin1, point_in_country
from rcm_map.core.files import NotARegularFile, read_regular_file
from rcm_map.core.schema import Issue
from rcm_map.formats.source_rules import (
    COORD_DECIMALS,
    SOURCE_COLUMNS,
    ages_from_groups,
    infer_organization_type,
    is_confidential,
    make_id,
    source_date_from_note,
    split_list,
)
from rcm_map.registry.model import MAX_FILE_BYTES as MAX_IMPORT_BYTES
from rcm_map.search.gazetteer import Gazetteer, default_gazetteer, resolve_admin1

EXPORT_COORDS = ("lon", "lat")
ROW = "row"


@dataclass
class ImportResult:
    """What an import produced: features, problems, and how each row was placed."""

    source: str
    format: str = ""  # "source_list", "export" or "" when unreadable
    rows: int = 0
    features: list[dict[str, Any]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)  # row numbers not imported
    placements: Counter[str] = field(default_factory=Counter)

    @property
    def warnings(self) -> list[Issue]:
        """Issues that did not stop a row from being imported."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def errors(self) -> list[Issue]:
        """Issues that rejected a row or the whole file."""
        return [i for i in self.issues if i.severity == "error"]

    def report(self) -> str:
        """A printable summary, then one line per error and warning."""
        conf = sum(f["properties"]["location_precision"] == "confidential"
                   for f in self.features)
        lines = [
            f"{self.source}: {len(self.features)} of {self.rows} rows imported "
            f"({self.format or 'unrecognised format'})",
            "  placement: " + (", ".join(f"{k} {v}" for k, v in sorted(self.placements.items()))
                               or "none"),
            f"  country-wide, not on the map: {self.placements.get('country_wide', 0)}",
            f"  confidential locations: {conf}",
            f"  rejected rows: {len(self.rejected)}"
            + (f" ({', '.join(map(str, self.rejected))})" if self.rejected else ""),
            f"  errors: {len(self.errors)}, warnings: {len(self.warnings)}",
        ]
        lines += schema.issue_lines(self.errors + self.warnings, "  ")
        return "\n".join(lines)

def _source_text(url: str, note: str) -> str:
    return " — ".join(part for part in (url.strip(), note.strip()) if part)


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point",
            "coordinates": [round(lon, COORD_DECIMALS) + 0.0, round(lat, COORD_DECIMALS) + 0.0]}


class _RowContext:
    """Collects the issues of one row with file, row number and id filled in."""

    def __init__(self, result: ImportResult, number: int) -> None:
        self.result, self.number, self.fid = result, number, ""
        self.placement = ""  # counted in the report only if the row is imported

    def add(self, field_name: str, message: str, value: Any = None,
            severity: str = "warning") -> None:
        self.result.issues.append(Issue(message, self.result.source, self.number, self.fid,
                                        field_name, value, severity, row_label=ROW))


def _known_codes(codes: list[str], vocabulary: dict[str, Any], field_name: str,
                 ctx: _RowContext) -> list[str]:
    unknown = [c for c in codes if c not in vocabulary]
    if unknown:
        ctx.add(field_name, "unknown code(s) ignored; expected any of " + ", ".join(vocabulary),
                unknown)
    return list(dict.fromkeys(c for c in codes if c in vocabulary))


def _source_row_properties(row: dict[str, str], ctx: _RowContext) -> dict[str, Any]:
    country = row["country_iso3"]
    services = split_list(row["service_types"])
    groups = split_list(row["age_groups"])
    age_min, age_max, unknown = ages_from_groups(groups)
    if unknown:
        ctx.add("age_groups", "unknown age group(s) ignored; expected all, early_childhood, "
                "childhood or adolescence", row["age_groups"])
    services = _known_codes(services, schema.SERVICE_TYPES, "service_types", ctx)
    populations = _known_codes(split_list(row["populations"]), schema.POPULATIONS,
                               "populations", ctx)
    admin1 = ""
    if row["admin1"]:
        admin1 = resolve_admin1(row["admin1"], country) or ""
        if not admin1:
            ctx.add("admin1", f"not an admin-1 unit of {country}; left empty", row["admin1"])
    return {
        "id": make_id(country, row["organization"], row["name"], row["city"]),
        "name": row["name"],
        "organization": row["organization"],
        "organization_type": infer_organization_type(row["name"], row["organization"]),
        "service_types": services,
        "age_min": age_min,
        "age_max": age_max,
        "populations": populations,
        "country": country,
        "admin1": admin1,
        "city": row["city"],
        "address": row["address"],
        "phones": split_list(row["phone"]),
        "email": row["email"],
        "website": row["website"],
        "hours": row["hours"],
        "languages": split_list(row["languages"]),
        "cost": "",
        "referral": "",
        "notifies_authorities": "unknown",
        "location_precision": "city",
        "source_date": source_date_from_note(row["source_note"]),
        "verified_on": "",
        "verified_by": "",
        "eligibility": "",
        "source": _source_text(row["source_url"], row["source_note"]),
        "description": "",
    }


def _place_source_row(
    row: dict[str, str], props: dict[str, Any], ctx: _RowContext, gazetteer: Gazetteer
) -> dict[str, Any] | None:
    """Geometry of a source row; sets location_precision and admin1 as a side effect."""
    country = props["country"]
    lon, lat = _float(row["lon"]), _float(row["lat"])
    if row["lon"] or row["lat"]:
        if lon is not None and lat is not None and point_in_country(lon, lat, country):
            props["location_precision"] = "address"
            props["admin1"] = props["admin1"] or admin1_at(lon, lat, 5.0, country) or ""
            ctx.placement = "source_coordinates"
            return _point(lon, lat)
        ctx.add("lat/lon", f"coordinates not usable or not in {country}; placed by city "
                "instead", [row["lon"], row["lat"]])
    if not row["city"]:
        ctx.placement = "country_wide"
        return None
    match = gazetteer.resolve_city(row["city"], country, props["admin1"] or None)
    if match.place is None:
        ctx.add("city", f"{match.note}; kept as country-wide (not on the map)", row["city"])
        ctx.placement = "country_wide"
        return None
    ctx.placement = f"city_{match.method}"
    if match.is_fallback:
        ctx.add("city", match.note, row["city"])
    props["admin1"] = props["admin1"] or match.place.admin1_code
    return _point(match.place.lon, match.place.lat)


def _check_geography(props: dict[str, Any], geometry: dict[str, Any] | None,
                     ctx: _RowContext) -> None:
    if geometry is None:
        return
    lon, lat = geometry["coordinates"]
    if not point_in_country(lon, lat, props["country"]):
        ctx.add("geometry", f"point is more than 5 km outside {props['country']}", [lon, lat])
    if props["admin1"] and not point_in_admin1(lon, lat, props["admin1"]):
        ctx.add("admin1", "point is more than 5 km outside this admin-1 unit", props["admin1"])


def _finish(props: dict[str, Any], geometry: dict[str, Any] | None,
            ctx: _RowContext) -> dict[str, Any] | None:
    """Validate; drop bad optional values with a warning; reject on required errors."""
    for issue in schema.validate_properties(props):
        if issue.severity != "error":
            continue
        required = any(f.name == issue.field and f.required for f in schema.FIELDS)
        if required:
            ctx.add(issue.field, issue.message + "; row not imported", issue.value, "error")
            return None
        ctx.add(issue.field, issue.message + "; value dropped", issue.value)
        props[issue.field] = schema.empty_value(issue.field)
    props = schema.normalize_properties(props)
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _import_source_row(row: dict[str, str], ctx: _RowContext,
                       gazetteer: Gazetteer) -> dict[str, Any] | None:
    if row["country_iso3"] not in schema.COUNTRIES:
        ctx.add("country_iso3", "unknown country; expected one of "
                + ", ".join(schema.COUNTRIES) + "; row not imported", row["country_iso3"],
                "error")
        return None
    ctx.fid = make_id(row["country_iso3"], row["organization"], row["name"], row["city"])
    props = _source_row_properties(row, ctx)
    geometry = _place_source_row(row, props, ctx, gazetteer)
    if is_confidential(row):
        # section 7: partial addresses of residences are suppressed, not published
        props["address"] = ""
        if geometry is not None:
            props["location_precision"] = "confidential"
    if geometry is None:
        props["location_precision"] = "country_wide"
    _check_geography(props, geometry, ctx)
    return _finish(props, geometry, ctx)


def _import_export_row(row: dict[str, str], ctx: _RowContext) -> dict[str, Any] | None:
    from rcm_map.core.safety import restore_csv_cell

    props: dict[str, Any] = {}
    for name in schema.FIELD_NAMES:
        text = restore_csv_cell(row.get(name, "") or "").strip()
        if name in schema.LIST_FIELDS:
            props[name] = split_list(text)
        elif name in ("age_min", "age_max"):
            number = _float(text)
            if text and (number is None or number != int(number)):
                ctx.add(name, "expected a whole number of years; value dropped", text)
            props[name] = int(number) if number is not None and number == int(number) else None
        else:
            props[name] = text
    ctx.fid = props["id"] if isinstance(props["id"], str) else ""
    if not props["id"]:
        props["id"] = make_id(props["country"], props["organization"], props["name"],
                              props["city"])
        ctx.fid = props["id"]
    lon, lat = _float(row.get("lon", "")), _float(row.get("lat", ""))
    geometry = None
    if lon is not None and lat is not None:
        geometry = _point(lon, lat)
    elif row.get("lon") or row.get("lat"):
        ctx.add("lon/lat", "coordinates are not numbers; row not imported",
                [row.get("lon"), row.get("lat")], "error")
        return None
    ctx.placement = "file_coordinates" if geometry else "country_wide"
    _check_geography(props, geometry, ctx)
    return _finish(props, geometry, ctx)


# Fields added to the export after its first release; older exports lack them.
EXPORT_ADDED_FIELDS = ("source_date", "verified_on", "verified_by", "eligibility")


def detect_format(header: list[str]) -> str:
    """"source_list", "export", or "" for a header that is neither."""
    if all(c in header for c in SOURCE_COLUMNS):
        return "source_list"
    needed = [c for c in schema.FIELD_NAMES if c not in EXPORT_ADDED_FIELDS]
    if all(c in header for c in (*needed, *EXPORT_COORDS)):
        return "export"
    return ""


def import_sources_csv(source: str | Path | bytes, gazetteer: Gazetteer | None = None, *,
                       name: str | None = None) -> ImportResult:
    """Read a services CSV (source-list or export format) into registry features.

    Parameters
    ----------
    source : str, Path or bytes
        UTF-8 CSV (a BOM is accepted) with a header row: its path, or its content
        (an upload; nothing is written to disk).
    gazetteer : Gazetteer, optional
        Used to place cities; defaults to the bundled one.
    name : str, optional
        The file name issues show (default: the path, or "upload").

    Returns
    -------
    ImportResult
        Features in file order, with issues that name the file, row (header = row 1),
        id, field and value. Never raises on bad content.
    """
    path = name or (str(source) if not isinstance(source, bytes) else "upload")
    result = ImportResult(source=path)
    try:
        data = source if isinstance(source, bytes) else read_regular_file(source,
                                                                          MAX_IMPORT_BYTES)
        text = data.decode("utf-8-sig")
    except NotARegularFile as exc:
        result.issues.append(Issue(str(exc), path))
        return result
    except OSError as exc:
        result.issues.append(Issue(f"cannot read file: {exc.strerror}", path))
        return result
    except UnicodeDecodeError as exc:
        result.issues.append(Issue(f"not UTF-8 text (byte {exc.start}); save the file as "
                                   "UTF-8 CSV", path))
        return result
    except ValueError as exc:  # larger than the limit
        result.issues.append(Issue(str(exc), path))
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [schema.LEGACY_FIELDS.get(h.strip(), h.strip()) for h in next(reader, [])]
    result.format = detect_format(header)
    if not result.format:
        result.issues.append(Issue(
            "header is neither the source-list format nor the export format; expected "
            "columns " + ", ".join(SOURCE_COLUMNS), path, 1, field="header", value=header,
            row_label=ROW))
        return result
    gazetteer = gazetteer or default_gazetteer()
    seen: dict[str, int] = {}
    try:
        _import_rows(reader, header, result, gazetteer, seen)
    except csv.Error as exc:  # a cell over csv's field limit, a broken quote...
        result.issues.append(Issue(f"unreadable CSV from here on ({exc}); import stopped",
                                   path, reader.line_num, row_label="line"))
        result.rejected.append(reader.line_num)
    return result


def _import_rows(reader: Any, header: list[str], result: ImportResult, gazetteer: Gazetteer,
                 seen: dict[str, int]) -> None:
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        result.rows += 1
        ctx = _RowContext(result, number)
        if len(cells) != len(header):
            ctx.add("", f"expected {len(header)} fields, instead got {len(cells)}; row not "
                    "imported", len(cells), "error")
            result.rejected.append(number)
            continue
        row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        feature = (_import_source_row(row, ctx, gazetteer) if result.format == "source_list"
                   else _import_export_row(row, ctx))
        if feature is not None and feature["properties"]["id"] in seen:
            fid = feature["properties"]["id"]
            ctx.add("id", f"same service as row {seen[fid]}; row not imported", fid, "error")
            feature = None
        if feature is None:
            result.rejected.append(number)
            continue
        seen[feature["properties"]["id"]] = number
        result.features.append(feature)
        result.placements[ctx.placement] += 1
