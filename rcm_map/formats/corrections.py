"""Corrections: explicit, sourced fixes to what the source list says about a service.

`data/sources/corrections.csv` holds one fix per row (lines starting with ``#`` are
comments that say why)::

    service_id,field,remove,add,source_url,reason

* ``service_types`` / ``populations``: `remove` and `add` are ';'-joined codes
  (e.g. remove ``shelter``, add ``migration_holding``).
* ``town``: `add` is ``Name|ISO 3166-2`` of a gazetteer place, for a service whose
  town the gazetteer lacks and that the import placed at a far fallback (the
  largest place of its province). The point is the gazetteer's (GeoNames), the
  precision stays ``city``; `reason` says why that town (e.g. the nearest listed
  town of the same canton) and `source_url` shows where the service is. With
  `remove` = the service's city and `add` empty, the service loses its point and
  its province and is listed country-wide: for a national phone line the source
  list tied to the city (and province) where the organisation sits.
* a contact or age field of `rcm_map.formats.evidence.FIELDS` (``age_min``, ``phone``...):
  `remove` is a value the source list gives that its page does not support; no
  evidence row is generated for it. New values come from evidence rows, never
  from here, so `add` must be empty.

Every correction cites the public page that supports it. A correction that no
longer applies (the service or the removed value is gone) is an error, so the
file cannot silently drift from the data.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rcm_map.core import schema
from rcm_map.core.schema import Issue
from rcm_map.formats import evidence
from rcm_map.formats.source_rules import COORD_DECIMALS, split_list
from rcm_map.search.gazetteer import Gazetteer, default_gazetteer

COLUMNS = ("service_id", "field", "remove", "add", "source_url", "reason")
LIST_FIELDS: dict[str, tuple[str, ...]] = {
    "service_types": schema.SERVICE_TYPES,
    "populations": schema.POPULATIONS,
}
_URL = re.compile(r"^https?://\S+$")
TOWN = "town"


@dataclass(frozen=True)
class Correction:
    """One sourced fix; `row` is its line in the file (for messages)."""

    service_id: str
    field: str
    remove: tuple[str, ...]
    add: tuple[str, ...]
    source_url: str
    reason: str
    row: int = 0


def _uncommented(text: str) -> tuple[str, dict[int, int]]:
    """The CSV text without comment lines, and data line -> file line numbers."""
    kept: list[str] = []
    numbers: dict[int, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#") or not line.strip():
            continue
        numbers[len(kept) + 1] = number
        kept.append(line)
    return "\n".join(kept) + "\n", numbers


def _problem(row: dict[str, str]) -> tuple[str, str] | None:
    if not row["service_id"]:
        return "service_id", "empty service id"
    if row["field"] in LIST_FIELDS:
        vocab = LIST_FIELDS[row["field"]]
        unknown = [c for c in split_list(row["remove"]) + split_list(row["add"]) if c not in vocab]
        if unknown:
            return "add", f"unknown code(s) {unknown}; expected any of " + ", ".join(vocab)
        if not (row["remove"] or row["add"]):
            return "remove", "nothing to remove or add"
    elif row["field"] == TOWN:
        if bool(row["remove"]) == bool(row["add"]) or (
                row["add"] and len(row["add"].split("|")) != 2):
            return "add", ("expected 'Name|ISO 3166-2' of a gazetteer place in add (e.g. "
                           "'Canoas|CR-P'), or the service's city in remove to list it "
                           "country-wide")
    elif row["field"] in evidence.FIELDS:
        if row["add"]:
            return "add", "new values come from evidence rows (data/sources/parts/), not here"
        if not row["remove"]:
            return "remove", "nothing to remove"
    else:
        return "field", ("expected one of "
                         + ", ".join([*LIST_FIELDS, TOWN, *evidence.FIELDS]))
    if not _URL.match(row["source_url"]):
        return "source_url", "expected the http(s) address of the page that supports the fix"
    if not row["reason"]:
        return "reason", "say what the page supports (one line)"
    return None


def read_corrections(path: str | Path) -> tuple[list[Correction], list[Issue]]:
    """The corrections of a file and the problems of the rows left out."""
    source = str(path)
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Issue(f"cannot read as UTF-8 text: {exc}", source)]
    text, numbers = _uncommented(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if tuple(header) != COLUMNS:
        return [], [Issue("expected the header " + ",".join(COLUMNS), source, numbers.get(1),
                          field="header", value=header, row_label="line")]
    found: list[Correction] = []
    issues: list[Issue] = []
    for index, cells in enumerate(reader, start=2):
        line = numbers.get(index, index)
        if len(cells) != len(COLUMNS):
            issues.append(Issue(f"expected {len(COLUMNS)} cells, instead got {len(cells)}",
                                source, line, value=cells, row_label="line"))
            continue
        row = dict(zip(COLUMNS, (c.strip() for c in cells), strict=True))
        problem = _problem(row)
        if problem:
            issues.append(Issue(problem[1], source, line, row["service_id"], problem[0],
                                row[problem[0]], row_label="line"))
            continue
        found.append(Correction(row["service_id"], row["field"],
                                tuple(split_list(row["remove"])), tuple(split_list(row["add"])),
                                row["source_url"], row["reason"], line))
    return found, issues


def dropped_values(corrections: list[Correction]) -> set[tuple[str, str, str]]:
    """(service_id, evidence field, value) the source list gives but its page does not support."""
    return {(c.service_id, c.field, value) for c in corrections
            if c.field in evidence.FIELDS for value in c.remove}


def _town_point(fix: Correction, country: str, gazetteer: Gazetteer) -> dict[str, Any] | None:
    """The gazetteer point of the fix's town, if it exists in the service's country."""
    name, admin1 = fix.add[0].split("|")
    found = [p for p in gazetteer.search(name, limit=5, country=country, admin1=admin1)
             if p.name == name]
    if not found:
        return None
    return {"type": "Point", "coordinates": [round(found[0].lon, COORD_DECIMALS) + 0.0,
                                             round(found[0].lat, COORD_DECIMALS) + 0.0]}


def apply_corrections(features: list[dict[str, Any]], corrections: list[Correction],
                      file: str = "corrections.csv", gazetteer: Gazetteer | None = None
                      ) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Features with the list-field and town corrections applied (new dicts), and stale ones.

    Contact and age corrections act earlier, on the evidence (`dropped_values`);
    here they are only checked to still name an existing service.
    """
    geometry: dict[str, dict[str, Any] | None] = {}
    by_id = {f["properties"]["id"]: f for f in features}
    changed: dict[str, dict[str, Any]] = {}
    issues: list[Issue] = []
    for fix in corrections:
        if fix.service_id not in by_id:
            issues.append(Issue("no service with this id: the correction no longer applies",
                                file, fix.row, fix.service_id, "service_id", fix.service_id,
                                row_label="line"))
            continue
        if fix.field == TOWN and fix.remove:
            props = changed.setdefault(fix.service_id, dict(by_id[fix.service_id]["properties"]))
            if props["city"] != fix.remove[0]:
                issues.append(Issue("the service's city is not this one: the correction no "
                                    "longer applies", file, fix.row, fix.service_id, "remove",
                                    props["city"], row_label="line"))
                continue
            geometry[fix.service_id] = None
            props["city"] = ""
            props["admin1"] = ""  # the seat's province: a national line serves them all
            if props["location_precision"] != "confidential":  # no point left
                props["location_precision"] = "country_wide"
            continue
        if fix.field == TOWN:
            country = by_id[fix.service_id]["properties"]["country"]
            point = _town_point(fix, country, gazetteer or default_gazetteer())
            if point is None:
                issues.append(Issue(f"no such place of {country} in the gazetteer", file,
                                    fix.row, fix.service_id, "add", fix.add[0],
                                    row_label="line"))
                continue
            geometry[fix.service_id] = point
            props = changed.setdefault(fix.service_id, dict(by_id[fix.service_id]["properties"]))
            props["admin1"] = fix.add[0].split("|")[1]
            if props["location_precision"] == "country_wide":  # it has a (town) point now
                props["location_precision"] = "city"
            continue
        if fix.field not in LIST_FIELDS:
            continue
        props = changed.setdefault(fix.service_id, dict(by_id[fix.service_id]["properties"]))
        codes = list(props[fix.field])
        missing = [c for c in fix.remove if c not in codes]
        if missing:
            issues.append(Issue(f"the service has no {missing}: the correction no longer "
                                "applies", file, fix.row, fix.service_id, fix.field, codes,
                                row_label="line"))
            continue
        codes = [c for c in codes if c not in fix.remove]
        props[fix.field] = codes + [c for c in fix.add if c not in codes]
    out = [{**f, "properties": changed[fid],
            "geometry": geometry[fid] if fid in geometry else f["geometry"]}
           if (fid := f["properties"]["id"]) in changed else f for f in features]
    return out, issues
