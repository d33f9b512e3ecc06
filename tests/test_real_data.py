"""The bundled data: registry, boundaries and gazetteer as committed in data/.

Tests marked `needs_shared` rebuild the files from ../shared/data and compare; they
skip when that folder is absent (a clone without it). Everything else runs on the
committed files alone.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rcm_map.core import schema
from rcm_map.core.boundaries import points_in_admin1, points_in_country
from rcm_map.formats.importer import counts_markdown, import_to_geojson, make_id
from rcm_map.registry import model as registry
from rcm_map.search.gazetteer import default_gazetteer

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
ACTORS = DATA / "actors.geojson"
SHARED_DATA = REPO.parent / "shared" / "data"
SOURCE_CSV = SHARED_DATA / "actors_sources.csv"
needs_shared = pytest.mark.skipif(not SOURCE_CSV.is_file(),
                                  reason="../shared/data is not present")


@pytest.fixture(scope="module")
def features() -> list[dict[str, Any]]:
    """The committed registry's features."""
    return json.loads(ACTORS.read_text(encoding="utf-8"))["features"]


def located(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in features if f["geometry"] is not None]


def test_registry_validates_strictly() -> None:
    assert [str(i) for i in registry.validate_file(ACTORS)] == []


def test_at_least_200_services_in_all_eight_countries(features: list[dict[str, Any]]) -> None:
    assert len(features) >= 200
    per_country = Counter(f["properties"]["country"] for f in features)
    assert set(per_country) == set(schema.COUNTRIES)
    assert min(per_country.values()) >= 10


def test_every_point_lies_in_its_country_and_admin1(features: list[dict[str, Any]]) -> None:
    points = located(features)
    lons = [f["geometry"]["coordinates"][0] for f in points]
    lats = [f["geometry"]["coordinates"][1] for f in points]
    countries = [f["properties"]["country"] for f in points]
    inside = points_in_country(lons, lats, countries, tolerance_km=5.0)
    assert [f["properties"]["id"] for f, ok in zip(points, inside, strict=True) if not ok] == []
    with_admin1 = [(x, y, f) for x, y, f in zip(lons, lats, points, strict=True)
                   if f["properties"]["admin1"]]
    ok = points_in_admin1([x for x, _, _ in with_admin1], [y for _, y, _ in with_admin1],
                          [f["properties"]["admin1"] for _, _, f in with_admin1], 5.0)
    assert [f["properties"]["id"] for (_, _, f), good in zip(with_admin1, ok, strict=True)
            if not good] == []
    assert len(with_admin1) >= len(points) - 1


def test_country_wide_services_are_those_without_a_city(features: list[dict[str, Any]]) -> None:
    no_point = [f["properties"]["name"] for f in features if f["geometry"] is None]
    assert len(no_point) == 4
    assert all(f["properties"]["city"] == "" for f in features if f["geometry"] is None)


def test_section7_residences_are_confidential(features: list[dict[str, Any]]) -> None:
    """actors_sources.md section 7: these locations must not be published."""
    names = {f["properties"]["name"]: f["properties"] for f in features}
    must = ["Viva México", "Colibrí", "Nohemí Álvarez Quillay", "Casa del Menor Migrante",
            "Jason y Alexander", "Camino a Casa", "CAMEF", "DIF Aguascalientes", "YMCA",
            "Casa Nuestras Raíces", "El Refugio de la Niñez", "Belén (CANFM", "Casa Alianza",
            "CANAF", "SENNIAF Regional Darién", "Aldeas Infantiles SOS Panamá",
            "Matthew House"]
    for fragment in must:
        matching = [p for name, p in names.items() if fragment in name]
        assert matching, fragment
        assert all(p["location_precision"] == "confidential" for p in matching), fragment
    for props in names.values():
        if props["location_precision"] == "confidential":
            assert props["address"] == "", props["id"]


def test_ids_are_unique_and_well_formed(features: list[dict[str, Any]]) -> None:
    ids = [f["properties"]["id"] for f in features]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z]{3}-[a-z0-9-]+-[0-9a-f]{8}", i) for i in ids)
    assert ids == sorted(ids)  # the writer sorts by id


def test_file_is_rfc7946_and_deterministic_text() -> None:
    text = ACTORS.read_text(encoding="utf-8")
    data = json.loads(text)
    assert set(data) == {"type", "features"}
    assert text.endswith("]}\n") and "\r" not in text


@pytest.mark.parametrize(("query", "country", "admin1", "name"), [
    ("Tapachula", "MEX", "MX-CHP", "Tapachula"),
    ("Tecun Uman", "GTM", "GT-SM", "Ciudad Tecún Umán"),
    ("Ciudad Hidalgo", "MEX", "MX-CHP", "Ciudad Hidalgo"),
    ("Tenosique", "MEX", "MX-TAB", "Tenosique"),
    ("Corinto", "NIC", "NI-CI", "Corinto"),
    ("Corinto", "HND", "HN-CR", "Corinto"),
    ("Meteti", "PAN", "PA-5", "Metetí"),
    ("Yaviza", "PAN", "PA-5", "Yaviza"),
    ("Lajas Blancas", "PAN", "PA-EM", "Lajas Blancas"),
    ("Puerto Obaldia", "PAN", "PA-KY", "Puerto Obaldía"),
    ("Paso Canoas", "CRI", "CR-P", "Canoas"),
    ("san pedro sula", "HND", "HN-CR", "San Pedro Sula"),
])
def test_gazetteer_finds_the_border_towns(query: str, country: str, admin1: str,
                                          name: str) -> None:
    found = default_gazetteer().search(query, limit=5, country=country)
    assert (name, admin1) in [(p.name, p.admin1_code) for p in found]


def test_readme_counts_are_current(features: list[dict[str, Any]]) -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- counts:start -->\n(.*?)<!-- counts:end -->", readme, re.S)
    assert block is not None
    assert block.group(1) == counts_markdown(features), (
        "run: python -c 'from rcm_map.formats.importer import refresh_readme_counts as r; r()'")


def test_readme_documents_every_data_file() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for path in DATA.rglob("*"):
        hidden = any(part.startswith(".") for part in path.relative_to(DATA).parts)
        if path.is_file() and path.name != "README.md" and not hidden:  # .cache/ is local
            assert f"`{path.relative_to(DATA).as_posix()}`" in readme, path
    assert "Place data © GeoNames (geonames.org), CC BY 4.0" in readme


@needs_shared
def test_import_is_byte_identical_to_the_committed_registry(tmp_path: Path) -> None:
    out = tmp_path / "actors.geojson"
    result = import_to_geojson(SOURCE_CSV, out)
    assert result.errors == [] and len(result.features) == 206
    assert out.read_bytes() == ACTORS.read_bytes()
    again = tmp_path / "again.geojson"
    import_to_geojson(SOURCE_CSV, again)
    assert again.read_bytes() == out.read_bytes()


@needs_shared
def test_contacts_appear_verbatim_in_the_source(features: list[dict[str, Any]]) -> None:
    """Never invent: every phone, e-mail, address and website is in the source row."""
    with SOURCE_CSV.open(encoding="utf-8", newline="") as fh:
        rows = {make_id(r["country_iso3"], r["organization"], r["name"], r["city"]): r
                for r in csv.DictReader(fh)}
    checked = 0
    for feature in features:
        props = feature["properties"]
        row = rows[props["id"]]
        for phone in props["phones"]:
            assert phone in row["phone"], (props["id"], phone)
            checked += 1
        for name, column in (("email", "email"), ("address", "address"),
                             ("website", "website"), ("hours", "hours")):
            if props[name]:
                assert props[name] == row[column], (props["id"], name)
                checked += 1
    assert checked > 60


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_shared
def test_boundaries_rebuild_byte_identical(tmp_path: Path) -> None:
    assert _script("build_boundaries").main(["--out", str(tmp_path)]) == 0
    for name in ("admin0.geojson", "admin1.geojson"):
        assert (tmp_path / name).read_bytes() == (DATA / "admin_boundaries" / name).read_bytes()


@needs_shared
def test_gazetteer_rebuilds_byte_identical(tmp_path: Path) -> None:
    out = tmp_path / "gazetteer.csv.gz"
    assert _script("build_gazetteer").main(["--out", str(out)]) == 0
    assert out.read_bytes() == (DATA / "gazetteer.csv.gz").read_bytes()
