"""Importer: source-list CSV and our own CSV export into registry features."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from rcm_map.cli.main import main as rcm_map_cli
from rcm_map.core import schema
from rcm_map.formats import export
from rcm_map.formats.importer import ImportResult, detect_format, import_sources_csv
from rcm_map.formats.registry_report import counts_markdown
from rcm_map.formats.source_rules import (
    ages_from_groups,
    infer_organization_type,
    is_confidential,
    make_id,
    source_date_from_note,
)
from rcm_map.registry import model as registry
from rcm_map.search.gazetteer import Gazetteer

DATA = Path(__file__).resolve().parent.parent / "data"
SOURCES = DATA / "sources_small.csv"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """The 18-place gazetteer fixture."""
    return Gazetteer.load(DATA / "gazetteer_small.csv")


@pytest.fixture(scope="module")
def result(gazetteer: Gazetteer) -> ImportResult:
    """tests/data/sources_small.csv imported once."""
    return import_sources_csv(SOURCES, gazetteer)


def by_name(result: ImportResult) -> dict[str, dict[str, Any]]:
    return {f["properties"]["name"]: f for f in result.features}


def test_counts_and_rejections(result: ImportResult) -> None:
    assert result.format == "source_list"
    assert result.rows == 10 and len(result.features) == 8
    assert result.rejected == [9, 11]  # unknown country XXX; duplicate of row 2
    errors = {(i.index, i.field) for i in result.errors}
    assert errors == {(9, "country_iso3"), (11, "id")}
    for issue in result.issues:
        assert issue.file == str(SOURCES) and issue.row_label == "row"


def test_every_feature_is_schema_valid(result: ImportResult) -> None:
    for feature in result.features:
        assert schema.validate_properties(feature["properties"]) == []
        assert list(feature["properties"]) == list(schema.FIELD_NAMES)


def test_placement(result: ImportResult) -> None:
    f = by_name(result)
    uno = f["Albergue Uno (prueba)"]
    assert uno["geometry"] == {"type": "Point", "coordinates": [-92.25891, 14.90541]}
    assert uno["properties"]["location_precision"] == "city"
    assert uno["properties"]["admin1"] == "MX-CHP"
    tres = f["Oficina Tres (prueba)"]
    assert tres["geometry"]["coordinates"] == [-92.14039, 14.67737]  # Ciudad Tecún Umán
    assert tres["properties"]["city"] == "Tecún Umán (Ayutla)"  # the source text, verbatim
    cinco = f["Refugio Cinco (prueba)"]  # lat/lon given by the source
    assert cinco["geometry"]["coordinates"] == [-91.4309, 17.46166]
    assert cinco["properties"]["location_precision"] == "address"
    assert f["Programa Cuatro (prueba)"]["geometry"] is None  # no city: country-wide
    assert f["Centro Seis (prueba)"]["geometry"]["coordinates"] == [-82.83844, 8.53305]
    assert f["Consulado Nueve (prueba)"]["geometry"]["coordinates"] == [-99.06224, 19.35529]
    assert result.placements == {"city_name": 4, "city_district": 1, "city_parenthesised": 1,
                                 "source_coordinates": 1, "country_wide": 1}


def test_fallback_placement_is_a_warning(result: ImportResult) -> None:
    [warning] = [i for i in result.warnings if i.field == "city"]
    assert warning.index == 8 and warning.value == "Peñas Blancas (Cárdenas)"
    assert "Cárdenas" in warning.message


def test_contacts_are_copied_verbatim(result: ImportResult) -> None:
    f = by_name(result)
    uno = f["Albergue Uno (prueba)"]["properties"]
    assert uno["phones"] == ["+52 962 000 0000", "WhatsApp +52 962 111 1111"]
    assert uno["email"] == "uno@example.org"
    assert uno["website"] == "https://uno.example.org"
    tres = f["Oficina Tres (prueba)"]["properties"]
    assert tres["phones"] == ["1147", "800-2262626", "emergencies 911"]
    assert f["Programa Cuatro (prueba)"]["properties"]["phones"] == []
    assert f["Refugio Cinco (prueba)"]["properties"]["address"] == "Estación Nueva, Tenosique"


def test_non_http_website_is_dropped_with_a_warning(result: ImportResult) -> None:
    tres = by_name(result)["Oficina Tres (prueba)"]["properties"]
    assert tres["website"] == ""
    [issue] = [i for i in result.warnings if i.field == "website"]
    assert (issue.index, issue.value, issue.feature_id) == (4, "www.example.org", tres["id"])
    assert "row 4" in str(issue) and "'website'" in str(issue)


def test_unknown_codes_are_dropped_with_a_warning(result: ImportResult) -> None:
    siete = by_name(result)["Puesto Siete (prueba)"]["properties"]
    assert siete["service_types"] == ["migration_authority"]
    [issue] = [i for i in result.warnings if i.field == "service_types"]
    assert issue.value == ["made_up_service"] and issue.feature_id == siete["id"]


def test_confidential_shelter_loses_its_address(result: ImportResult) -> None:
    dos = by_name(result)["Casa Dos para adolescentes (prueba)"]["properties"]
    assert dos["location_precision"] == "confidential"
    assert dos["address"] == ""
    assert (dos["age_min"], dos["age_max"]) == (12, 17)


def test_other_fields(result: ImportResult) -> None:
    f = by_name(result)
    uno = f["Albergue Uno (prueba)"]["properties"]
    assert uno["source"] == ("https://news.example.org/uno — Diario Ejemplo 2024-03-18: shelter "
                             "for families; La Nación 2025: still open")
    assert uno["source_date"] == "2024-03-18"
    assert uno["notifies_authorities"] == "unknown"
    assert (uno["age_min"], uno["age_max"]) == (None, None)
    assert (uno["cost"], uno["referral"], uno["description"]) == ("", "", "")
    tres = f["Oficina Tres (prueba)"]["properties"]
    assert tres["source_date"] == "2022-11-05"  # 2023-02-30 is no date; 2020-05 not a day
    assert (tres["age_min"], tres["age_max"]) == (0, 17)
    assert tres["languages"] == ["es", "mam"]
    assert f["Casa Dos para adolescentes (prueba)"]["properties"]["source_date"] == ""
    assert f["Consulado Nueve (prueba)"]["properties"]["admin1"] == "MX-CMX"
    assert f["Programa Cuatro (prueba)"]["properties"]["admin1"] == ""


def test_ids_are_stable_and_independent_of_row_order(tmp_path: Path,
                                                      gazetteer: Gazetteer,
                                                      result: ImportResult) -> None:
    lines = SOURCES.read_text(encoding="utf-8").splitlines(keepends=True)
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text(lines[0] + "".join(reversed(lines[1:])), encoding="utf-8")
    again = import_sources_csv(shuffled, gazetteer)
    ids = {f["properties"]["name"]: f["properties"]["id"] for f in result.features}
    ids_again = {f["properties"]["name"]: f["properties"]["id"] for f in again.features}
    assert ids == ids_again
    assert ids["Albergue Uno (prueba)"] == "mex-albergue-uno-prueba-aabacffb"


def test_make_id() -> None:
    a = make_id("MEX", "Org", "Casa Tochan", "Ciudad de México")
    assert a == make_id("MEX", "ORG", "Casa  Tochán", "ciudad de mexico")  # cosmetic changes
    assert a != make_id("MEX", "Org", "Casa Tochan", "Tapachula")
    assert a.startswith("mex-casa-tochan-") and len(a) <= 128
    long = make_id("GTM", "o", "palabra " * 40, "")
    assert len(long) < 70


@pytest.mark.parametrize(("groups", "expected"), [
    (["all"], (None, None, [])),
    ([], (None, None, [])),
    (["adolescence"], (12, 17, [])),
    (["childhood"], (0, 11, [])),
    (["early_childhood"], (0, 5, [])),
    (["childhood", "adolescence"], (0, 17, [])),
    (["early_childhood", "childhood", "adolescence"], (0, 17, [])),
    (["teens"], (None, None, ["teens"])),
])
def test_ages_from_groups(groups: list[str], expected: tuple[Any, Any, list[str]]) -> None:
    assert ages_from_groups(groups) == expected


@pytest.mark.parametrize(("note", "expected"), [
    ("TVN 2025-12-15: shelter", "2025-12-15"),
    ("UNHCR 2016-06-10: ...; address from 2007-11-16", "2016-06-10"),
    ("Pluralism Project (updated 2020-05)", ""),
    ("Christie post (c. 2021-2022)", ""),
    ("founded 27 Feb 2007", ""),
    ("2019", ""),
    ("bad 2023-02-30", ""),
    ("future 2999-01-01 and 2020-01-02", "2020-01-02"),
    ("id 12023-01-01", ""),
])
def test_source_date_from_note(note: str, expected: str) -> None:
    assert source_date_from_note(note, today=dt.date(2026, 3, 1)) == expected


@pytest.mark.parametrize(("name", "org", "expected"), [
    ("Consulado General de Guatemala en Tapachula", "Ministerio de RR.EE.", "consular"),
    ("Embajada de México en Guatemala", "Secretaría de Relaciones Exteriores", "consular"),
    ("PANI - Oficina Local", "Patronato Nacional de la Infancia (PANI)", "government"),
    ("Albergue DIF Colibrí", "Sistema DIF Tabasco", "government"),
    ("Casa del Migrante Tecún Umán", "Misioneros de San Carlos Scalabrinianos", "faith_based"),
    ("Albergue", "Diócesis de David / Red Clamor", "faith_based"),
    ("ACNUR Costa Rica", "UNHCR / ACNUR", "international"),
    ("OIM Nicaragua", "International Organization for Migration (IOM)", "international"),
    ("Cruz Roja Guatemalteca - RCF", "Cruz Roja Guatemalteca with ICRC", "ngo"),
    ("Casa de Derechos", "Municipalidad de Desamparados with UNHCR", "government"),
    ("Casa Tochan", "Casa Tochan (Nuestra Casa)", "ngo"),
])
def test_infer_organization_type(name: str, org: str, expected: str) -> None:
    assert infer_organization_type(name, org) == expected


def _row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(("name", "organization", "country_iso3", "address", "website",
                         "service_types", "age_groups", "populations", "location_precision",
                         "source_url"), "")
    row.update(values)
    return row


def test_is_confidential() -> None:
    assert is_confidential(_row(service_types="shelter", age_groups="childhood;adolescence"))
    assert is_confidential(_row(service_types="shelter", age_groups="all",
                                populations="families;trafficking_survivors"))
    assert is_confidential(_row(service_types="shelter;child_protection_authority",
                                age_groups="all"))
    assert not is_confidential(_row(service_types="shelter", age_groups="all",
                                    populations="families"))
    assert not is_confidential(_row(service_types="legal_assistance", age_groups="adolescence"))
    # named in actors_sources.md section 7, whatever the columns say
    assert is_confidential(_row(name="Casa Alianza Honduras", country_iso3="HND",
                                service_types="psychosocial", age_groups="all"))
    # the organisation publishes its own street address on its own site
    assert not is_confidential(_row(
        service_types="shelter", age_groups="all", populations="trafficking_survivors",
        address="208 Oakwood Avenue", location_precision="address",
        website="https://www.fcjrefugeecentre.org", source_url="https://fcjrefugeecentre.org/x"))


def test_detect_format() -> None:
    with SOURCES.open(encoding="utf-8") as fh:
        assert detect_format(next(csv.reader(fh))) == "source_list"
    assert detect_format([*schema.FIELD_NAMES, "lon", "lat"]) == "export"
    assert detect_format(["name", "city"]) == ""


def test_unreadable_files_give_issues_not_tracebacks(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("name,city\nCasa,Tecún\n".encode("latin-1"))
    res = import_sources_csv(latin)
    assert res.features == [] and "not UTF-8" in str(res.issues[0])
    other = tmp_path / "other.csv"
    other.write_text("name,city\nCasa,Tapachula\n", encoding="utf-8")
    res = import_sources_csv(other)
    assert res.format == "" and res.issues[0].field == "header"
    missing = import_sources_csv(tmp_path / "nope.csv")
    assert "cannot read file" in str(missing.issues[0])
    assert rcm_map_cli(["import", str(tmp_path / "nope.csv"), "--out",
                        str(tmp_path / "out.geojson")]) != 0
    assert not (tmp_path / "out.geojson").exists()


def test_short_row_is_rejected(tmp_path: Path, gazetteer: Gazetteer) -> None:
    lines = SOURCES.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "short.csv"
    path.write_text(lines[0] + "a,b,MEX\n" + lines[1], encoding="utf-8")
    res = import_sources_csv(path, gazetteer)
    assert res.rejected == [2] and len(res.features) == 1
    assert "expected 19 fields" in str(res.errors[0])


def test_report_lists_counts_and_every_issue(result: ImportResult) -> None:
    text = result.report()
    assert "8 of 10 rows imported" in text
    assert "rejected rows: 2 (9, 11)" in text
    assert "country-wide, not on the map: 1" in text
    for issue in result.issues:
        assert str(issue) in text


def test_cli_import_is_byte_identical(tmp_path: Path, capsys) -> None:
    """`rcm-map import` (bundled gazetteer) writes the same bytes twice, and a valid file."""
    lines = SOURCES.read_text(encoding="utf-8").splitlines(keepends=True)
    clean = tmp_path / "clean.csv"  # without the two rows that are rejected
    clean.write_text("".join(line for n, line in enumerate(lines, start=1)
                             if n not in (9, 11)), encoding="utf-8")
    first, second = tmp_path / "a.geojson", tmp_path / "b.geojson"
    assert rcm_map_cli(["import", str(clean), "--out", str(first)]) == 0
    assert rcm_map_cli(["import", str(clean), "--out", str(second)]) == 0
    assert "8 of 8 rows imported" in capsys.readouterr().out
    assert first.read_bytes() == second.read_bytes()
    assert registry.errors(registry.validate_file(first)) == []


def test_cli_import_writes_nothing_when_a_row_is_rejected(tmp_path: Path, capsys) -> None:
    out = tmp_path / "actors.geojson"
    out.write_text("old", encoding="utf-8")
    assert rcm_map_cli(["import", str(SOURCES), "--out", str(out)]) != 0
    assert "rejected rows: 2 (9, 11)" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8") == "old"


def test_csv_errors_are_issues(tmp_path: Path, gazetteer: Gazetteer) -> None:
    header = SOURCES.read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "huge.csv"
    path.write_text(header + "\n\"" + "x" * 200_000 + "\",b\n", encoding="utf-8")
    result = import_sources_csv(path, gazetteer)
    assert result.features == [] and result.rejected
    assert "unreadable CSV" in str(result.errors[0]) and "field limit" in str(result.errors[0])


def test_export_csv_reimports_unchanged(tmp_path: Path, result: ImportResult) -> None:
    original = tmp_path / "original.geojson"
    export.write_geojson(result.features, original)
    frame = registry.frame_from_features(result.features)
    csv_path = tmp_path / "export.csv"
    csv_path.write_bytes(export.to_csv_bytes(frame))
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    again = tmp_path / "again.geojson"
    assert rcm_map_cli(["import", str(csv_path), "--out", str(again)]) == 0
    assert again.read_bytes() == original.read_bytes()


def test_export_format_errors_name_row_and_field(tmp_path: Path) -> None:
    header = [*schema.FIELD_NAMES, "lon", "lat"]
    row = dict.fromkeys(header, "")
    row.update(id="x-1", name="Casa (test)", organization="Org (test)",
               organization_type="ngo", service_types="shelter;teleportation",
               country="MEX", location_precision="city", source="test", age_min="abc",
               lon="-92.25891", lat="14.90541")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    writer.writerow(row)
    path = tmp_path / "bad.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    res = import_sources_csv(path)
    assert res.rejected == [2]
    assert {(i.index, i.field) for i in res.issues} >= {(2, "service_types"), (2, "age_min")}


def test_counts_markdown(result: ImportResult) -> None:
    text = counts_markdown(result.features)
    assert "| MEX | 4 | 1 | 2 | 1 | 0 |" in text
    assert "| HND | 1 | 0 | 0 | 0 | 1 |" in text
    assert "| **all** | 8 | 1 | 5 | 1 | 1 |" in text
    assert "| shelter | 0 | 0 | 0 | 0 | 0 | 3 | 0 | 0 | 3 |" in text
