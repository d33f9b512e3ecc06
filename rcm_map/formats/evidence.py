"""Evidence: every contact, address, hour, age and referral traced to a public page.

`data/sources/evidence.csv` has one row per value: ``service_id, field, value,
source_url, page_date``. Research files (``data/sources/parts/*-evidence.csv``)
are concatenated into it, sorted and deduplicated, so the build is deterministic
whatever order people wrote them in. `apply_evidence` then fills each service's
contact fields from its rows and nothing else: a value with no row stays empty.

Two different values for a single-valued field (two e-mails, two opening hours)
are a *conflict*: the value from the newest dated page is used and the conflict is
listed in the build report (data/README.md), never silently resolved.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rcm_map.core import schema
from rcm_map.core.boundaries import admin1_at, point_in_admin1, point_in_country
from rcm_map.core.geo import parse_lat_lon
from rcm_map.core.schema import Issue

COLUMNS = ("service_id", "field", "value", "source_url", "page_date")
# field -> registry property it fills; `location` fills the geometry.
FIELDS: dict[str, str] = {
    "phone": "phones", "email": "email", "website": "website", "address": "address",
    "hours": "hours", "referral": "referral", "age_min": "age_min", "age_max": "age_max",
    "eligibility": "eligibility", "location": "geometry",
}  # fmt: skip
MULTI_VALUED = frozenset({"phone"})
# Withheld for confidential services (actors_sources.md section 7): never published.
CONFIDENTIAL_WITHHELD = frozenset({"address", "location"})
_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)
_DIGITS = re.compile(r"\d")
_PAGE_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
MAX_VALUE_LENGTH = 2000


@dataclass(frozen=True, order=True)
class Evidence:
    """One value of one field of one service, and the public page that states it."""

    service_id: str
    field: str
    value: str
    source_url: str
    page_date: str = ""  # the date the page states, ISO, or '' when it states none

    def as_row(self) -> list[str]:
        """The CSV cells, in `COLUMNS` order."""
        return [self.service_id, self.field, self.value, self.source_url, self.page_date]


@dataclass(frozen=True)
class Conflict:
    """Different values for a single-valued field; `chosen` is the one used."""

    service_id: str
    field: str
    values: tuple[tuple[str, str, str], ...]  # (value, newest page_date, source_url)
    chosen: str

    def __str__(self) -> str:
        listed = "; ".join(f"{v!r} ({d or 'undated'}, {u})" for v, d, u in self.values)
        return (f"{self.service_id}: field {self.field!r} has {len(self.values)} values: "
                f"{listed}; using {self.chosen!r} (newest page)")


@dataclass
class EvidenceReport:
    """What applying evidence did: conflicts, rows not applied and why."""

    applied: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    withheld: int = 0  # address/location rows of confidential services, not applied


def is_citable(url: str) -> bool:
    """Whether `url` is an http(s) address a reader can open."""
    return bool(_URL.match(url))


def value_problem(field_name: str, value: str) -> str | None:
    """Why `value` cannot be a value of evidence field `field_name`, or None."""
    if field_name not in FIELDS:
        return "unknown field; expected one of " + ", ".join(FIELDS)
    if not value:
        return "empty value"
    if len(value) > MAX_VALUE_LENGTH:
        return f"value longer than {MAX_VALUE_LENGTH} characters"
    if field_name == "phone" and len(_DIGITS.findall(value)) < 3:
        return "a phone needs at least 3 digits"
    if field_name == "email" and schema.check_value("email", value):
        return "expected one e-mail address like name@example.org"
    if field_name == "website" and not _URL.match(value):
        return "expected an http:// or https:// address"
    if field_name in ("age_min", "age_max"):
        if not value.isdigit() or not schema.AGE_LIMITS[0] <= int(value) <= schema.AGE_LIMITS[1]:
            return (f"expected a whole number of years from {schema.AGE_LIMITS[0]} to "
                    f"{schema.AGE_LIMITS[1]}")
    if field_name == "location" and parse_location(value) is None:
        return "expected 'lat,lon' in decimal degrees, e.g. '11.2151,-85.6108'"
    return None


def parse_location(value: str) -> tuple[float, float] | None:
    """(lon, lat) of a 'lat,lon' text, or None when it is not two numbers in range."""
    try:
        lat, lon = parse_lat_lon(value)  # the one coordinate validator
    except ValueError:
        return None
    return lon, lat


def row_problem(row: dict[str, str], today: dt.date | None = None) -> tuple[str, str] | None:
    """(column, why) for the first problem of an evidence row, or None when it is valid."""
    if not row["service_id"]:
        return "service_id", "empty service id"
    problem = value_problem(row["field"], row["value"])
    if problem:
        return ("field" if row["field"] not in FIELDS else "value"), problem
    if not _URL.match(row["source_url"]):
        return "source_url", "expected the http(s) address of the page that states the value"
    if row["page_date"] and not _page_date_ok(row["page_date"], today or dt.date.today()):
        return "page_date", ("expected the date the page states, as precise as it states it: "
                             "YYYY-MM-DD, YYYY-MM or YYYY, not in the future; or nothing")
    return None


def _page_date_ok(text: str, today: dt.date) -> bool:
    """A full ISO date, or a year-month or year when the page states no day."""
    if not _PAGE_DATE.match(text):
        return False
    try:
        day = dt.date.fromisoformat((text + "-01-01")[:10])
    except ValueError:
        return False
    return day <= today


def full_date(page_date: str) -> str:
    """`page_date` when it names a day, else '' (a year or month is no source date)."""
    return page_date if len(page_date) == 10 else ""


def read_evidence(path: str | Path, text: str | None = None,
                  today: dt.date | None = None) -> tuple[list[Evidence], list[Issue]]:
    """Rows of one evidence CSV and the problems of the rows left out.

    Parameters
    ----------
    path : str or Path
        The file (read unless `text` is given; also the name in messages).
    text : str, optional
        The file's content.

    Returns
    -------
    (rows, issues)
        Valid rows with cells stripped; each issue names file, row (header = row 1),
        column and value. A bad header gives no rows and one issue.
    """
    source = str(path)
    if text is None:
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            return [], [Issue(f"cannot read as UTF-8 text: {exc}", source)]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if tuple(header) != COLUMNS:
        return [], [Issue("expected the header " + ",".join(COLUMNS), source, 1, field="header",
                          value=header, row_label="row")]
    rows: list[Evidence] = []
    issues: list[Issue] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(COLUMNS):
            issues.append(Issue(f"expected {len(COLUMNS)} cells, instead got {len(cells)} "
                                "(quote values that contain commas)", source, number,
                                value=cells, row_label="row"))
            continue
        row = dict(zip(COLUMNS, (c.strip() for c in cells), strict=True))
        problem = row_problem(row, today)
        if problem:
            issues.append(Issue(problem[1], source, number, row["service_id"], problem[0],
                                row[problem[0]], row_label="row"))
            continue
        rows.append(Evidence(**row))
    return rows, issues


def merge(rows: Iterable[Evidence]) -> list[Evidence]:
    """Rows sorted and without exact duplicates (the deterministic evidence.csv)."""
    return sorted(set(rows))


def evidence_csv(rows: Iterable[Evidence]) -> bytes:
    """The evidence file's bytes: header, then rows, UTF-8, LF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(row.as_row() for row in rows)
    return out.getvalue().encode("utf-8")


def _choose(service_id: str, field_name: str, rows: list[Evidence]) -> tuple[str, Conflict | None]:
    """The value of a single-valued field and, when the rows disagree, the conflict."""
    newest: dict[str, tuple[str, str]] = {}
    for row in rows:  # rows are sorted, so the first URL of a value is stable
        date, url = newest.get(row.value, ("", row.source_url))
        newest[row.value] = (max(date, row.page_date), url)
    if len(newest) == 1:
        return rows[0].value, None
    counts = Counter(row.value for row in rows)
    chosen = max(newest, key=lambda v: (newest[v][0], counts[v], [-ord(c) for c in v]))
    values = tuple((v, d, u) for v, (d, u) in sorted(newest.items()))
    return chosen, Conflict(service_id, field_name, values, chosen)


def apply_evidence(features: list[dict[str, Any]], rows: list[Evidence],
                   file: str = "evidence.csv") -> tuple[list[dict[str, Any]], EvidenceReport]:
    """Features whose contact fields come from `rows` only (new dicts; input untouched).

    Every field in `FIELDS` is first emptied, then filled from the service's rows:
    phones are all the evidenced numbers; a single-valued field takes its value (the
    newest page's on a conflict, see `Conflict`); `location` moves the point and sets
    `location_precision` to ``address``. Confidential services get no address and
    keep their point (`CONFIDENTIAL_WITHHELD`). `source_date` becomes the newest of
    the service's own `source_date` and its rows' page dates. Rows naming an unknown
    service, or a point outside the service's country, are reported, not applied.
    """
    report = EvidenceReport()
    by_service: dict[str, dict[str, list[Evidence]]] = defaultdict(lambda: defaultdict(list))
    for row in merge(rows):
        by_service[row.service_id][row.field].append(row)
    known = {f["properties"]["id"] for f in features}
    for fid in sorted(set(by_service) - known):
        n = sum(len(v) for v in by_service[fid].values())
        report.issues.append(Issue(f"no service with this id ({n} evidence rows not applied); "
                                   "check the id against data/actors.geojson or the additions",
                                   file, feature_id=fid, field="service_id", value=fid))
    out = []
    for feature in features:
        props = dict(feature["properties"])
        for name in FIELDS.values():
            if name != "geometry":
                props[name] = schema.empty_value(name)
        new = {**feature, "properties": props}
        _fill(new, by_service.get(props["id"], {}), report, file)
        out.append(new)
    return out, report


def _fill(feature: dict[str, Any], fields: dict[str, list[Evidence]], report: EvidenceReport,
          file: str) -> None:
    props = feature["properties"]
    confidential = props["location_precision"] == "confidential"
    dates = [props.get("source_date") or ""]
    for field_name, rows in sorted(fields.items()):
        if confidential and field_name in CONFIDENTIAL_WITHHELD:
            report.withheld += len(rows)
            continue
        dates += [full_date(r.page_date) for r in rows]
        report.applied += len(rows)
        if field_name in MULTI_VALUED:
            props[FIELDS[field_name]] = list(dict.fromkeys(r.value for r in rows))
            continue
        value, conflict = _choose(props["id"], field_name, rows)
        if conflict:
            report.conflicts.append(conflict)
        if field_name == "location":
            _move(feature, value, report, file)
        elif field_name in ("age_min", "age_max"):
            props[field_name] = int(value)
        else:
            props[FIELDS[field_name]] = value
    lo, hi = props["age_min"], props["age_max"]
    if lo is not None and hi is not None and lo > hi:
        report.issues.append(Issue(f"age_min {lo} is greater than age_max {hi}; both left "
                                   "empty", file, feature_id=props["id"], field="age_min",
                                   value=[lo, hi]))
        props["age_min"] = props["age_max"] = None
    props["source_date"] = max(dates)


def _move(feature: dict[str, Any], value: str, report: EvidenceReport, file: str) -> None:
    props = feature["properties"]
    point = parse_location(value)
    assert point is not None  # rows were validated on reading
    lon, lat = point
    if not point_in_country(lon, lat, props["country"]):
        report.issues.append(Issue(f"point is more than 5 km outside {props['country']}; "
                                   "location not applied", file, feature_id=props["id"],
                                   field="location", value=value))
        return
    feature["geometry"] = {"type": "Point", "coordinates": [round(lon, 5) + 0.0,
                                                            round(lat, 5) + 0.0]}
    props["location_precision"] = "address"
    if props["admin1"] and not point_in_admin1(lon, lat, props["admin1"]):
        # a border post placed at the nearest town may sit in the next province
        props["admin1"] = admin1_at(lon, lat, 5.0, props["country"]) or props["admin1"]
