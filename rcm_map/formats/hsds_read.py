"""Read HSDS 3.0 inputs into nested service objects, whatever their shape.

Inputs are a tabular data package (a folder of CSVs, its `datapackage.json`, or
a ZIP of them) or an HSDS JSON document: a service (`service_full.json`), a
page of services or services-at-location (`*_list.json`), a service at a
location, an organization with its services (`organization_full.json`), or a
lone location. Every shape becomes the same nested form as
`service_full.json`; each object keeps where it came from in `_file`, `_row`
and `_label` so that issues can name the file and row. Objects that are not
services (a location or organization linked to no service, a document of
another kind) are reported, never silently dropped.
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from rcm_map.core.schema import Issue
from rcm_map.formats import hsds_tables as tables
from rcm_map.registry.model import RegistryError, read_json_file

Obj = dict[str, Any]
MISSING = "_missing"  # key of a placeholder for a location the package does not have


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryError([Issue(f"not UTF-8 text (byte {exc.start}); save it as UTF-8",
                                   file)]) from None


MAX_ZIP_MEMBERS = 200
"""Entries a package ZIP may hold (HSDS has 25 tables; a few more for docs)."""
MAX_PACKAGE_BYTES = 100 * 1024 * 1024
"""Uncompressed size of all tables read from one package, together."""
MAX_ZIP_RATIO = 100
"""Uncompressed / compressed size of one member; CSV compresses ~5-10x, bombs ~1000x."""


def _zip_tables(path: Path, archive: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo]]:
    """The table members of a package ZIP, checked before anything is decompressed.

    Issue 12: a 1.9 MB ZIP with three 190 MB members ended in MemoryError, and tables
    of the same name in two folders were each read.
    """
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise RegistryError([Issue(f"{len(infos):,} entries in the ZIP, more than the limit "
                                   f"of {MAX_ZIP_MEMBERS}", str(path))])
    found: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        table = Path(info.filename).stem
        if table not in tables.COLUMNS or not info.filename.endswith(".csv"):
            continue
        if table in found:
            raise RegistryError([Issue(f"two tables named {table}.csv "
                                       f"({found[table].filename}, {info.filename}); keep one",
                                       str(path), field=info.filename)])
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > MAX_ZIP_RATIO:
            raise RegistryError([Issue(f"compressed {ratio:,.0f} to 1, more than the limit of "
                                       f"{MAX_ZIP_RATIO} to 1 (a ZIP bomb?)", str(path),
                                       field=info.filename)])
        found[table] = info
    total = sum(i.file_size for i in found.values())
    if total > MAX_PACKAGE_BYTES:
        raise RegistryError([Issue(f"tables of {total / 2**20:,.0f} MB uncompressed, more than "
                                   f"the limit of {MAX_PACKAGE_BYTES // 2**20} MB", str(path))])
    return list(found.items())


def _package_texts(path: Path) -> dict[str, tuple[str, str]]:
    """Table name -> (CSV text, file label) for the tables present in a package."""
    texts: dict[str, tuple[str, str]] = {}
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                for table, info in _zip_tables(path, archive):
                    label = f"{path}!{info.filename}"
                    with archive.open(info) as member:  # reads stop at the declared size
                        texts[table] = (_decode(member.read(info.file_size + 1), label), label)
        except zipfile.BadZipFile:
            raise RegistryError([Issue("not a readable ZIP file", str(path))]) from None
        return texts
    folder = path.parent if path.is_file() else path
    files = [folder / f"{t}.csv" for t in tables.TABLES if (folder / f"{t}.csv").is_file()]
    total = sum(f.stat().st_size for f in files)
    if total > MAX_PACKAGE_BYTES:
        raise RegistryError([Issue(f"tables of {total / 2**20:,.0f} MB, more than the limit of "
                                   f"{MAX_PACKAGE_BYTES // 2**20} MB", str(folder))])
    for file in files:
        texts[file.stem] = (_decode(file.read_bytes(), str(file)), str(file))
    ignored = sorted(f.name for f in folder.glob("*.csv") if f.stem not in tables.COLUMNS)
    if ignored and texts:
        texts["_ignored"] = (" ".join(ignored), str(folder))
    if not texts:
        raise RegistryError([Issue("no HSDS tables found (expected services.csv, "
                                   "organizations.csv, locations.csv, ...)", str(path))])
    return texts


def _read_tables(path: Path) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = {t: [] for t in tables.TABLES}
    texts = _package_texts(path)
    if "_ignored" in texts:
        names, folder = texts.pop("_ignored")
        out["_ignored"] = [{"_file": folder, "id": "", "tables": names.split()}]
    for table, (text, label) in texts.items():
        for row_number, row in enumerate(tables.read_table_rows(text, table), start=2):
            row.update(_file=label, _row=row_number, _label="row")
            out[table].append(row)
    return out


def _group(rows: list[Obj], key: str) -> dict[str, list[Obj]]:
    groups: dict[str, list[Obj]] = defaultdict(list)
    for row in rows:
        if row.get(key):
            groups[str(row[key])].append(row)
    return groups


def _with_terms(t: dict[str, list[Obj]]) -> dict[str, list[Obj]]:
    """Attributes grouped by linked id, each with its taxonomy term object inlined."""
    taxonomies = {r.get("id"): r for r in t["taxonomies"]}
    terms = {}
    for term in t["taxonomy_terms"]:
        detail = taxonomies.get(term.get("taxonomy_id"))
        terms[term.get("id")] = {**term, "taxonomy_detail": detail} if detail else term
    for attribute in t["attributes"]:
        term_id = attribute.get("taxonomy_term_id")
        attribute["taxonomy_term"] = terms.get(term_id, {"id": term_id})
    return _group(t["attributes"], "link_id")


def package_services(path: str | Path) -> tuple[list[Obj], list[Issue]]:
    """Nested services of a tabular package, and issues for unlinked records.

    Raises
    ------
    RegistryError
        When no table can be read.
    """
    t = _read_tables(Path(path))
    attrs = _with_terms(t)
    by_location = {k: _group(t[k], "location_id") for k in
                   ("addresses", "phones", "languages", "schedules")}
    by_service = {k: _group(t[k], "service_id") for k in ("phones", "languages", "schedules")}
    locations = {}
    for loc in t["locations"]:
        lid = str(loc.get("id", ""))
        locations[lid] = {**loc, "attributes": attrs.get(lid, []),
                          **{k: v.get(lid, []) for k, v in by_location.items()}}
    orgs = {str(o.get("id", "")): {**o, "attributes": attrs.get(str(o.get("id", "")), [])}
            for o in t["organizations"]}
    sal_by_service = _group(t["service_at_location"], "service_id")
    services, issues, used_locations, used_orgs = [], [], set(), set()
    for svc in t["services"]:
        sid = str(svc.get("id", ""))
        sals = []
        for sal in sal_by_service.get(sid, []):
            lid = str(sal.get("location_id", ""))
            used_locations.add(lid)
            if lid not in locations:
                issues.append(_issue(sal, "service_at_location names a location that is not "
                                     "in locations.csv", "location_id", lid))
                # Keep the service out rather than list it as country-wide.
                sals.append({**sal, "location": {"id": lid, MISSING: True}})
                continue
            sals.append({**sal, "location": locations[lid]})
        org_id = str(svc.get("organization_id", ""))
        used_orgs.add(org_id)
        services.append({**svc, "organization": orgs.get(org_id, {}),
                         "service_at_locations": sals, "attributes": attrs.get(sid, []),
                         **{k: v.get(sid, []) for k, v in by_service.items()}})
    issues += [_issue(loc, "location is linked to no service; not imported", "id",
                      severity="warning") for lid, loc in locations.items()
               if lid not in used_locations]
    linked = {*locations, *orgs, *(str(s.get("id", "")) for s in t["services"])}
    issues += [_issue(a, "attribute links to no service, organization or location in this "
                      "package; not imported", "link_id", a.get("link_id"), "warning")
               for a in t["attributes"] if str(a.get("link_id", "")) not in linked]
    issues += [_issue(org, "organization has no service in this package; not imported",
                      "id", severity="warning") for oid, org in orgs.items()
               if oid not in used_orgs]
    issues += [_issue(i, "tables rcm_map has no field for; not imported", "", i["tables"],
                      "warning") for i in t.get("_ignored", [])]
    return services, issues


def _issue(obj: Obj, message: str, field: str = "", value: Any = None,
           severity: str = "error") -> Issue:
    """An issue about one HSDS object, naming its file, row or record, and id."""
    return Issue(message, str(obj.get("_file", "")), obj.get("_row"), str(obj.get("id") or ""),
                 field, value, severity, obj.get("_label", "record"))


def _tag(obj: Any, file: str, index: int) -> Any:
    """A copy of a JSON value whose every object knows its file and record index."""
    if isinstance(obj, list):
        return [_tag(v, file, index) for v in obj]
    if not isinstance(obj, dict):
        return obj
    tagged = {k: _tag(v, file, index) for k, v in obj.items()}
    for key, value in (("_file", file), ("_row", index), ("_label", "record")):
        tagged.setdefault(key, value)
    return tagged


def _classify(doc: Obj, file: str, index: int) -> tuple[list[Obj], list[Issue]]:
    """Services in one JSON object of any HSDS shape."""
    doc = _tag(doc, file, index)
    if isinstance(doc.get("service"), dict):  # a service at a location
        sal = {k: v for k, v in doc.items() if k != "service"}
        service = _tag(doc["service"], file, index)
        return [{**service, "service_at_locations": [sal]}], []
    if isinstance(doc.get("services"), list):  # an organization with its services
        org = {k: v for k, v in doc.items() if k != "services"}
        found = [_tag({**s, "organization": org}, file, index)
                 for s in doc["services"] if isinstance(s, dict)]
        if not found:
            return [], [_issue(doc, "organization lists no service; nothing to import",
                               "services", severity="warning")]
        return found, []
    if "status" in doc or "service_at_locations" in doc or "organization" in doc:
        return [doc], []
    if "latitude" in doc or "location_type" in doc or "addresses" in doc:
        return [], [_issue(doc, "a location on its own is not a service; not imported "
                           "(import the service that uses it)", "id", doc.get("id"))]
    keys = sorted(k for k in doc if not k.startswith("_"))[:8]
    return [], [_issue(doc, "not an HSDS service, service_at_location, organization or "
                       "location object; not imported", "", keys)]


def json_services(path: str | Path) -> tuple[list[Obj], list[Issue]]:
    """Nested services of an HSDS JSON document (any of the shapes listed above)."""
    file = str(path)
    doc = read_json_file(path)
    return json_doc_services(doc, file)


def json_doc_services(doc: Any, file: str) -> tuple[list[Obj], list[Issue]]:
    """Nested services of a parsed HSDS JSON document."""
    items = doc.get("contents") if isinstance(doc, dict) and "contents" in doc else doc
    items = items if isinstance(items, list) else [items]
    services: list[Obj] = []
    issues: list[Issue] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            issues.append(Issue("expected a JSON object", file, index, field="",
                                value=type(item).__name__, row_label="record"))
            continue
        found, problems = _classify(item, file, index)
        services += found
        issues += problems
    return services, issues


def read_services(path: str | Path) -> tuple[list[Obj], list[Issue]]:
    """Nested services of any HSDS input: package folder, datapackage.json, ZIP or JSON.

    Raises
    ------
    RegistryError
        When the input cannot be read at all.
    """
    p = Path(path)
    if p.is_dir() or p.name == "datapackage.json" or p.suffix.lower() in (".zip", ".csv"):
        return package_services(p)
    if not p.exists():
        raise RegistryError([Issue("no such file or folder", str(p))])
    return json_services(p)
