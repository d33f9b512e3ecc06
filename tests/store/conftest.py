"""Fixtures running the same store tests against both backends.

`store` is parametrised over "geojson" and "postgis". The PostGIS cluster starts
once per session (tests/store/pgcluster.py); without PostgreSQL binaries the
PostGIS cases skip with the reason, except with CI=true, where they fail.
Set RCM_MAP_TEST_DATABASE_URL to use an existing database instead (it is wiped).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rcm_map.registry.model import errors, validate_collection
from rcm_map.store.base import Store
from rcm_map.store.geojson_store import GeoJSONStore

sys.path.insert(0, str(Path(__file__).resolve().parent))  # this folder's helper modules
from pgcluster import seed, wipe  # noqa: E402 - shared with tests that import them

DATA = Path(__file__).resolve().parent.parent / "data"
BACKENDS = ("geojson", pytest.param("postgis", marks=pytest.mark.postgis))

# Inland points well inside each country, so jittered services stay in it.
CENTRES = {
    "MEX": [(19.43, -99.13), (16.75, -93.12), (14.95, -92.20), (25.67, -100.31)],
    "GTM": [(14.63, -90.51), (15.47, -90.37)],
    "HND": [(14.07, -87.19), (15.50, -88.03)],
    "SLV": [(13.70, -89.20)],
    "NIC": [(12.13, -86.25)],
    "CRI": [(9.93, -84.08)],
    "PAN": [(8.99, -79.52)],
    "CAN": [(43.65, -79.38), (45.50, -73.57)],
}
ADMIN1 = {"MEX": "MX-CMX", "GTM": "GT-GU", "HND": "HN-FM", "SLV": "SV-SS", "NIC": "NI-MN",
          "CRI": "CR-SJ", "PAN": "PA-8", "CAN": "CA-ON"}
SERVICES = ["shelter", "health", "legal_assistance", "psychosocial", "child_protection_authority",
            "hotline", "education", "documentation"]
POPULATIONS = ["unaccompanied", "separated", "families", "asylum_seekers", "returnees", "lgbtiq"]
LANGS = ["es", "en", "fr", "mam", "kek", "miskito"[:3]]
NAMES = ["Casa Ñandú", "Albergue San José", "Clínica Esperanza", "Oficina de Niñez",
         "Centro Tecún", "Refugio Lluvia", "Programa Búsqueda", "Línea Amiga"]


def _feature(rng: np.random.Generator, i: int, country: str) -> dict[str, Any]:
    lat, lon = CENTRES[country][i % len(CENTRES[country])]
    jitter = 0.12 if country in ("SLV", "PAN", "CRI") else 0.35
    lat += float(rng.uniform(-jitter, jitter))
    lon += float(rng.uniform(-jitter, jitter))
    age_min = None if rng.random() < 0.3 else int(rng.integers(0, 13))
    age_max = None if rng.random() < 0.3 else int(rng.integers(max(age_min or 0, 5), 26))
    n_serv = int(rng.integers(1, 4))
    precision = "confidential" if rng.random() < 0.12 else str(rng.choice(["address", "city"]))
    unlocated = rng.random() < 0.05
    props = {
        "id": f"gen-{country.lower()}-{i:04d}",
        "name": f"{NAMES[i % len(NAMES)]} {i}",
        "organization": f"Organización {i % 17}",
        "organization_type": str(rng.choice(["government", "ngo", "international"])),
        "service_types": sorted({str(s) for s in rng.choice(SERVICES, n_serv)}),
        "age_min": age_min, "age_max": age_max,
        "populations": sorted({str(p) for p in rng.choice(POPULATIONS, int(rng.integers(0, 3)))}),
        "country": country, "admin1": ADMIN1[country], "city": f"Ciudad {i % 5}",
        "address": f"Calle {country} Número {i}" if precision != "city" else "",
        "phones": [], "email": "", "website": "", "hours": "",
        "languages": sorted({str(x) for x in rng.choice(LANGS, int(rng.integers(1, 3)))}),
        "cost": "", "referral": "Por la Procuraduría" if i % 4 == 0 else "",
        "notifies_authorities": "unknown", "location_precision": precision,
        # the legacy name on some rows: stores must read files written before issue 16
        ("last_verified" if i % 7 == 0 else "source_date"):
        "" if i % 3 == 0 else f"202{i % 6}-0{1 + i % 9}-1{i % 10}",
        "verified_on": "" if i % 4 else f"202{3 + i % 3}-0{1 + i % 9}-0{1 + i % 8}",
        "verified_by": "" if i % 4 else "ana",
        "source": "generated test fixture", "description": "Atención a adolescentes" if i % 5
        else "",
    }
    geometry = None if unlocated else {"type": "Point", "coordinates": [round(lon, 6),
                                                                        round(lat, 6)]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def generated_features(n_per_country: int = 40, seed: int = 7) -> list[dict[str, Any]]:
    """Deterministic services in every country; those failing validation are dropped."""
    rng = np.random.default_rng(seed)
    features = [_feature(rng, i, c) for c in CENTRES for i in range(n_per_country)]
    bad = {i.index for i in errors(validate_collection(
        {"type": "FeatureCollection", "features": features}, "generated"))}
    return [f for k, f in enumerate(features) if k not in bad]


@pytest.fixture(scope="session")
def test_features() -> list[dict[str, Any]]:
    """small.geojson plus ~300 generated services (read-only: copy before changing)."""
    small = json.loads((DATA / "small.geojson").read_text(encoding="utf-8"))["features"]
    return small + generated_features()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of an empty PostGIS test database (a throwaway cluster unless one is given)."""
    external = os.environ.get("RCM_MAP_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from pgcluster import cluster_for_tests

    cluster = cluster_for_tests()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _make(backend: str, tmp: Path, request: pytest.FixtureRequest) -> Store:
    if backend == "geojson":
        return GeoJSONStore(tmp / "registry.geojson")
    url = request.getfixturevalue("pg_url")
    from rcm_map.store.postgis import PostGISStore

    store = PostGISStore(url)
    wipe(url)
    return store


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend name: "geojson" or "postgis"."""
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """An empty store of each backend."""
    made = _make(backend, tmp_path, request)
    yield made
    made.close()


@pytest.fixture
def small_store(store: Store, small_features: list[dict[str, Any]]) -> Store:
    """A store holding tests/data/small.geojson."""
    seed(store, small_features)
    return store


@pytest.fixture(scope="module", params=BACKENDS)
def loaded_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 test_features: list[dict[str, Any]]) -> Iterator[Store]:
    """A read-only store of each backend holding `test_features` (shared by a module)."""
    made = _make(str(request.param), tmp_path_factory.mktemp("loaded"), request)
    seed(made, test_features)
    yield made
    made.close()


StoreFactory = Callable[[], Store]


@pytest.fixture
def hosted(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           small_features: list[dict[str, Any]]) -> Iterator[Store]:
    """The app's configuration when hosted: RCM_MAP_DATABASE_URL set, the database
    holding small.geojson, and RCM_MAP_REGISTRY pointing at a damaged decoy file that
    any read of the GeoJSON file would trip over."""
    from rcm_map.store.postgis import PostGISStore

    wipe(pg_url)
    decoy = tmp_path / "decoy" / "actors.geojson"
    decoy.parent.mkdir()
    decoy.write_bytes(DECOY)
    monkeypatch.setenv("RCM_MAP_DATABASE_URL", pg_url)
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(decoy))
    store = PostGISStore(pg_url)
    seed(store, small_features)
    yield store
    store.close()
    assert decoy.read_bytes() == DECOY
    assert sorted(p.name for p in decoy.parent.iterdir()) == ["actors.geojson"]  # no cache


DECOY = b'{"type": "FeatureCollection", "features": [ {"not": "read"'
