"""Seeded synthetic registries for the benchmark (10k, 100k, 1M services).

Every service is clustered around a real place of the eight countries (the
bundled gazetteer, data/gazetteer.csv.gz), chosen with a weight that
grows with its population, and jittered by a few kilometres (more in big
cities). Every schema field is filled plausibly; ids start with ``synthetic-``
and names with ``[SYNTHETIC]``. Files go to ``bench/work/`` (gitignored): they
are benchmark input, never data to ship.

Usage: ``python bench/generate.py 100000 [--seed 7] [--out bench/work/x.geojson]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rcm_map.core import boundaries, i18n, schema  # noqa: E402
from rcm_map.core.geo import EARTH_RADIUS_KM  # noqa: E402

WORK_DIR = ROOT / "bench" / "work"
# The bundled gazetteer (GeoNames populated places, CC BY 4.0; see data/README.md).
PLACES = ROOT / "data" / "gazetteer.csv.gz"
DEFAULT_SEED = 20250601
KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180.0
PLACE_TOLERANCE_KM = 2.0  # stricter than validation (5 km), so every point validates
PRECISIONS = ("address", "city", "confidential")
PRECISION_WEIGHTS = (0.70, 0.25, 0.05)
PHONE_PREFIX = {"CAN": "+1 416", "CRI": "+506", "SLV": "+503", "GTM": "+502",
                "HND": "+504", "MEX": "+52 55", "NIC": "+505", "PAN": "+507"}
EXTRA_LANGUAGES = {"CAN": ("en", "fr"), "GTM": ("mam", "kjb", "quc"), "MEX": ("nah", "tzo"),
                   "HND": ("en",), "PAN": ("en",), "CRI": ("en",), "NIC": ("miq",), "SLV": ()}
HOURS = ("Lunes a viernes 8:00-16:00", "24 h", "Lun-Sáb 9:00-17:00", "Mon-Fri 9:00-17:00")
REFERRALS = ("A través de la Procuraduría de Protección", "Llamar antes de llegar",
             "Referral by a caseworker", "Sin cita previa", "")
COSTS = ("gratuito", "free", "")
# Common services appear more often than specialised ones (a code added to the
# schema later, such as migration_holding, gets weight 1).
TYPE_WEIGHTS = {"child_protection_authority": 3, "shelter": 4, "consular_assistance": 1,
                "migration_authority": 1, "asylum_refugee": 2, "legal_assistance": 3,
                "health": 4, "psychosocial": 3, "family_tracing_reunification": 1,
                "return_reception": 1, "education": 3, "food_basic_needs": 3,
                "documentation": 2, "anti_trafficking": 1, "hotline": 1}


def load_places(path: Path | None = None) -> pd.DataFrame:
    """Places with name, country_iso3, admin1_code, lat, lon, population; only those
    that lie inside their own country (so generated points validate)."""
    frame = pd.read_csv(path or PLACES)
    frame = frame[frame["country_iso3"].isin(schema.COUNTRIES)].reset_index(drop=True)
    inside = boundaries.points_in_country(
        frame["lon"].to_numpy(), frame["lat"].to_numpy(), frame["country_iso3"].tolist(),
        PLACE_TOLERANCE_KM)
    return frame[inside].reset_index(drop=True)


def place_weights(population: np.ndarray) -> np.ndarray:
    """Sampling weight of each place: sub-linear in population, so towns get services too."""
    weights = (np.nan_to_num(population, nan=0.0) + 500.0) ** 0.8
    return weights / weights.sum()


def sample_points(
    places: pd.DataFrame, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(place index, lon, lat, precision code index) of `n` services.

    City-precision services sit exactly on the city centre (real registries are
    like that, and it gives the search many exact distance ties).
    """
    which = rng.choice(len(places), size=n, p=place_weights(places["population"].to_numpy()))
    pop = places["population"].to_numpy(float)[which]
    sigma_km = np.clip(1.0 + np.sqrt(np.nan_to_num(pop)) / 150.0, 1.0, 15.0)
    lat0 = places["lat"].to_numpy()[which]
    lon0 = places["lon"].to_numpy()[which]
    dlat = rng.normal(0, 1, n) * sigma_km / KM_PER_DEG
    dlon = rng.normal(0, 1, n) * sigma_km / (KM_PER_DEG * np.cos(np.radians(lat0)))
    precision = rng.choice(len(PRECISIONS), size=n, p=PRECISION_WEIGHTS)
    at_centre = precision == PRECISIONS.index("city")
    lat = np.round(np.where(at_centre, lat0, lat0 + dlat), 6)
    lon = np.round(np.where(at_centre, lon0, lon0 + dlon), 6)
    countries = places["country_iso3"].to_numpy()[which]
    inside = boundaries.points_in_country(lon, lat, countries.tolist(), PLACE_TOLERANCE_KM)
    lat = np.where(inside, lat, lat0)  # jittered into the sea or abroad: use the centre
    lon = np.where(inside, lon, lon0)
    return which, lon, lat, precision


def _pick_many(rng: np.random.Generator, codes: list[str], weights: np.ndarray,
               n: int, low: int, high: int) -> list[list[str]]:
    """`n` lists of `low`..`high` distinct codes, drawn with `weights`."""
    p = weights / weights.sum()
    sizes = rng.integers(low, high + 1, size=n)
    draws = rng.random((n, len(codes))) ** (1.0 / p)  # Efraimidis-Spirakis keys
    order = np.argsort(-draws, axis=1)
    return [[codes[j] for j in order[i, : sizes[i]]] for i in range(n)]


def _ages(rng: np.random.Generator, n: int) -> tuple[list[Any], list[Any]]:
    """Age bounds: open, 0-17, 12-17, 0-11 or 6-17, as registries usually state them."""
    options = [(None, None), (0, 17), (12, 17), (0, 11), (6, 17), (None, 17), (0, 25)]
    picks = rng.choice(len(options), size=n, p=[0.2, 0.35, 0.15, 0.1, 0.1, 0.05, 0.05])
    return [options[k][0] for k in picks], [options[k][1] for k in picks]


def _dates(rng: np.random.Generator, n: int) -> list[str]:
    """Source dates over the past three years ('' for about one in ten)."""
    today = dt.date.today()
    days = rng.integers(0, 3 * 365, size=n)
    empty = rng.random(n) < 0.1
    return ["" if e else (today - dt.timedelta(days=int(d))).isoformat()
            for d, e in zip(days, empty, strict=True)]


def make_features(n: int, seed: int = DEFAULT_SEED,
                  places: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """`n` synthetic GeoJSON features, identical for the same `n` and `seed`."""
    rng = np.random.default_rng(seed)
    places = load_places() if places is None else places
    which, lon, lat, precision = sample_points(places, n, rng)
    type_weights = np.array([TYPE_WEIGHTS.get(code, 1) for code in schema.SERVICE_TYPES],
                            dtype=float)
    types = _pick_many(rng, list(schema.SERVICE_TYPES), type_weights, n, 1, 3)
    pops = _pick_many(rng, list(schema.POPULATIONS), np.ones(len(schema.POPULATIONS)), n, 0, 3)
    age_min, age_max = _ages(rng, n)
    dates = _dates(rng, n)
    org_types = rng.choice(list(schema.ORGANIZATION_TYPES), size=n)
    notifies = rng.choice(list(schema.NOTIFIES_AUTHORITIES), size=n)
    orgs = rng.integers(0, max(1, n // 20), size=n)
    extra = rng.random(n)
    names = places["name"].to_numpy()[which]
    countries = places["country_iso3"].to_numpy()[which]
    admin1 = places["admin1_code"].to_numpy()[which]
    features = []
    for i in range(n):
        country, kind = str(countries[i]), types[i][0]
        langs = ["es"] if country != "CAN" else []
        if extra[i] < 0.3 and EXTRA_LANGUAGES[country]:
            langs.append(EXTRA_LANGUAGES[country][i % len(EXTRA_LANGUAGES[country])])
        props = {
            "id": f"synthetic-{country.lower()}-{i:07d}",
            "name": f"[SYNTHETIC] {i18n.label('service_types', kind)} {names[i]} {i}",
            "organization": f"[SYNTHETIC] Organización {orgs[i]}",
            "organization_type": str(org_types[i]),
            "service_types": types[i],
            "age_min": age_min[i], "age_max": age_max[i],
            "populations": pops[i],
            "country": country, "admin1": str(admin1[i]), "city": str(names[i]),
            "address": f"Calle Sintética {i % 997 + 1}, Colonia Centro",
            "phones": [f"{PHONE_PREFIX[country]} {i % 10_000:04d} {i // 10_000 % 10_000:04d}"],
            "email": f"servicio{i}@example.org",
            "website": f"https://example.org/synthetic/{i}",
            "hours": HOURS[i % len(HOURS)], "languages": langs or ["en"],
            "cost": COSTS[i % len(COSTS)], "referral": REFERRALS[i % len(REFERRALS)],
            "notifies_authorities": str(notifies[i]),
            "location_precision": PRECISIONS[precision[i]],
            "source_date": dates[i],
            "source": f"SYNTHETIC benchmark data (bench/generate.py, seed {seed})",
            "description": f"Synthetic service {i} for benchmarks; not a real place.",
        }
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": [lon[i], lat[i]]}})
    return features


def write_registry(path: Path, n: int, seed: int = DEFAULT_SEED) -> Path:
    """Write a synthetic registry of `n` services to `path` (one feature per line)."""
    features = make_features(n, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write('{"type":"FeatureCollection","features":[\n')
        for i, feature in enumerate(features):
            if i:
                handle.write(",\n")
            handle.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
        handle.write("\n]}\n")
    tmp.replace(path)
    return path


def registry_path(n: int, seed: int = DEFAULT_SEED) -> Path:
    """Where the registry of `n` services with `seed` lives in bench/work/."""
    return WORK_DIR / f"synthetic-{n}-seed{seed}.geojson"


def ensure_registry(n: int, seed: int = DEFAULT_SEED) -> Path:
    """The synthetic registry of size `n`, generated once and then reused."""
    path = registry_path(n, seed)
    return path if path.exists() else write_registry(path, n, seed)


def main(argv: list[str] | None = None) -> int:
    """Command line: generate one registry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    out = write_registry(args.out or registry_path(args.size, args.seed), args.size, args.seed)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
