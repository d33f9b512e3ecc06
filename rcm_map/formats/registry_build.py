"""`make data`: build data/actors.geojson from the sources in data/sources/.

Inputs (all inside the repository):

* ``actors_sources.csv`` — the source list (19 columns, see its ``.md``);
* ``parts/*-additions.csv`` — new services in the same 19 columns;
* ``corrections.csv`` — sourced fixes of tags and of unsupported values
  (`rcm_map.formats.corrections`);
* ``parts/*-evidence.csv`` — one row per contact value and the page that states it.

Steps: import the source list and the additions; apply the corrections; write the
source list's own contacts and ages as evidence rows citing each row's
``source_url`` (``parts/source-list-evidence.csv``, generated, so they are traced
like everything else); concatenate every evidence part into ``evidence.csv``
(sorted, deduplicated); fill every service's contacts from evidence only; write
the registry (sorted by id) and the generated blocks of data/README.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rcm_map.core import schema
from rcm_map.core.schema import Issue
from rcm_map.formats import corrections, evidence
from rcm_map.formats.evidence import Evidence, EvidenceReport
from rcm_map.formats.importer import ImportResult, import_sources_csv
from rcm_map.formats.source_rules import ages_from_groups, is_confidential, make_id, split_list
from rcm_map.search.gazetteer import Gazetteer

SOURCES_DIR = Path("data/sources")
SOURCE_LIST = "actors_sources.csv"
CORRECTIONS = "corrections.csv"
EVIDENCE = "evidence.csv"
GENERATED_PART = "source-list-evidence.csv"
# Source-list column -> evidence field, for the values the source list itself gives.
SOURCE_CONTACT_COLUMNS = (("phone", "phone"), ("email", "email"), ("website", "website"),
                          ("address", "address"), ("hours", "hours"))


@dataclass
class BuildResult:
    """Everything `build` produced and every problem it found."""

    features: list[dict[str, Any]] = field(default_factory=list)
    imports: list[ImportResult] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    evidence_report: EvidenceReport = field(default_factory=EvidenceReport)
    issues: list[Issue] = field(default_factory=list)  # errors of any step
    towns: dict[str, str] = field(default_factory=dict)  # id -> "Name|ISO 3166-2" corrections

    def report(self) -> str:
        """A printable summary: per-file import summaries, then every problem."""
        lines = [r.report() for r in self.imports]
        ev = self.evidence_report
        lines.append(f"evidence: {len(self.evidence)} rows, {ev.applied} applied, "
                     f"{ev.withheld} withheld (confidential), {len(ev.conflicts)} conflicts")
        lines += [f"  conflict: {c}" for c in ev.conflicts]
        lines += [f"  {i}" for i in self.issues]
        lines.append(f"{len(self.features)} services; {len(self.issues)} problems")
        return "\n".join(lines)


def read_source_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a source-list CSV as dicts of stripped cells (for evidence rows)."""
    text = path.read_bytes().decode("utf-8-sig")
    return [{k.strip(): (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(io.StringIO(text, newline=""))]


def source_list_evidence(rows: list[dict[str, str]], dropped: set[tuple[str, str, str]],
                         stated_ages: Collection[str] = ()
                         ) -> tuple[list[Evidence], set[tuple[str, str, str]]]:
    """Evidence rows for the contacts and ages a source list gives, citing each row's page.

    Values in `dropped` (corrections: the page does not support them) get no row.
    Addresses of confidential services get none either (actors_sources.md section 7).
    Ages come from the list's coarse bands (``adolescence`` = 12-17); a service in
    `stated_ages` has ages a page states exactly (a research evidence row), so its
    band gives no row. Returns the rows and the dropped values that were found (the
    others are stale).
    """
    out: list[Evidence] = []
    used: set[tuple[str, str, str]] = set()
    for row in rows:
        fid = make_id(row["country_iso3"], row["organization"], row["name"], row["city"])
        url = row["source_url"]
        if not evidence.is_citable(url):
            continue  # e.g. "github:..." sources: reported by the import, not citable here
        values: list[tuple[str, str]] = []
        for column, name in SOURCE_CONTACT_COLUMNS:
            if name == "address" and is_confidential(row):
                continue
            items = split_list(row[column]) if name == "phone" else [row[column]]
            values += [(name, v) for v in items if v]
        age_min, age_max, _ = ages_from_groups(split_list(row["age_groups"]))
        if fid not in stated_ages:
            values += [(n, str(v)) for n, v in (("age_min", age_min), ("age_max", age_max))
                       if v is not None]
        for name, value in values:
            if (fid, name, value) in dropped:
                used.add((fid, name, value))
            elif evidence.value_problem(name, value) is None:
                out.append(Evidence(fid, name, value, url, ""))
    return evidence.merge(out), used


def _import_all(sources: Path, gazetteer: Gazetteer | None, result: BuildResult
                ) -> list[dict[str, str]]:
    """Import the source list and the additions into `result`; return their raw rows."""
    files = [sources / SOURCE_LIST, *sorted((sources / "parts").glob("*-additions.csv"))]
    seen: dict[str, str] = {}
    raw: list[dict[str, str]] = []
    for path in files:
        imported = import_sources_csv(path, gazetteer)
        result.imports.append(imported)
        result.issues += imported.errors
        for feature in imported.features:
            fid = feature["properties"]["id"]
            if fid in seen:
                result.issues.append(Issue(f"same service as in {seen[fid]}; not added again",
                                           str(path), feature_id=fid, field="id", value=fid))
                continue
            seen[fid] = path.name
            result.features.append(feature)
        if imported.format == "source_list":
            raw += read_source_rows(path)
    return raw


def _research_rows(sources: Path, result: BuildResult) -> list[Evidence]:
    """Rows of every evidence part except the generated one; bad rows go to `result`."""
    rows: list[Evidence] = []
    for path in sorted((sources / "parts").glob("*-evidence.csv")):
        if path.name == GENERATED_PART:
            continue
        found, bad = evidence.read_evidence(path)
        rows += found
        result.issues += bad
    return rows


def _generated_rows(sources: Path, raw: list[dict[str, str]], fixes: list[Any],
                    stated_ages: set[str], result: BuildResult) -> list[Evidence]:
    """The source list's own values as evidence rows, written to `GENERATED_PART`."""
    dropped = corrections.dropped_values(fixes)
    generated, used = source_list_evidence(raw, dropped, stated_ages)
    for fid, name, value in sorted(dropped - used):
        result.issues.append(Issue("the source list gives no such value: the correction no "
                                   "longer applies", str(sources / CORRECTIONS),
                                   feature_id=fid, field=name, value=value))
    (sources / "parts").mkdir(exist_ok=True)
    (sources / "parts" / GENERATED_PART).write_bytes(evidence.evidence_csv(generated))
    return generated


def build(sources: Path = SOURCES_DIR, gazetteer: Gazetteer | None = None) -> BuildResult:
    """Build the registry features from `sources` and write the generated evidence files.

    Writes ``parts/source-list-evidence.csv`` and ``evidence.csv`` inside `sources`;
    the caller writes the registry (`write_registry`).
    """
    result = BuildResult()
    raw = _import_all(sources, gazetteer, result)
    fixes, problems = corrections.read_corrections(sources / CORRECTIONS)
    result.issues += problems
    result.features, stale = corrections.apply_corrections(result.features, fixes,
                                                           str(sources / CORRECTIONS), gazetteer)
    result.issues += stale
    result.towns = {f.service_id: f.add[0] if f.add else "country-wide" for f in fixes
                    if f.field == corrections.TOWN}
    research = _research_rows(sources, result)
    stated_ages = {r.service_id for r in research if r.field in ("age_min", "age_max")}
    generated = _generated_rows(sources, raw, fixes, stated_ages, result)
    rows = evidence.merge(research + generated)
    result.features, result.evidence_report = evidence.apply_evidence(
        result.features, rows, str(sources / EVIDENCE))
    # evidence.csv lists what the registry uses: never the withheld address or point
    # of a confidential residence (actors_sources.md section 7).
    hidden = {f["properties"]["id"] for f in result.features
              if f["properties"]["location_precision"] == "confidential"}
    result.evidence = [r for r in rows if not (r.service_id in hidden
                                               and r.field in evidence.CONFIDENTIAL_WITHHELD)]
    (sources / EVIDENCE).write_bytes(evidence.evidence_csv(result.evidence))
    result.issues += result.evidence_report.issues
    for feature in result.features:
        result.issues += [i for i in schema.validate_properties(feature["properties"])
                          if i.severity == "error"]
    return result


def write_registry(features: list[dict[str, Any]], out: str | Path) -> None:
    """Write the registry file (sorted by id, atomic, with a backup of the old one)."""
    from rcm_map.core.files import replace_with_backup
    from rcm_map.formats.export import geojson_bytes

    replace_with_backup(out, geojson_bytes(features, sort=True))
