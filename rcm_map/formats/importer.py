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
import datetime as dt
import hashlib
import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rcm_map.core import schema
from rcm_map.core.boundaries import admin1_at, point_in_admin1, point_in_country
from rcm_map.core.files import NotARegularFile, read_regular_file
from rcm_map.core.schema import Issue
from rcm_map.registry.model import MAX_FILE_BYTES as MAX_IMPORT_BYTES
from rcm_map.search.gazetteer import Gazetteer, default_gazetteer, normalize, resolve_admin1

SOURCE_COLUMNS = (
    "name", "organization", "country_iso3", "admin1", "city", "address", "phone", "email",
    "website", "service_types", "age_groups", "populations", "languages", "hours",
    "location_precision", "lat", "lon", "source_url", "source_note",
)  # fmt: skip
EXPORT_COORDS = ("lon", "lat")
LIST_SEPARATOR = ";"
COORD_DECIMALS = 5  # about 1 m; gazetteer points are city centres anyway
ROW = "row"

# Source `age_groups` -> (age_min, age_max). "childhood" starts at 0, not 6: the source
# marks children-only facilities "childhood;adolescence" and uses early_childhood only
# where a source says so, so its absence does not mean young children are turned away.
AGE_GROUPS: dict[str, tuple[int, int]] = {
    "early_childhood": (0, 5),
    "childhood": (0, 11),
    "adolescence": (12, 17),
}

# actors_sources.md section 7: residences whose location must not be published.
# (country, normalised substring of "name organization").
CONFIDENTIAL_NAMES: tuple[tuple[str, str], ...] = (
    ("MEX", "viva mexico"), ("MEX", "colibri"), ("MEX", "nohemi alvarez quillay"),
    ("MEX", "casa del menor migrante"), ("MEX", "jason y alexander"),
    ("MEX", "camino a casa"), ("MEX", "camef"), ("MEX", "centro para nna migr"),
    ("MEX", "dif aguascalientes"), ("MEX", "ymca"),
    ("GTM", "casa nuestras raices"), ("GTM", "refugio de la ninez"), ("GTM", "svet"),
    ("HND", "canfm belen"), ("HND", "casa alianza"),
    ("SLV", "canaf"),
    ("PAN", "senniaf regional darien"), ("PAN", "aldeas infantiles sos panama"),
    ("CAN", "matthew house"),
)  # fmt: skip

# Conservative organisation-type inference from the name and the lead organisation
# (normalised; partners after "with" ignored); the first rule that matches wins,
# anything else is "ngo". Inferred, not stated by the source: see data/README.md.
ORG_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("consular", re.compile(r"\b(consul\w*|embajada|embassy|ambassade)\b")),
    ("government", re.compile(
        r"\b(minist\w*|secretar\w*|gobierno|government|gouvernement|municipal\w*|"
        r"ayuntamiento|alcaldia|instituto nacional|instituto guatemalteco|direccion general|"
        r"procuradur\w*|dif|sndif|pani|patronato nacional|sbs|pgn|senaf|dinaf|conapina|isna|"
        r"senniaf|mifan|comar|inm|igm|dgme|snm|senafront|conadeh|mingob|minsa|canaf|svet|"
        r"servicio nacional|comision nacional|consejo nacional|defensor\w*|juzgado|tribunal|"
        r"poder judicial|policia|comisaria|board of canada|irb|ciusss|childrens aid society|"
        r"estado de|state of|province of|cruz roja nicaraguense|sreci|relaciones exteriores|"
        r"legal aid)\b")),
    ("faith_based", re.compile(
        r"\b(iglesia|church|diocesis|diocesan\w*|diocesano|arquidiocesis|parroquia|parish|"
        r"pastoral|scalabrin\w*|misioneros|misioneras|hermanas|sisters|congregacion|caritas|"
        r"francisc\w*|jesuit\w*|jesuita|salesian\w*|salesiano|catholic|catolica|interfaith|"
        r"mennonite|evangel\w*|pastor|religios\w*|ecumenic\w*|pasionista|passionist)\b")),
    ("international", re.compile(
        r"\b(acnur|unhcr|oim|iom|unicef|cicr|icrc|naciones unidas|united nations|"
        r"organizacion internacional para las migraciones|"
        r"international organization for migration|comite internacional de la cruz roja|"
        r"international committee of the red cross)\b")),
)
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")


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


def make_id(country: str, organization: str, name: str, city: str) -> str:
    """Stable id: country, a slug of the name and a hash of the identifying fields.

    Parameters
    ----------
    country, organization, name, city : str
        The hash uses their normalised forms (accents, case and punctuation ignored),
        so a cosmetic fix does not change the id; the row order never matters.

    Returns
    -------
    str
        e.g. ``"mex-la-72-hogar-refugio-para-personas-migrantes-3f9a0c1b"``.
    """
    key = "|".join(normalize(v) for v in (country, organization, name, city))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    slug = ""
    for word in normalize(name).split():
        if len(slug) + len(word) + 1 > 48:
            break
        slug = f"{slug}-{word}" if slug else word
    return f"{country.lower()}-{slug or 'service'}-{digest}"


def split_list(text: str) -> list[str]:
    """Split a ';'-joined cell into stripped, non-empty items, keeping order and text."""
    return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


def ages_from_groups(groups: list[str]) -> tuple[int | None, int | None, list[str]]:
    """(age_min, age_max, unknown groups) for the source's `age_groups` codes.

    ``all`` or nothing gives open bounds; combinations give the union of the bands
    in `AGE_GROUPS` (``childhood;adolescence`` -> 0..17).
    """
    unknown = [g for g in groups if g != "all" and g not in AGE_GROUPS]
    bands = [AGE_GROUPS[g] for g in groups if g in AGE_GROUPS]
    if not bands or "all" in groups:
        return None, None, unknown
    return min(b[0] for b in bands), max(b[1] for b in bands), unknown


def source_date_from_note(note: str, today: dt.date | None = None) -> str:
    """The latest full ISO date (YYYY-MM-DD) in a source note, or '' when there is none.

    Years alone ("2019"), months ("2020-05"), ranges ("c. 2021-2022") and dates in
    words are ignored: they do not say when the information was true. Future dates
    are ignored too.
    """
    today = today or dt.date.today()
    found = []
    for match in _ISO_DATE.finditer(note):
        try:
            day = dt.date.fromisoformat(match.group(0))
        except ValueError:
            continue
        if day <= today:
            found.append(day)
    return max(found).isoformat() if found else ""


def infer_organization_type(name: str, organization: str) -> str:
    """Organisation type from the names alone, conservatively (see ORG_TYPE_RULES)."""
    # "Cruz Roja Guatemalteca with ICRC": the partner after "with" does not run it
    lead = re.split(r"\bwith\b", organization, maxsplit=1)[0]
    text = normalize(f"{name} {lead}")
    for org_type, pattern in ORG_TYPE_RULES:
        if pattern.search(text):
            return org_type
    return "ngo"


def _host(url: str) -> str:
    host = urlsplit(url.strip()).hostname or ""
    return host.removeprefix("www.")


def publishes_own_address(row: dict[str, str]) -> bool:
    """True when the source is the organisation's own site and gives a street address."""
    own = _host(row.get("website", ""))
    return bool(row.get("address") and row.get("location_precision") == "address" and own
                and _host(row.get("source_url", "")).endswith(own))


def is_confidential(row: dict[str, str]) -> bool:
    """Whether a source row's location must be withheld (actors_sources.md section 7).

    A row is confidential when it is named in section 7 (`CONFIDENTIAL_NAMES`), or when
    it is a shelter for children only, for trafficking survivors, or run by a child-
    protection authority, unless the organisation publishes its own street address
    on its own website (`publishes_own_address`).
    """
    if publishes_own_address(row):
        return False
    text = normalize(f"{row.get('name', '')} {row.get('organization', '')}")
    country = row.get("country_iso3", "")
    if any(c == country and pattern in text for c, pattern in CONFIDENTIAL_NAMES):
        return True
    services = split_list(row.get("service_types", ""))
    if "shelter" not in services:
        return False
    groups = split_list(row.get("age_groups", ""))
    children_only = bool(groups) and "all" not in groups
    return (children_only or "trafficking_survivors" in split_list(row.get("populations", ""))
            or "child_protection_authority" in services)


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


def _known_codes(codes: list[str], vocabulary: tuple[str, ...], field_name: str,
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


def import_sources_csv(path: str | Path, gazetteer: Gazetteer | None = None) -> ImportResult:
    """Read a services CSV (source-list or export format) into registry features.

    Parameters
    ----------
    path : str or Path
        UTF-8 CSV (a BOM is accepted) with a header row.
    gazetteer : Gazetteer, optional
        Used to place cities; defaults to the bundled one.

    Returns
    -------
    ImportResult
        Features in file order, with issues that name the file, row (header = row 1),
        id, field and value. Never raises on bad content.
    """
    result = ImportResult(source=str(path))
    try:
        text = read_regular_file(path, MAX_IMPORT_BYTES).decode("utf-8-sig")
    except NotARegularFile as exc:
        result.issues.append(Issue(str(exc), str(path)))
        return result
    except OSError as exc:
        result.issues.append(Issue(f"cannot read file: {exc.strerror}", str(path)))
        return result
    except UnicodeDecodeError as exc:
        result.issues.append(Issue(f"not UTF-8 text (byte {exc.start}); save the file as "
                                   "UTF-8 CSV", str(path)))
        return result
    except ValueError as exc:  # larger than the limit
        result.issues.append(Issue(str(exc), str(path)))
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [schema.LEGACY_FIELDS.get(h.strip(), h.strip()) for h in next(reader, [])]
    result.format = detect_format(header)
    if not result.format:
        result.issues.append(Issue(
            "header is neither the source-list format nor the export format; expected "
            "columns " + ", ".join(SOURCE_COLUMNS), str(path), 1, field="header", value=header,
            row_label=ROW))
        return result
    gazetteer = gazetteer or default_gazetteer()
    seen: dict[str, int] = {}
    try:
        _import_rows(reader, header, result, gazetteer, seen)
    except csv.Error as exc:  # a cell over csv's field limit, a broken quote...
        result.issues.append(Issue(f"unreadable CSV from here on ({exc}); import stopped",
                                   str(path), reader.line_num, row_label="line"))
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


def counts_markdown(features: list[dict[str, Any]]) -> str:
    """Markdown tables of services per country and per service type (for data/README.md).

    Parameters
    ----------
    features : list of dict
        Registry features.

    Returns
    -------
    str
        Two tables: per country (total, on the map by city point or coordinates,
        confidential, country-wide) and per service type and country.
    """
    countries = list(schema.COUNTRIES)
    per_country: dict[str, Counter[str]] = {c: Counter() for c in countries}
    per_service: dict[str, Counter[str]] = {s: Counter() for s in schema.SERVICE_TYPES}
    for feat in features:
        p = feat["properties"]
        tally = per_country.setdefault(p["country"], Counter())
        tally["total"] += 1
        if feat.get("geometry") is None:
            tally["country-wide"] += 1
        else:
            tally[p["location_precision"]] += 1
        for service in p["service_types"]:
            per_service.setdefault(service, Counter())[p["country"]] += 1
    cols = ("total", "address", "city", "confidential", "country-wide")
    lines = ["| country | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for country in countries:
        lines.append(f"| {country} | " + " | ".join(str(per_country[country][c]) for c in cols)
                     + " |")
    lines.append("| **all** | " + " | ".join(
        str(sum(per_country[c][col] for c in countries)) for col in cols) + " |")
    lines += ["", "| service_type | " + " | ".join(countries) + " | total |",
              "|---" * (len(countries) + 2) + "|"]
    for service, tally in per_service.items():
        lines.append(f"| {service} | " + " | ".join(str(tally[c]) for c in countries)
                     + f" | {sum(tally.values())} |")
    return "\n".join(lines) + "\n"
