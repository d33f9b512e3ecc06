"""The bundled data: registry, evidence, boundaries and gazetteer as committed in data/.

The registry is rebuilt from data/sources/ (inside the repository) and compared byte
for byte; the boundary and gazetteer builds run on samples of their sources copied
into tests/data/sources/ (see tests/data/README.md) and compare with data/.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import re
import shutil
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rcm_map.core import schema
from rcm_map.core.boundaries import points_in_admin1, points_in_country
from rcm_map.formats.export import geojson_bytes
from rcm_map.formats.registry_build import build
from rcm_map.formats.registry_report import readme_blocks
from rcm_map.formats.source_rules import is_confidential
from rcm_map.registry import model as registry
from rcm_map.search.gazetteer import default_gazetteer

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
ACTORS = DATA / "actors.geojson"
SOURCES = DATA / "sources"
EVIDENCE = SOURCES / "evidence.csv"
SOURCE_SAMPLES = REPO / "tests" / "data" / "sources"


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
    no_point = [f["properties"] for f in features if f["geometry"] is None]
    assert len(no_point) >= 4  # programmes and national hotlines
    assert all(p["city"] == "" for p in no_point)


def test_section7_residences_are_confidential(features: list[dict[str, Any]]) -> None:
    """actors_sources.md section 7: these locations must not be published."""
    names = {f["properties"]["name"]: f["properties"] for f in features}
    must = {"Viva México": "MEX", "Colibrí": "MEX", "Nohemí Álvarez Quillay": "MEX",
            "Casa del Menor Migrante": "MEX", "Jason y Alexander": "MEX", "Camino a Casa": "MEX",
            "CAMEF": "MEX", "DIF Aguascalientes": "MEX", "YMCA": "MEX",
            "Casa Nuestras Raíces": "GTM", "El Refugio de la Niñez": "GTM",
            "Belén (CANFM": "HND", "Casa Alianza": "HND", "CANAF": "SLV",
            "SENNIAF Regional Darién": "PAN", "Aldeas Infantiles SOS Panamá": "PAN",
            "Matthew House": "CAN"}
    for fragment, country in must.items():  # section 7 names residences per country
        matching = [p for name, p in names.items()
                    if fragment in name and p["country"] == country]
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


def test_readme_generated_blocks_are_current(features: list[dict[str, Any]]) -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for name, body in readme_blocks(features).items():
        block = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", readme, re.S)
        assert block is not None, name
        assert block.group(1) == body, f"{name} block is stale: run make data"


def test_readme_documents_every_data_file() -> None:
    """Each file is named in data/README.md, or matched by a documented `dir/*-x.csv` name."""
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    patterns = [p for p in re.findall(r"`([^`\s]+)`", readme) if "*" in p]
    for path in DATA.rglob("*"):
        hidden = any(part.startswith(".") for part in path.relative_to(DATA).parts)
        if path.is_file() and path.name != "README.md" and not hidden:  # .cache/ is local
            name = path.relative_to(DATA).as_posix()
            assert f"`{name}`" in readme or any(fnmatch(name, p) for p in patterns), path
    assert "Place data © GeoNames (geonames.org), CC BY 4.0" in readme


def test_build_is_byte_identical_to_the_committed_files(tmp_path: Path) -> None:
    """`make data` is deterministic and the committed registry and evidence are its output."""
    sources = Path(shutil.copytree(SOURCES, tmp_path / "sources"))
    result = build(sources)
    assert [str(i) for i in result.issues] == []
    assert geojson_bytes(result.features, sort=True) == ACTORS.read_bytes()
    assert (sources / "evidence.csv").read_bytes() == EVIDENCE.read_bytes()
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    blocks = readme_blocks(result.features, result)
    assert blocks["build"] in readme and blocks["fallbacks"] in readme


def test_every_contact_has_an_evidence_row(features: list[dict[str, Any]]) -> None:
    """Never invent: each phone, e-mail, address, hour, age and referral names its page."""
    with EVIDENCE.open(encoding="utf-8", newline="") as fh:
        evidenced = {(r["service_id"], r["field"], r["value"]) for r in csv.DictReader(fh)}
    checked = 0
    for feature in features:
        p = feature["properties"]
        values = [("phone", v) for v in p["phones"]] + [
            (name, str(p[name])) for name in ("email", "website", "address", "hours",
                                               "referral", "eligibility", "age_min", "age_max")
            if p[name] not in ("", None)]
        for name, value in values:
            assert (p["id"], name, value) in evidenced, (p["id"], name, value)
            checked += 1
    assert checked > 60


def test_sources_publish_no_address_of_a_confidential_residence(
        features: list[dict[str, Any]]) -> None:
    """What the app withholds is not in the repository's source files either."""
    additions = sorted((SOURCES / "parts").glob("*-additions.csv"))
    for path in [SOURCES / "actors_sources.csv", *additions]:
        with path.open(encoding="utf-8", newline="") as fh:
            assert [r["name"] for r in csv.DictReader(fh) if is_confidential(r) and r["address"]] \
                == [], path
    hidden = {f["properties"]["id"] for f in features
              if f["properties"]["location_precision"] == "confidential"}
    for path in [EVIDENCE, *sorted((SOURCES / "parts").glob("*-evidence.csv"))]:
        with path.open(encoding="utf-8", newline="") as fh:
            assert [r for r in csv.DictReader(fh) if r["service_id"] in hidden
                    and r["field"] in ("address", "location")] == [], path


def test_holding_facilities_are_never_shelters(features: list[dict[str, Any]]) -> None:
    holding = [f["properties"] for f in features
               if "migration_holding" in f["properties"]["service_types"]]
    assert len(holding) >= 4
    assert all("shelter" not in p["service_types"] for p in holding)


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _feature_lines(path: Path) -> list[str]:
    """The features of a file written by build_boundaries (one per line)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"type":"FeatureCollection","features":[' and lines[-1] == "]}"
    return [line.rstrip(",") for line in lines[1:-1]]


def test_boundaries_rebuild_the_committed_features(tmp_path: Path) -> None:
    """build_boundaries on a sample of its sources gives the committed features, code
    and name updates included (MX-DIF -> MX-CMX, Costa Caribe Norte, Guna Yala)."""
    assert _script("build_boundaries").main(["--sources", str(SOURCE_SAMPLES),
                                             "--out", str(tmp_path)]) == 0
    for name, count in (("admin0.geojson", 2), ("admin1.geojson", 6)):
        built = _feature_lines(tmp_path / name)
        assert len(built) == count
        committed = set(_feature_lines(DATA / "admin_boundaries" / name))
        assert [line for line in built if line not in committed] == [], name
    codes = [json.loads(line)["properties"]["admin1_code"]
             for line in _feature_lines(tmp_path / "admin1.geojson")]
    assert codes == sorted(codes) and "MX-CMX" in codes and "MX-DIF" not in codes


def _gazetteer_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_gazetteer_rebuilds_the_committed_rows(tmp_path: Path) -> None:
    """build_gazetteer on a sample of GeoNames places gives the committed rows (keys,
    aliases, updated admin-1 codes) in the committed order, with the same bytes twice."""
    first, second = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    for out in (first, second):
        assert _script("build_gazetteer").main(["--source", str(SOURCE_SAMPLES / "places.csv"),
                                                "--out", str(out)]) == 0
    assert first.read_bytes() == second.read_bytes()
    built = _gazetteer_rows(first)
    committed = _gazetteer_rows(DATA / "gazetteer.csv.gz")
    position = {row["geonameid"]: n for n, row in enumerate(committed)}
    with (SOURCE_SAMPLES / "places.csv").open(encoding="utf-8", newline="") as fh:
        sampled = {row["geonameid"] for row in csv.DictReader(fh)}
    assert {r["geonameid"] for r in built if int(r["geonameid"]) > 0} == sampled
    # plus the places GeoNames lacks (data/corridor_places.csv rows without a geonameid)
    assert any(int(r["geonameid"]) < 0 for r in built)
    assert built == [committed[position[row["geonameid"]]] for row in built]
    assert [position[row["geonameid"]] for row in built] == sorted(
        position[row["geonameid"]] for row in built)


def test_province_wide_services_only_in_their_province(tmp_path):
    """A British Columbia programme is not listed as country-wide in Montréal."""
    import json

    from rcm_map.registry import load_registry
    from rcm_map.registry.model import DEFAULT_REGISTRY
    from rcm_map.search.query import Query, search

    data = json.loads(DEFAULT_REGISTRY.read_text(encoding="utf-8"))
    bc = [f for f in data["features"]
          if f["geometry"] is None and f["properties"]["admin1"] == "CA-BC"]
    assert bc, "the bundled registry has a BC-only service without a place"
    reg = load_registry(DEFAULT_REGISTRY)
    montreal = search(reg, Query(near=(45.50, -73.57), radius_km=50)).countrywide
    vancouver = search(reg, Query(near=(49.28, -123.12), radius_km=50)).countrywide
    bc_id = bc[0]["properties"]["id"]
    assert bc_id in set(vancouver["id"])
    assert bc_id not in set(montreal["id"])
    # national lines and Québec's own (the DPJ lines of issue 16's research), nothing else
    assert set(montreal["id"]) and not set(montreal["admin1"]) - {"", "CA-QC"}
