"""HXL-tagged CSV: our CSV export with a row of HXL hashtags under the header.

The Humanitarian Exchange Language (https://hxlstandard.org) marks each column
with a hashtag and attributes, e.g. ``#geo+lat``. Export reuses
`export.to_csv_bytes` (UTF-8 with BOM, lists joined with ';', OWASP
neutralisation) and inserts the hashtag row. Import finds the hashtag row in
any HXL CSV (other headers above it are allowed), maps columns by hashtag
whatever the case or attribute order, undoes the neutralisation and validates
every row; a row with an error is reported and left out. Tags: docs/interop.md.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from rcm_map.core import schema
from rcm_map.core.files import read_regular_file
from rcm_map.core.safety import restore_csv_cell
from rcm_map.core.schema import Issue
from rcm_map.formats import export
from rcm_map.formats.hsds import plain_lists
from rcm_map.registry.model import MAX_FILE_BYTES, validate_collection

# Registry column -> HXL tag. Attributes beyond HXL's core list (+min, +max,
# +verified, +precision, +notifies_authorities, ...) are ours; HXL allows them.
TAGS: dict[str, str] = {
    "id": "#meta+id",
    "name": "#service+name",
    "organization": "#org+name",
    "organization_type": "#org+type",
    "service_types": "#service+type",
    "age_min": "#affected+age+min",
    "age_max": "#affected+age+max",
    "populations": "#affected+type",
    "country": "#country+code+v_iso3",
    "admin1": "#adm1+code",
    "city": "#loc+name",
    "address": "#loc+address",
    "phones": "#contact+phone",
    "email": "#contact+email",
    "website": "#contact+url",
    "hours": "#access+hours",
    "languages": "#meta+lang",
    "cost": "#access+cost",
    "referral": "#access+referral",
    "notifies_authorities": "#access+notifies_authorities",
    "location_precision": "#geo+precision",
    # `#date+verified` meant the source date before issue 16; a real verification now
    # has its own tag so an old file can never pass a source date off as one.
    "source_date": "#date+source",
    "verified_on": "#date+verified+network",
    "verified_by": "#meta+verified_by",
    "eligibility": "#access+eligibility",
    "source": "#meta+source",
    "description": "#service+description",
    "lon": "#geo+lon",
    "lat": "#geo+lat",
    "distance_km": "#meta+distance+km",
    "distance_band": "#meta+distance+band",
}

_TAG = re.compile(r"^\s*#([a-z][a-z0-9_]*)((?:\s*\+\s*[a-z][a-z0-9_]*)*)\s*$", re.IGNORECASE)
_TAG_ROW_SEARCH = 25  # HXL puts the hashtag row near the top; look no further


def parse_tag(text: str) -> tuple[str, frozenset[str]] | None:
    """(hashtag, attributes) of an HXL tag, lower-cased; None when not a tag."""
    match = _TAG.match(text or "")
    if match is None:
        return None
    attributes = {a.strip().lower() for a in match.group(2).split("+") if a.strip()}
    return match.group(1).lower(), frozenset(attributes)


_SPECS = {column: parse_tag(tag) for column, tag in TAGS.items()}


def column_for(tag: str) -> str | None:
    """The registry column an HXL tag maps to, or None.

    A tag maps to the column whose hashtag it shares and all of whose attributes
    it carries (extra attributes such as ``+list`` or ``+es`` are allowed); the
    most specific match wins.
    """
    parsed = parse_tag(tag)
    if parsed is None:
        return None
    hashtag, attributes = parsed
    best, best_size = None, -1
    for column, spec in _SPECS.items():
        if spec and spec[0] == hashtag and spec[1] <= attributes and len(spec[1]) > best_size:
            best, best_size = column, len(spec[1])
    return best


def export_hxl(frame: pd.DataFrame) -> bytes:
    """HXL CSV of a registry or result frame: our CSV plus a hashtag row.

    Parameters
    ----------
    frame
        A frame as for `export.to_csv_bytes` (public view).

    Returns
    -------
    bytes
        UTF-8 with BOM; row 1 the column names, row 2 the HXL hashtags.
    """
    text = export.to_csv_bytes(plain_lists(frame)).decode("utf-8")
    header, _, body = text.partition("\r\n")  # column names never hold quotes or newlines
    columns = next(csv.reader([header.lstrip("\ufeff")]))
    tags = ",".join(TAGS.get(c, "") for c in columns)
    return f"{header}\r\n{tags}\r\n{body}".encode()


def _read_text(path_or_bytes: str | Path | bytes, file: str) -> str:
    if isinstance(path_or_bytes, bytes):
        data = path_or_bytes
    else:
        data = read_regular_file(path_or_bytes, MAX_FILE_BYTES)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None


def _find_tag_row(rows: list[list[str]]) -> int | None:
    """Index of the hashtag row: the first row whose non-empty cells are all tags."""
    for i, row in enumerate(rows[:_TAG_ROW_SEARCH]):
        cells = [c for c in row if c.strip()]
        if cells and all(parse_tag(c) for c in cells):
            return i
    return None


def _number(text: str, whole: bool) -> Any:
    """A number cell; the text itself when it is not a (whole) number, for validation."""
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value) or (whole and not value.is_integer()):
        return text
    return int(value) if whole else value


def _row_feature(row: list[str], columns: dict[int, str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    coords: dict[str, Any] = {}
    for index, column in columns.items():
        raw = row[index] if index < len(row) else ""
        if column in ("lon", "lat"):
            coords[column] = _number(raw.strip(), whole=False) if raw.strip() else None
        elif column in ("age_min", "age_max"):
            props[column] = _number(raw.strip(), whole=True) if raw.strip() else None
        elif column in schema.LIST_FIELDS:
            text = restore_csv_cell(raw)
            props[column] = [v.strip() for v in text.split(export.LIST_SEPARATOR) if v.strip()]
        elif column in schema.FIELD_NAMES:
            props[column] = restore_csv_cell(raw).strip()
    lon, lat = coords.get("lon"), coords.get("lat")
    geometry = None if lon is None and lat is None else {
        "type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _columns(tag_row: list[str], file: str, line: int) -> tuple[dict[int, str], list[Issue]]:
    columns: dict[int, str] = {}
    issues = []
    for index, tag in enumerate(tag_row):
        column = column_for(tag) if tag.strip() else None
        if column is None or column in ("distance_km", "distance_band"):
            if tag.strip() and column is None:
                issues.append(Issue("HXL tag not used by rcm_map; column ignored", file, line,
                                    field=f"column {index + 1}", value=tag.strip(),
                                    severity="warning", row_label="row"))
            continue
        if column in columns.values():
            issues.append(Issue("second column with the same HXL tag; ignored", file, line,
                                field=f"column {index + 1}", value=tag.strip(),
                                severity="warning", row_label="row"))
            continue
        columns[index] = column
    return columns, issues


def import_hxl(path_or_bytes: str | Path | bytes, file: str = ""
               ) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Read an HXL-tagged CSV into registry features.

    Parameters
    ----------
    path_or_bytes
        A file path, or the file's bytes (an upload).
    file
        Name to report in issues (defaults to the path, or "upload").

    Returns
    -------
    features, issues
        Valid features (canonical properties) and every issue, each naming the
        file, the CSV line, the feature id, the field and the value. A row with
        an error is left out.
    """
    file = file or ("upload" if isinstance(path_or_bytes, bytes) else str(path_or_bytes))
    try:
        text = _read_text(path_or_bytes, file)
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except (OSError, ValueError, csv.Error) as exc:
        return [], [Issue(f"cannot read the file: {exc}", file)]
    tag_index = _find_tag_row(rows)
    if tag_index is None:
        return [], [Issue("no HXL hashtag row (such as #meta+id,#org+name,...) in the first "
                          f"{_TAG_ROW_SEARCH} rows", file)]
    columns, issues = _columns(rows[tag_index], file, tag_index + 1)
    missing = [f.name for f in schema.FIELDS if f.required and f.name not in columns.values()]
    if missing:
        issues.append(Issue("required columns missing: " + ", ".join(
            f"{name} ({TAGS[name]})" for name in missing), file, tag_index + 1,
            row_label="row", field="hashtags"))
    data = [(n, r) for n, r in enumerate(rows[tag_index + 1:], start=tag_index + 2)
            if any(c.strip() for c in r)]
    features = [_row_feature(r, columns) for _, r in data]
    collection = {"type": "FeatureCollection", "features": features}
    rejected = set()
    for issue in validate_collection(collection, file):
        line = data[issue.index][0] if issue.index is not None else None
        issues.append(Issue(issue.message, file, line, issue.feature_id, issue.field,
                            issue.value, issue.severity, "row"))
        if issue.severity == "error":
            rejected.add(issue.index)
    good = [{"type": "Feature", "geometry": f["geometry"],
             "properties": schema.normalize_properties(f["properties"])}
            for i, f in enumerate(features) if i not in rejected]
    return good, issues
