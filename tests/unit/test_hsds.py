"""HSDS 3.0: our package passes the reference validator; imports report every problem.

The official examples are copied in tests/data/hsds-3.0/ (CC BY-SA 4.0, see its
README.md): the example tabular package, the example JSON documents, and the
compiled JSON schema of `service` (gzipped). The official table schema itself
ships with the package (rcm_map/formats/hsds_spec/datapackage.json).
Every export is checked with `frictionless`, the reference Data Package validator.
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import frictionless
import jsonschema
import pytest

from rcm_map.formats import hsds_tables as tables
from rcm_map.formats.hsds import (
    HsdsPackage,
    export_hsds,
    features_of,
    hsds_package,
    hsds_zip_bytes,
    import_hsds,
)
from rcm_map.formats.hsds_read import package_services
from rcm_map.formats.taxonomy import TAXONOMIES, resolve_term, term_rows
from rcm_map.registry.model import Registry, frame_from_features

OFFICIAL = Path(__file__).resolve().parents[1] / "data" / "hsds-3.0"


@pytest.fixture(scope="module")
def compiled_schema() -> dict[str, Any]:
    """The official compiled JSON schema of an HSDS 3.0 service."""
    with gzip.open(OFFICIAL / "json/schema_service_compiled.json.gz", "rt",
                   encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


@pytest.fixture(scope="module")
def official_tables(compiled_schema) -> dict[str, dict[str, Any]]:
    """Table name -> {columns: [names], required: set}, from the compiled JSON schema."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            path = node.get("path")
            if isinstance(path, str) and path.endswith(".csv") and "properties" in node:
                columns = [k for k, v in node["properties"].items()
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


def reference_errors(folder: Path) -> tuple[list[str], set[tuple[str, int, str]]]:
    """What `frictionless validate datapackage.json` finds: package-level errors, and
    (file, row, column) of every cell error."""
    limit = csv.field_size_limit()
    try:
        report = frictionless.validate(str(folder / "datapackage.json"))
    finally:  # frictionless raises the process-wide CSV field limit when it loads
        csv.field_size_limit(limit)  # its CSV parser; the importer's tests need the default
    package_errors = [e.message for e in report.errors]
    cells = set()
    for task in report.tasks:
        for error in task.errors:
            cells.add((Path(task.place).name, getattr(error, "row_number", None),
                       getattr(error, "field_name", error.type)))
    return package_errors, cells


def unfilled_cells(package: HsdsPackage) -> set[tuple[str, int | None, str]]:
    return {(i.file, i.index, i.field) for i in package.unfilled}


# --- the official schema, shipped as package data ---------------------------------

def test_shipped_schema_agrees_with_the_official_compiled_json_schema(official_tables):
    """The two official artefacts agree on each table we write: a corrupted or
    hand-edited copy of datapackage.json fails here."""
    for table in tables.TABLES:
        official = official_tables[table]
        assert tables.column_names(table) == official["columns"], table
        assert set(tables.required_columns(table)) == official["required"], table
    assert tables.official_descriptor()["version"] == "3.0.0"


def test_table_layout_comes_from_the_descriptor():
    assert tables.enum("services", "status") == ("active", "inactive", "defunct",
                                                 "temporarily closed")
    assert tables.enum("services", "name") is None
    assert ("organization_id", "organizations") in tables.foreign_keys("services")
    assert {"minimum_age", "maximum_age"} <= tables.numeric_columns("services")
    with pytest.raises(KeyError):
        tables.official_resource("children")


# --- our export against the reference validator ------------------------------------

def test_export_passes_the_reference_validator_but_for_the_rows_it_reports(package,
                                                                          small_features):
    package_errors, cells = reference_errors(package)
    assert package_errors == []
    exported = hsds_package(Registry.from_frame(frame_from_features(small_features)).frame)
    # mex-tap-dif's address has no postal code: reported by the export, never made up.
    assert unfilled_cells(exported) == {("addresses.csv", 2, "postal_code")}
    assert cells == unfilled_cells(exported)
    (gap,) = exported.unfilled
    assert gap.feature_id == "mex-tap-dif" and gap.severity == "warning"
    assert read_csv(package / "addresses.csv")[0]["postal_code"] == ""
    readme = (package / "README.md").read_text("utf-8")  # the ZIP download says it too
    assert "- addresses.csv row 2 (service `mex-tap-dif`): `postal_code`" in readme
    assert "CC-BY-SA" in readme or "ShareAlike" in readme


def test_a_complete_export_is_valid(tmp_path, small_features):
    for feature in small_features:
        if feature["properties"]["id"] == "mex-tap-dif":
            feature["properties"]["address"] += ", C.P. 30700"
    package = export_hsds(Registry.from_frame(frame_from_features(small_features)).frame,
                          tmp_path)
    assert package.unfilled == []
    assert reference_errors(tmp_path) == ([], set())
    assert "None: every required value is filled." in (tmp_path / "README.md").read_text()
    assert read_csv(tmp_path / "addresses.csv")[0]["postal_code"] == "30700"


def test_the_cli_export_names_each_unfilled_value(tmp_path, small_features):
    from rcm_map.formats.interop import cli_export

    frame = Registry.from_frame(frame_from_features(small_features)).frame
    for out in (tmp_path / "pkg", tmp_path / "pkg.zip"):
        text = cli_export("hsds", frame, out)
        assert "1 values HSDS requires are unknown and left empty" in text
        assert "addresses.csv: row 2 (id 'mex-tap-dif'): field 'postal_code'" in text


def test_a_broken_package_fails_the_reference_validator(package):
    """The validator really checks: a bad enum and a dangling key are caught."""
    services = (package / "services.csv").read_text("utf-8")
    (package / "services.csv").write_text(services.replace(",active,", ",open,", 1), "utf-8")
    sal = read_csv(package / "service_at_location.csv")
    text = (package / "service_at_location.csv").read_text("utf-8")
    (package / "service_at_location.csv").write_text(
        text.replace(sal[0]["location_id"], str(uuid.uuid4())), "utf-8")
    _, cells = reference_errors(package)
    assert ("services.csv", 2, "status") in cells
    assert any(f == "service_at_location.csv" for f, _, _ in cells)


def _strip_private(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_private(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_strip_private(v) for v in obj]
    return obj


def test_exported_services_validate_against_the_official_json_schema(package,
                                                                     compiled_schema):
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
    assert "CC-BY-SA-4.0" in descriptor["sources"][0]["title"]
    assert [r["path"] for r in descriptor["resources"]] == [f"{t}.csv" for t in tables.TABLES]
    for resource in descriptor["resources"]:
        path = package / resource["path"]
        assert path.is_file()
        header = next(csv.reader(io.StringIO(path.read_text("utf-8"))))
        assert header == [f["name"] for f in resource["schema"]["fields"]]
        assert resource["schema"]["primaryKey"] == "id"
        official = tables.official_resource(path.stem)
        assert resource["schema"]["fields"] == official["schema"]["fields"]


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


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_official_json_examples_load_or_report_every_record(name, tmp_path):
    path = OFFICIAL / "json" / name
    if not path.is_file():  # the compiled schema is stored gzipped
        with gzip.open(path.with_name(name + ".gz")) as fh:
            (tmp_path / name).write_bytes(fh.read())
        path = tmp_path / name
    loaded, reported = _official_outcome(path)
    assert loaded == []
    got = {(field, sev) for _, sev, field in reported}
    expected = set(EXPECTED[name])
    if name not in ("location.json", "schema_service_compiled.json"):
        # The service itself lacks our required fields; its country is "US" or absent.
        expected |= {(f, "error") for f, _ in NOT_MAPPED} | {COUNTRY_US}
    if name == "service_list.json":  # no location: imported as country_wide (issue 12)
        expected.discard(("attributes (rcm_map:location_precision)", "error"))
    assert got == expected
    assert all(f == name for f, _, _ in reported)


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
    assert props["verified_on"] == "2005-01-01"  # assured_date: a real verification
    assert props["source_date"] == ""
    assert props["eligibility"].startswith("This service is intended for all people aged 12")
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
    """Data test: the whole public registry against the reference validator and the
    official JSON schema; what fails is exactly what the export reports."""
    registry = Path(__file__).resolve().parents[2] / "data" / "actors.geojson"
    features = json.loads(registry.read_text("utf-8"))["features"]
    package = export_hsds(Registry.from_frame(frame_from_features(features)).frame, tmp_path)
    package_errors, cells = reference_errors(tmp_path)
    assert package_errors == []
    assert cells == unfilled_cells(package)
    assert {(f, c) for f, _, c in cells} <= {("addresses.csv", "postal_code")}
    validator = jsonschema.Draft202012Validator(
        compiled_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    services, issues = package_services(tmp_path)
    assert issues == [] and len(services) == len(features)
    messages = {e.message for s in services for e in validator.iter_errors(_strip_private(s))}
    assert messages <= {"'postal_code' is a required property"}
