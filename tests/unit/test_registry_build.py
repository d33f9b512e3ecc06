"""`make data`: source list + additions + corrections + evidence -> registry features."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from rcm_map.core import schema
from rcm_map.formats.corrections import read_corrections
from rcm_map.formats.registry_build import GENERATED_PART, BuildResult, build
from rcm_map.formats.registry_report import readme_blocks, refresh_readme
from rcm_map.search.gazetteer import Gazetteer

DATA = Path(__file__).resolve().parent.parent / "data"
BUILD_SMALL = DATA / "build_small"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """The 18-place gazetteer fixture."""
    return Gazetteer.load(DATA / "gazetteer_small.csv")


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A writable copy of tests/data/build_small (the build writes evidence files)."""
    return Path(shutil.copytree(BUILD_SMALL, tmp_path / "sources"))


@pytest.fixture
def built(sources: Path, gazetteer: Gazetteer) -> BuildResult:
    """The fixture sources built once per test."""
    return build(sources, gazetteer)


def props_by_name(result: BuildResult) -> dict[str, dict[str, Any]]:
    return {f["properties"]["name"]: f["properties"] for f in result.features}


def test_source_list_and_additions_are_imported(built: BuildResult) -> None:
    names = props_by_name(built)
    assert len(names) == 6 and "Línea Nueve (prueba)" in names
    assert names["Línea Nueve (prueba)"]["phones"] == ["1510"]
    for feature in built.features:
        assert schema.validate_properties(feature["properties"]) == []


def test_the_source_lists_own_contacts_become_evidence_rows(built: BuildResult,
                                                            sources: Path) -> None:
    generated = (sources / "parts" / GENERATED_PART).read_text(encoding="utf-8")
    assert ",phone,+52 962 000 0000,https://news.example.org/uno," in generated
    assert ",hours,Lunes a viernes 9-17,https://news.example.org/uno," in generated
    assert ",age_min,12,https://news.example.org/siete," in generated  # the band 12-17
    assert ",age_max,17,https://news.example.org/siete," in generated
    assert "Calle Falsa" not in generated  # a confidential residence's address
    assert "WhatsApp" not in generated  # corrected: the page gives one phone only
    assert "c90923ab,age_max,17," not in generated  # the page states 16: the band gives no row


def test_every_contact_has_an_evidence_row(built: BuildResult) -> None:
    evidenced = {(r.service_id, r.field, r.value) for r in built.evidence}
    for feature in built.features:
        p = feature["properties"]
        values = [("phone", v) for v in p["phones"]] + [
            (f, str(p[f])) for f in ("email", "website", "address", "hours", "referral",
                                     "eligibility", "age_min", "age_max")
            if p[f] not in ("", None)]
        for field, value in values:
            assert (p["id"], field, value) in evidenced, (p["id"], field, value)


def test_corrections_change_tags_and_drop_unsupported_values(built: BuildResult) -> None:
    names = props_by_name(built)
    assert names["Estación Ocho (prueba)"]["service_types"] == ["migration_authority",
                                                                "migration_holding"]
    assert names["Albergue Uno (prueba)"]["phones"] == ["+52 962 000 0000"]
    casa = names["Casa Dos para adolescentes (prueba)"]
    assert (casa["age_min"], casa["age_max"]) == (None, 16)  # stated ages replace the band
    assert casa["address"] == ""  # confidential: the evidence address is withheld
    assert built.evidence_report.withheld == 1
    assert "Calle Verdadera" not in {r.value for r in built.evidence}  # nor republished


def test_conflicts_are_reported_and_the_newest_page_wins(built: BuildResult) -> None:
    [conflict] = built.evidence_report.conflicts
    assert conflict.field == "email" and conflict.chosen == "otro@example.org"
    assert props_by_name(built)["Albergue Uno (prueba)"]["email"] == "otro@example.org"


def test_border_post_moves_to_its_sourced_crossing(built: BuildResult) -> None:
    feature = next(f for f in built.features
                   if f["properties"]["name"] == "Puesto Siete (prueba)")
    assert feature["geometry"]["coordinates"] == [-85.6108, 11.2151]
    assert feature["properties"]["location_precision"] == "address"


def test_source_date_is_not_a_verification(built: BuildResult) -> None:
    uno = props_by_name(built)["Albergue Uno (prueba)"]
    assert uno["source_date"] == "2025-05-01"  # newest page, later than the note's date
    assert all(f["properties"]["verified_on"] == "" for f in built.features)


def test_the_build_is_deterministic(sources: Path, gazetteer: Gazetteer,
                                    built: BuildResult) -> None:
    first = (sources / "evidence.csv").read_bytes()
    again = build(sources, gazetteer)
    assert (sources / "evidence.csv").read_bytes() == first
    assert again.features == built.features


def test_a_stale_correction_fails_the_build(sources: Path, gazetteer: Gazetteer) -> None:
    path = sources / "corrections.csv"
    path.write_text(path.read_text(encoding="utf-8") + "mex-gone-00000000,populations,"
                    "families,,https://a.example.org,gone\n", encoding="utf-8")
    result = build(sources, gazetteer)
    assert [i.feature_id for i in result.issues] == ["mex-gone-00000000"]
    assert "no longer applies" in result.report()


def test_corrections_must_cite_a_page(tmp_path: Path) -> None:
    path = tmp_path / "corrections.csv"
    path.write_text("# why\nservice_id,field,remove,add,source_url,reason\n"
                    "mex-a-1,service_types,shelter,,,no page\n"
                    "mex-a-1,phone,,+1 555,https://a.example.org,new phone\n", encoding="utf-8")
    fixes, issues = read_corrections(path)
    assert fixes == []
    assert [(i.index, i.field) for i in issues] == [(3, "source_url"), (4, "add")]


def test_readme_blocks_are_rewritten(built: BuildResult, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- hotlines:start -->\nold\n<!-- hotlines:end -->\n"
                      "<!-- build:start -->\n<!-- build:end -->\n", encoding="utf-8")
    assert refresh_readme(readme, built)
    text = readme.read_text(encoding="utf-8")
    assert "| GTM | Línea Nueve (prueba): 1510 |" in text
    assert "| MEX | **none** |" in text
    assert "1 conflicts" in text
    assert not refresh_readme(readme, built)
    assert readme_blocks(built.features)["contacts"].count("\n") == 11


def test_town_correction_moves_a_far_fallback_to_a_gazetteer_town(
        sources: Path, gazetteer: Gazetteer) -> None:
    path = sources / "corrections.csv"
    path.write_text(path.read_text(encoding="utf-8")
                    + "gtm-linea-nueve-prueba-6c249a22,town,,Ciudad Tecún Umán|GT-SM,"
                    "https://gob.example.org/nueve,the page names the Tecún Umán office\n"
                    "mex-albergue-uno-prueba-aabacffb,town,,Ciudad Tecún Umán|GT-SM,"
                    "https://news.example.org/uno,wrong country\n"
                    "mex-refugio-cinco-prueba-151d8739,town,Tenosique,,"
                    "https://cinco.example.org/contacto,a national line\n", encoding="utf-8")
    result = build(sources, gazetteer)
    feature = next(f for f in result.features
                   if f["properties"]["id"] == "gtm-linea-nueve-prueba-6c249a22")
    assert feature["geometry"]["coordinates"] == [-92.14039, 14.67737]
    assert (feature["properties"]["admin1"], feature["properties"]["location_precision"]) \
        == ("GT-SM", "city")
    assert [(i.feature_id, i.field) for i in result.issues] == [
        ("mex-albergue-uno-prueba-aabacffb", "add")]  # not a place of MEX
    assert result.towns["gtm-linea-nueve-prueba-6c249a22"] == "Ciudad Tecún Umán|GT-SM"
    cinco = next(f for f in result.features
                 if f["properties"]["id"] == "mex-refugio-cinco-prueba-151d8739")
    assert cinco["geometry"] is None and cinco["properties"]["city"] == ""  # country-wide
    assert cinco["properties"]["location_precision"] == "country_wide"
