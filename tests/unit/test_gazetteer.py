"""Gazetteer: normalisation, ranked search, city-text resolution, admin-1 names."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from rcm_map.search.gazetteer import (
    Gazetteer,
    default_gazetteer,
    normalize,
    resolve_admin1,
    split_city,
)

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def small() -> Gazetteer:
    """18 real GeoNames places (tests/data/gazetteer_small.csv)."""
    return Gazetteer.load(DATA / "gazetteer_small.csv")


@pytest.mark.parametrize(("text", "expected"), [
    ("Ciudad Tecún Umán", "ciudad tecun uman"),
    ("  San Pedro  Sula! ", "san pedro sula"),
    ("Montréal-Nord", "montreal nord"),
    ("Gustavo A. Madero", "gustavo a madero"),
    ("Pop No'j", "pop noj"),
    ("K’ul B’e", "kul be"),
    ("Straße", "strasse"),
    ("ŁÓDŹ", "lodz"),
    ("Ñuñoa", "nunoa"),
    ("", ""),
    ("---", ""),
])
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="instead got: 3"):
        normalize(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(("query", "name", "country"), [
    ("tapachula", "Tapachula", "MEX"),
    ("TAPACHULA", "Tapachula", "MEX"),
    ("Tecun Uman", "Ciudad Tecún Umán", "GTM"),
    ("tecún umán", "Ciudad Tecún Umán", "GTM"),
    ("uman tecun", "Ciudad Tecún Umán", "GTM"),  # words in another order
    ("san pedro sula", "San Pedro Sula", "HND"),
    ("tapach", "Tapachula", "MEX"),  # partial
    ("Ciudad de México", "Mexico City", "MEX"),  # alias
    ("paso canoas", "Canoas", "CRI"),  # alias beats the longer "Paso Canoas Arriba"
])
def test_search_finds(small: Gazetteer, query: str, name: str, country: str) -> None:
    best = small.search(query, limit=1)
    assert [(p.name, p.country) for p in best] == [(name, country)]


def test_search_ranks_larger_place_first_and_filters_by_country(small: Gazetteer) -> None:
    both = small.search("Ciudad Hidalgo")
    assert [p.admin1_code for p in both] == ["MX-MIC", "MX-CHP"]  # 60,542 before 14,606
    assert [p.admin1_code for p in small.search("ciudad hidalgo", admin1="MX-CHP")] == ["MX-CHP"]
    assert small.search("Ciudad Hidalgo", country="GTM") == []


def test_search_tiers_exact_prefix_word_substring(small: Gazetteer) -> None:
    # "canoas": exact "Canoas", then word-start "Paso Canoas Arriba"
    assert [p.name for p in small.search("canoas")] == ["Canoas", "Paso Canoas Arriba"]
    # "tecun": word start in both; the larger place first
    assert [p.name for p in small.search("tecun")] == ["Ciudad Tecún Umán", "Maya Tecún I"]
    # "palma" is inside "La Palma" at a word start; "alma" only as a substring
    assert [p.name for p in small.search("alma")] == ["La Palma"]


def test_search_limits_and_empty_queries(small: Gazetteer) -> None:
    assert len(small.search("c", limit=3)) == 3
    # one- and two-letter queries match word starts only
    assert [p.name for p in small.search("a")] == ["Agua Caliente", "Paso Canoas Arriba"]
    assert small.search("", limit=5) == []
    assert small.search("   ", limit=5) == []
    assert small.search("zzzz") == []
    assert small.search("tapachula", limit=0) == []


def test_place_is_frozen(small: Gazetteer) -> None:
    place = small.search("tapachula")[0]
    assert (place.lat, place.lon, place.admin1_code, place.population) == (
        14.90541, -92.25891, "MX-CHP", 353706)
    with pytest.raises(AttributeError):
        place.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(("city", "main", "inner"), [
    ("Tapachula", ["Tapachula"], []),
    ("Tecún Umán (Ayutla)", ["Tecún Umán"], ["Ayutla"]),
    ("La Palma / Metetí (Darién)", ["La Palma", "Metetí"], ["Darién"]),
    ("Peel Region (Mississauga/Brampton)", ["Peel Region"], ["Mississauga", "Brampton"]),
])
def test_split_city(city: str, main: list[str], inner: list[str]) -> None:
    assert split_city(city) == (main, inner)


@pytest.mark.parametrize(("city", "country", "admin1", "name", "method"), [
    ("Tapachula", "MEX", "Chiapas", "Tapachula", "name"),
    ("Tecún Umán (Ayutla)", "GTM", "San Marcos", "Ciudad Tecún Umán", "name"),
    ("Ciudad de México (Iztapalapa)", "MEX", "Ciudad de México", "Iztapalapa", "district"),
    ("La Palma / Metetí (Darién)", "PAN", "Darién", "La Palma", "name"),
    ("Peel Region (Mississauga/Brampton)", "CAN", "Ontario", "Mississauga", "parenthesised"),
    ("Paso Canoas (Corredores)", "CRI", "Puntarenas", "Canoas", "name"),
    ("Peñas Blancas (Cárdenas)", "NIC", "Rivas", "Cárdenas", "parenthesised"),
    # the only "Agua Caliente" is in Copán; the parenthesised department rules it out
    ("Agua Caliente (Ocotepeque)", "HND", None, "Nueva Ocotepeque", "parenthesised"),
    ("Agua Caliente (Ocotepeque)", "HND", "Ocotepeque", "Nueva Ocotepeque", "parenthesised"),
    ("Darién", "PAN", "Darién", "Metetí", "admin1_fallback"),  # a province, not a town
    ("El Ceibo", "PAN", "Darién", "Metetí", "admin1_fallback"),
])
def test_resolve_city(small: Gazetteer, city: str, country: str, admin1: str | None,
                      name: str, method: str) -> None:
    match = small.resolve_city(city, country, admin1)
    assert (match.place.name if match.place else None, match.method) == (name, method)
    assert match.note
    assert small.find_city(city, country, admin1) == match.place


def test_resolve_city_not_found(small: Gazetteer) -> None:
    match = small.resolve_city("El Ceibo", "GTM", "Petén")
    assert match.place is None and match.method == "not_found"
    assert "El Ceibo" in match.note


@pytest.mark.parametrize(("text", "country", "code"), [
    ("Chiapas", None, "MX-CHP"),
    ("Québec", None, "CA-QC"),
    ("quebec", "CAN", "CA-QC"),
    ("Ciudad de México", None, "MX-CMX"),
    ("Distrito Federal", None, "MX-CMX"),
    ("MX-DIF", None, "MX-CMX"),
    ("mx-chp", None, "MX-CHP"),
    ("Estado de México", "MEX", "MX-MEX"),
    ("Panamá", "PAN", "PA-8"),
    ("Panamá Oeste", "PAN", "PA-8"),
    ("Quetzaltenango", "GTM", "GT-QZ"),
    ("Atlántico Norte", "NIC", "NI-AN"),
    ("Costa Caribe Sur", "NIC", "NI-AS"),
    ("Kuna Yala", "PAN", "PA-KY"),
    ("La Paz", "HND", "HN-LP"),
    ("La Paz", None, None),  # HND and SLV: ambiguous without a country
    ("Chiapas", "GTM", None),  # wrong country
    ("Atlantis", None, None),
    ("", None, None),
    (None, None, None),
])
def test_resolve_admin1(text: str | None, country: str | None, code: str | None) -> None:
    assert resolve_admin1(text, country) == code


def test_load_names_file_and_missing_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lat,lon\nX,1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv: missing column"):
        Gazetteer.load(bad)


def test_load_rejects_unnormalised_keys(tmp_path: Path) -> None:
    text = (DATA / "gazetteer_small.csv").read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(text.replace(",tapachula,", ",Tapachula,"), encoding="utf-8")
    with pytest.raises(ValueError, match="not normalised"):
        Gazetteer.load(bad)


def test_bundled_gazetteer_answers_in_a_few_ms() -> None:
    gazetteer = default_gazetteer()
    assert len(gazetteer) > 20_000
    timings = []
    for query in ("tapachula", "Tecun Uman", "san pedro sula", "Ciudad Hidalgo", "san", "a"):
        start = time.perf_counter()
        assert gazetteer.search(query)
        timings.append(time.perf_counter() - start)
    # measured ~0.5 ms (short queries up to ~4 ms) on a 2-core machine; loose bound for CI
    assert statistics.median(timings) < 0.02
