"""HSDS 3.0: our package matches the official schema; imports report every problem.

The official schema and examples are read from ../shared/data/peer/hsds-3.0/
(see its PROVENANCE.md) and never copied here; tests that need them skip when
the folder is absent. The examples' `csv/datapackage.json` is a dangling git
symlink, so table schemas are derived from the compiled JSON schema of
`service`, whose objects carry their table (`path`), columns, formats and
`required` / `tabular_required` lists.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from rcm_map.formats import hsds_tables as tables
from rcm_map.formats.hsds import export_hsds, features_of, hsds_zip_bytes, import_hsds
from rcm_map.formats.hsds_read import package_services
from rcm_map.formats.taxonomy import TAXONOMIES, resolve_term, term_rows
from rcm_map.registry.model import Registry, frame_from_features

OFFICIAL = Path(__file__).resolve().parents[2].parent / "shared/data/peer/hsds-3.0"
needs_official = pytest.mark.skipif(not OFFICIAL.is_dir(), reason="no ../shared HSDS examples")

# Required address parts rcm_map does not know: written empty rather than made up
# (docs/interop.md, "What HSDS cannot carry / what we cannot fill").
KNOWN_GAPS = {("addresses", "postal_code"), ("addresses", "state_province"),
              ("addresses", "city")}


@pytest.fixture(scope="module")
def compiled_schema() -> dict[str, Any]:
    """The official compiled JSON schema of an HSDS 3.0 service."""
    if not OFFICIAL.is_dir():
        pytest.skip("no ../shared HSDS examples")
    return json.loads((OFFICIAL / "json/schema_service_compiled.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def official_tables(compiled_schema) -> dict[str, dict[str, Any]]:
    """Table name -> {columns: [(name, type, format, enum)], required: set}."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            path = node.get("path")
            if isinstance(path, str) and path.endswith(".csv") and "properties" in node:
                columns = [(k, v.get("type"), v.get("format"), v.get("enum"))
                           for k, v in node["properties"].items()
                           if v.get("type") not in ("array", "object")]
                required = set(node.get("required") or []) | set(
                    node.get("tabular_required") or [])
                found.setdefault(path[:-4], {"columns": columns, "required": required})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(compiled_schema)
    return found


@pytest.fixture
def package(tmp_path, small_features) -> Path:
    """small.geojson (public view, as the app exports it) as an HSDS package."""
    frame = Registry.from_frame(frame_from_features(small_features)).frame
    export_hsds(frame, tmp_path / "pkg")
    return tmp_path / "pkg"


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


# --- our table layout against the official schema --------------------------------

def test_every_table_we_write_is_an_official_table_with_the_same_columns(official_tables):
    for table in tables.TABLES:
        official = official_tables[table]
        assert tables.column_names(table) == [c[0] for c in official["columns"]], table
        for (name, fmt, required), (_, typ, off_fmt, enum) in zip(
                tables.COLUMNS[table], official["columns"], strict=True):
            assert (fmt == "number") == (typ == "number"), (table, name)
            if fmt != "number":
                assert (fmt or None) == off_fmt, (table, name)
            assert required == (name in official["required"]), (table, name)
            assert tables.ENUMS.get((table, name)) == (tuple(enum) if enum else None)


def _cell_problem(table: str, name: str, fmt: str, value: str) -> str | None:
    if fmt == "uuid":
        try:
            uuid.UUID(value)
        except ValueError:
            return "not a uuid"
    if fmt == "number":
        try:
            float(value)
        except ValueError:
            return "not a number"
    if fmt == "uri" and not re.match(r"^https?://\S+$", value):
        return "not an http(s) URI"
    if fmt == "email" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
        return "not an e-mail"
    if (table, name) in tables.ENUMS and value not in tables.ENUMS[(table, name)]:
        return "not in enum"
    return None


def validate_package(folder: Path) -> list[tuple[str, str, str]]:
    """(table, column, problem) for every cell breaking the table schema or a key."""
    problems = []
    ids: dict[str, set[str]] = {}
    rows_by_table = {t: read_csv(folder / f"{t}.csv") for t in tables.TABLES}
    for table, rows in rows_by_table.items():
        assert list(rows[0].keys()) if rows else True
        ids[table] = {r["id"] for r in rows}
        if len(ids[table]) != len(rows):
            problems.append((table, "id", "duplicate id"))
        for row in rows:
            for name, fmt, required in tables.COLUMNS[table]:
                value = row[name]
                if not value:
                    if required:
                        problems.append((table, name, "required value empty"))
                    continue
                problem = _cell_problem(table, name, fmt, value)
                if problem:
                    problems.append((table, name, problem))
    for (table, column), ref in tables.FOREIGN_KEYS.items():
        for row in rows_by_table[table]:
            if row[column] and row[column] not in ids[ref]:
                problems.append((table, column, "foreign key to nothing"))
    return problems


def test_exported_tables_validate_against_the_official_table_schemas(package):
    problems = validate_package(package)
    assert {(t, c) for t, c, _ in problems} <= KNOWN_GAPS
    assert problems == [("addresses", "postal_code", "required value empty")]  # mex-tap-dif


def _strip_private(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_private(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_strip_private(v) for v in obj]
    return obj


def test_exported_services_validate_against_the_official_json_schema(package,
                                                                     compiled_schema):
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(
        compiled_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    services, issues = package_services(package)
    assert issues == [] and len(services) == 6
    errors = []
    for service in services:
        for error in validator.iter_errors(_strip_private(service)):
            errors.append((list(error.absolute_path), error.message))
    # Only the documented gap: mex-tap-dif's address has no postal code.
    assert [m for _, m in errors] == ["'postal_code' is a required property"]


def test_datapackage_describes_every_table_written(package):
    descriptor = json.loads((package / "datapackage.json").read_text("utf-8"))
    assert descriptor["profile"] == "tabular-data-package"
    for resource in descriptor["resources"]:
        path = package / resource["path"]
        assert path.is_file()
        header = next(csv.reader(io.StringIO(path.read_text("utf-8"))))
        assert header == [f["name"] for f in resource["schema"]["fields"]]
        assert resource["schema"]["primaryKey"] == "id"


def test_export_is_deterministic_and_the_zip_holds_the_same_files(tmp_path, small_features):
    export_hsds(small_features, tmp_path / "a")
    export_hsds(small_features, tmp_path / "b")
    for file in (tmp_path / "a").iterdir():
        assert file.read_bytes() == (tmp_path / "b" / file.name).read_bytes()
    with zipfile.ZipFile(io.BytesIO(hsds_zip_bytes(small_features))) as archive:
        for name in archive.namelist():
            assert archive.read(name) == (tmp_path / "a" / name).read_bytes()
    assert hsds_zip_bytes(small_features) == hsds_zip_bytes(small_features)


def test_text_cells_are_neutralised_numbers_are_not(tmp_path, small_features):
    small_features[0]["properties"]["name"] = "=HYPERLINK(\"http://x\")"
    export_hsds(small_features, tmp_path)
    services = (tmp_path / "services.csv").read_text("utf-8")
    assert "'=HYPERLINK" in services
    assert "'+52 962 000 0000" in (tmp_path / "phones.csv").read_text("utf-8")
    locations = read_csv(tmp_path / "locations.csv")
    assert {r["longitude"] for r in locations} >= {"-92.2667"}  # negative numbers stay numbers
    features, issues = import_hsds(tmp_path)
    by_id = {f["properties"]["id"]: f["properties"] for f in features}
    assert by_id["mex-tap-shelter"]["name"] == "=HYPERLINK(\"http://x\")"
    assert by_id["mex-tap-shelter"]["phones"] == ["+52 962 000 0000"]


def test_our_taxonomy_terms_are_unique_and_resolve_back():
    rows = term_rows()
    assert len({r["code"] for r in rows}) == len(rows)
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        key, code = row["code"].split(":")
        assert resolve_term(row) == (key, code)
        assert resolve_term({"code": code, "taxonomy": TAXONOMIES[key].name}) == (key, code)
    assert resolve_term({"id": str(uuid.uuid4()), "code": "shelter"}) is None


def test_confidential_service_leaves_only_its_public_point(package, small_features):
    secret = next(f for f in small_features if f["properties"]["id"] == "mex-tap-secret")
    lon, lat = secret["geometry"]["coordinates"]
    text = "".join(p.read_text("utf-8") for p in package.iterdir())
    assert "Calle Secreta" not in text
    assert str(lon) not in text and str(lat) not in text


# --- import: partners' files and the official examples ----------------------------

def _official_outcome(path: Path) -> tuple[list[str], list[tuple[str, str, str]]]:
    features, issues = import_hsds(path)
    reported = [(Path(i.file).name, i.severity, i.field) for i in issues]
    return [f["properties"]["id"] for f in features], reported


NOT_MAPPED = [("organization.attributes (rcm_map:organization_type)", "missing"),
              ("attributes (rcm_map:service_type)", "missing"),
              ("attributes (rcm_map:location_precision)", "missing")]

# Every official example: no record loads; each reason is listed.
EXPECTED: dict[str, set[tuple[str, str]]] = {
    "service_full.json": {("attributes.taxonomy_term", "warning"), ("maximum_age", "warning"),
                          ("state_province", "warning"), ("phones.number", "warning"),
                          ("latitude", "error")},
    "service_list.json": {("maximum_age", "warning")},
    "organization_full.json": {("attributes.taxonomy_term", "warning"),
                               ("maximum_age", "warning"), ("state_province", "warning"),
                               ("phones.number", "warning"), ("latitude", "error")},
    "service_at_location_full.json": {
        ("attributes.taxonomy_term", "warning"), ("maximum_age", "warning"),
        ("state_province", "warning"), ("phones.number", "warning"), ("latitude", "error")},
    "service_at_location_list.json": {("maximum_age", "warning"), ("latitude", "error")},
    "location.json": {("id", "error")},
    "schema_service_compiled.json": {("", "error")},
}
COUNTRY_US = ("addresses.country or attributes (rcm_map:field country)", "error")


@needs_official
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_official_json_examples_load_or_report_every_record(name):
    loaded, reported = _official_outcome(OFFICIAL / "json" / name)
    assert loaded == []
    got = {(field, sev) for _, sev, field in reported}
    expected = set(EXPECTED[name])
    if name not in ("location.json", "schema_service_compiled.json"):
        # The service itself lacks our required fields; its country is "US" or absent.
        expected |= {(f, "error") for f, _ in NOT_MAPPED} | {COUNTRY_US}
    assert got == expected
    assert all(f == name for f, _, _ in reported)


@needs_official
def test_official_tabular_example_reports_its_one_service_with_every_reason():
    loaded, reported = _official_outcome(OFFICIAL / "csv")
    assert loaded == []
    assert set(reported) == {
        ("attributes.csv", "warning", "link_id"),  # links to f28dd44b..., no such record
        ("csv", "warning", ""),  # contacts, funding, programs, ... tables not imported
        ("services.csv", "warning", "maximum_age"),  # 100: no upper limit for us
        ("addresses.csv", "warning", "state_province"),  # "MyState" is not ISO 3166-2
        ("phones.csv", "warning", "phones.number"),  # '"+44 1234 234567"' quotes removed
        ("locations.csv", "error", "latitude"),  # latitude 100
        *{("services.csv", "error", f) for f, _ in NOT_MAPPED},
        ("services.csv", "error", COUNTRY_US[0]),  # US is not one of our 8 countries
    }


@needs_official
def test_a_fixed_official_record_loads_with_partner_defaults(tmp_path):
    doc = json.loads((OFFICIAL / "json/service_full.json").read_text("utf-8"))
    location = doc["service_at_locations"][0]["location"]
    location.update(latitude=14.905, longitude=-92.263)
    location["addresses"][0].update(country="MX", state_province="MX-CHP")
    (tmp_path / "service.json").write_text(json.dumps(doc), "utf-8")
    features, issues = import_hsds(tmp_path / "service.json", defaults={
        "organization_type": "ngo", "service_types": ["psychosocial"],
        "location_precision": "address"})
    assert [i for i in issues if i.severity == "error"] == []
    (props,) = [f["properties"] for f in features]
    assert props["id"] == "ac148810-d857-441c-9679-408f346de14b"
    assert props["name"] == "Community Counselling"
    assert props["organization"] == "Example Organization Inc."
    assert (props["age_min"], props["age_max"]) == (12, None)
    assert props["phones"] == ["+44 1234 234567"] and props["languages"] == ["ur"]
    assert (props["country"], props["admin1"], props["city"]) == ("MEX", "MX-CHP", "MyCity")
    assert props["address"] == "1-30 Main Street, MyVillage"
    assert props["website"] == "http://example.com/counselling"
    assert props["last_verified"] == "2005-01-01"
    assert props["hours"].startswith("The service is available from 10 am")
    assert props["cost"].startswith("Non-NHS patients")
    assert props["referral"].startswith("If you are an NHS patient")
    assert props["source"] == "HSDS 3.0 import of service.json, service " + props["id"]
    assert features[0]["geometry"]["coordinates"] == [-92.263, 14.905]


def _service_doc(**changes: Any) -> dict[str, Any]:
    """A minimal HSDS service in JSON that maps fully onto our schema."""
    svc = {"id": "0b5c7c1e-6a1c-4b8e-9a0a-1d2e3f405060", "name": "Servicio", "status": "active",
           "organization": {"id": "1b5c7c1e-6a1c-4b8e-9a0a-1d2e3f405060", "name": "Org",
                            "attributes": [{"id": "a1", "taxonomy_term": {
                                "id": "x", "code": "organization_type:ngo"}}]},
           "attributes": [{"id": "a2", "taxonomy_term": {"code": "service_type:shelter"}},
                          {"id": "a3", "taxonomy_term": {"code": "location_precision:city"}}],
           "service_at_locations": [{"id": "s1", "location": {
               "id": "l1", "latitude": 14.9, "longitude": -92.2667,
               "addresses": [{"id": "ad", "country": "MX", "city": "Tapachula"}]}}]}
    svc.update(changes)
    return svc


def _import_doc(tmp_path: Path, doc: dict[str, Any]):
    (tmp_path / "doc.json").write_text(json.dumps(doc), "utf-8")
    return import_hsds(tmp_path / "doc.json")


def test_a_complete_partner_record_loads(tmp_path):
    features, issues = _import_doc(tmp_path, _service_doc())
    assert issues == []
    assert features[0]["properties"]["service_types"] == ["shelter"]


@pytest.mark.parametrize(("change", "field", "value"), [
    ({"url": "javascript:alert(1)"}, "url", "javascript:alert(1)"),
    ({"url": "ftp://example.org"}, "url", "ftp://example.org"),
    ({"status": "defunct"}, "status", "defunct"),
    ({"minimum_age": 30}, "minimum_age", 30),
    ({"email": "not-an-email"}, "email", "not-an-email"),
])
def test_bad_values_reject_the_record_and_name_field_and_value(tmp_path, change, field, value):
    features, issues = _import_doc(tmp_path, _service_doc(**change))
    assert features == []
    (error,) = [i for i in issues if i.severity == "error"]
    assert (error.field, error.value, error.feature_id) == (field, value, _service_doc()["id"])
    assert error.file.endswith("doc.json")


@pytest.mark.parametrize(("location", "field", "value"), [
    ({"id": "l1"}, "latitude/longitude", None),
    ({"id": "l1", "latitude": 100, "longitude": 101}, "latitude", 100),
    ({"id": "l1", "latitude": 14.9, "longitude": -200}, "longitude", -200),
    ({"id": "l1", "latitude": "14.9", "longitude": -92.2}, "latitude", "14.9"),
    ({"id": "l1", "latitude": 46.0, "longitude": 2.0}, "location.latitude/longitude",
     [2.0, 46.0]),  # in France, not in MEX
])
def test_positions_are_checked(tmp_path, location, field, value):
    doc = _service_doc(service_at_locations=[{"id": "s1", "location": {
        **location, "addresses": [{"id": "ad", "country": "MX"}]}}])
    features, issues = _import_doc(tmp_path, doc)
    assert features == []
    errors = [i for i in issues if i.severity == "error"]
    assert [(e.field, e.value) for e in errors] == [(field, value)]
    assert errors[0].feature_id == "l1"


def test_unknown_terms_are_warnings_and_do_not_block(tmp_path):
    doc = _service_doc()
    doc["attributes"].append({"id": "a9", "taxonomy_term": {
        "id": "t9", "code": "BD-1800", "name": "Food Pantries", "taxonomy": "AIRS/211"}})
    features, issues = _import_doc(tmp_path, doc)
    assert len(features) == 1
    (warning,) = issues
    assert warning.severity == "warning" and warning.field == "attributes.taxonomy_term"
    assert warning.value["code"] == "BD-1800"


def test_a_service_with_two_locations_gives_two_features(tmp_path):
    doc = _service_doc()
    second = copy.deepcopy(doc["service_at_locations"][0])
    second["location"].update(id="l2", latitude=14.91)
    doc["service_at_locations"].append(second)
    features, issues = _import_doc(tmp_path, doc)
    assert issues == []
    assert [f["properties"]["id"] for f in features] == [f"{doc['id']}:l1", f"{doc['id']}:l2"]


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe", b"[1, 2]", b"null"])
def test_unreadable_json_gives_issues_not_tracebacks(tmp_path, content):
    (tmp_path / "bad.json").write_bytes(content)
    features, issues = import_hsds(tmp_path / "bad.json")
    assert features == [] and issues


def test_missing_path_and_empty_folder_are_reported(tmp_path):
    assert import_hsds(tmp_path / "nope.json")[1]
    assert import_hsds(tmp_path)[1][0].message.startswith("no HSDS tables")


def test_zip_packages_import(tmp_path, small_features):
    (tmp_path / "p.zip").write_bytes(hsds_zip_bytes(small_features))
    features, issues = import_hsds(tmp_path / "p.zip")
    assert issues == []
    assert sorted(features, key=lambda f: f["properties"]["id"]) == sorted(
        features_of(small_features), key=lambda f: f["properties"]["id"])


def test_tabular_package_with_a_broken_link_is_reported(tmp_path, small_features):
    export_hsds(small_features, tmp_path)
    text = (tmp_path / "service_at_location.csv").read_text("utf-8")
    first_location = read_csv(tmp_path / "locations.csv")[0]["id"]
    (tmp_path / "service_at_location.csv").write_text(
        text.replace(first_location, str(uuid.uuid4())), "utf-8")
    features, issues = import_hsds(tmp_path)
    fields = {(Path(i.file).name, i.field) for i in issues}
    assert ("service_at_location.csv", "location_id") in fields
    assert ("locations.csv", "id") in fields  # the location now linked to nothing
    assert len(features) == len(small_features) - 1  # not turned into a country-wide one


def test_bundled_registry_exports_valid_hsds_but_for_unknown_postal_codes(tmp_path,
                                                                         compiled_schema):
    """Data test: the whole public registry against the official tables and JSON schema."""
    registry = Path(__file__).resolve().parents[2] / "data" / "actors.geojson"
    if not registry.is_file():
        pytest.skip("data/actors.geojson not built yet")
    jsonschema = pytest.importorskip("jsonschema")
    features = json.loads(registry.read_text("utf-8"))["features"]
    export_hsds(Registry.from_frame(frame_from_features(features)).frame, tmp_path)
    assert {(t, c) for t, c, _ in validate_package(tmp_path)} <= KNOWN_GAPS
    validator = jsonschema.Draft202012Validator(
        compiled_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    services, issues = package_services(tmp_path)
    assert issues == [] and len(services) == len(features)
    messages = {e.message for s in services for e in validator.iter_errors(_strip_private(s))}
    assert messages <= {"'postal_code' is a required property"}
