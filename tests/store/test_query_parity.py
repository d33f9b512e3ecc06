"""The same queries give the same answers on both backends as on the in-memory engine.

The reference is `rcm_map.search.query.search` over the public registry built from the
very features the store holds. Distances may differ by float rounding (PostGIS
computes them in C on its own sphere, rescaled; see rcm_map/store/postgis.py), so
they are compared within 5 m, and radius queries check that no service lies
within 10 m of the radius, where the two could legitimately disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rcm_map.core import schema
from rcm_map.registry.model import Registry, frame_from_features
from rcm_map.search.query import Query, SearchResult, search
from rcm_map.store.base import Store

TAPACHULA = (14.9, -92.26)
MEXICO_CITY = (19.43, -99.13)
GUATEMALA_CITY = (14.63, -90.51)
TORONTO = (43.65, -79.38)

QUERIES: dict[str, Query] = {
    "everything": Query(),
    "limit-no-near": Query(limit=7),
    "service-any-of": Query(service_types=("shelter", "hotline")),
    "service-health-not-mental": Query(service_types=("health",)),
    "population": Query(populations=("unaccompanied", "lgbtiq")),
    "age-exact": Query(age=15),
    "age-zero": Query(age=0),
    "age-25": Query(age=25),
    "age-band": Query(age_band="6-11"),
    "languages": Query(languages=("mam", "fr")),
    "countries": Query(countries=("GTM", "HND")),
    "admin1": Query(admin1=("MX-CHP", "GT-GU")),
    "text-accent": Query(text="nandu"),
    "text-case-accent": Query(text="PROCURADURÍA"),
    "text-address-of-confidential": Query(text="Calle Secreta"),
    "text-punctuation": Query(text="  línea   amiga "),
    "text-only-spaces": Query(text="   "),
    "verified-since": Query(verified_since=dt.date(2024, 1, 1)),
    "nearest-5": Query(near=TAPACHULA, limit=5),
    "nearest-20-filtered": Query(near=MEXICO_CITY, limit=20, service_types=("shelter",)),
    "nearest-1": Query(near=GUATEMALA_CITY, limit=1),
    "nearest-all": Query(near=TORONTO),
    "nearest-k-bigger-than-n": Query(near=TAPACHULA, limit=10_000, countries=("MEX",)),
    "radius-30": Query(near=MEXICO_CITY, radius_km=30),
    "radius-and-limit": Query(near=GUATEMALA_CITY, radius_km=40, limit=4),
    "radius-tiny-empty": Query(near=(0.0, 0.0), radius_km=1),
    "radius-filters": Query(near=TAPACHULA, radius_km=60, age=10, populations=("unaccompanied",)),
    "combined": Query(near=MEXICO_CITY, limit=10, age_band="12-17", languages=("es",),
                      verified_since=dt.date(2021, 1, 1), text="a"),
    "no-match": Query(service_types=("anti_trafficking",), countries=("PAN",)),
}


@pytest.fixture(scope="module")
def reference(test_features: list[dict[str, Any]]) -> Registry:
    """The in-memory public registry of the same features."""
    return Registry.from_frame(frame_from_features(test_features))


def assert_same(got: SearchResult, want: SearchResult, query: Query) -> None:
    """Same ids in the same order, same fields, distances within 5 m."""
    assert got.total_matching == want.total_matching
    assert list(got.located["id"]) == list(want.located["id"])
    assert list(got.countrywide["id"]) == list(want.countrywide["id"])
    assert list(got.located.columns) == list(want.located.columns)
    text_cols = [c for c in want.located.columns if c not in ("lon", "lat", "distance_km")]
    pd.testing.assert_frame_equal(got.located[text_cols].reset_index(drop=True),
                                  want.located[text_cols].reset_index(drop=True))
    pd.testing.assert_frame_equal(got.countrywide.reset_index(drop=True),
                                  want.countrywide.reset_index(drop=True))
    for col in ("lon", "lat"):
        np.testing.assert_allclose(got.located[col].to_numpy(float),
                                   want.located[col].to_numpy(float), atol=1e-9)
    if "distance_km" in want.located:
        np.testing.assert_allclose(got.located["distance_km"].to_numpy(float),
                                   want.located["distance_km"].to_numpy(float), atol=0.005)


@pytest.mark.parametrize("name", list(QUERIES))
def test_same_answers_as_engine(loaded_store: Store, reference: Registry, name: str) -> None:
    """Every query gives the engine's answer (ids, order, fields, distances)."""
    query = QUERIES[name]
    want = search(reference, query)
    if query.radius_km is not None:
        unlimited = search(reference, query.with_(radius_km=None, limit=None)).located
        gap = np.abs(unlimited["distance_km"].to_numpy(float) - query.radius_km)
        assert (gap > 0.01).all(), "fixture has a service on the radius boundary"
    assert_same(loaded_store.search(query), want, query)


def test_queries_are_not_trivial(reference: Registry) -> None:
    """The query list exercises real cases: most return something, one returns nothing."""
    sizes = {n: len(search(reference, q).located) for n, q in QUERIES.items()}
    assert sum(1 for v in sizes.values() if v > 0) >= len(QUERIES) - 3
    assert sizes["no-match"] == 0 and sizes["radius-tiny-empty"] == 0
    assert sizes["nearest-5"] == 5
    assert 0 < sizes["radius-30"] < sizes["everything"]


def test_ties_break_by_id(loaded_store: Store, reference: Registry) -> None:
    """Services at the same public point come out in id order on both backends."""
    located = search(reference, Query(near=TAPACHULA)).located
    dup = located[located.duplicated(["lon", "lat"], keep=False)]
    got = loaded_store.search(Query(near=TAPACHULA)).located
    for (_, _), group in dup.groupby(["lon", "lat"]):
        ids = list(group["id"])
        assert ids == sorted(ids)
        assert [i for i in got["id"] if i in ids] == ids


def test_confidential_true_location_never_returned(loaded_store: Store,
                                                   test_features: list[dict[str, Any]]) -> None:
    """Confidential rows come out at their public point with the address withheld."""
    secret = [f for f in test_features if f["properties"]["location_precision"] == "confidential"
              and f["geometry"]]
    assert secret
    result = loaded_store.search(Query(near=TAPACHULA))
    rows = result.located.set_index("id")
    for feature in secret:
        row = rows.loc[feature["properties"]["id"]]
        lon, lat = feature["geometry"]["coordinates"]
        assert (row["lon"], row["lat"]) != (lon, lat)
        assert row["address"] == ""
        assert row["distance_band"] != ""
        if feature["properties"]["address"]:
            assert not (result.located == feature["properties"]["address"]).any().any()


def test_every_vocabulary_code_filters_alike(loaded_store: Store, reference: Registry) -> None:
    """Each single service type and population filters the same as the engine."""
    for code in schema.SERVICE_TYPES:
        query = Query(service_types=(code,))
        assert list(loaded_store.search(query).located["id"]) == list(
            search(reference, query).located["id"]), code
    for code in schema.POPULATIONS:
        query = Query(populations=(code,))
        assert list(loaded_store.search(query).located["id"]) == list(
            search(reference, query).located["id"]), code


def test_invalid_query_is_refused(loaded_store: Store) -> None:
    """Both backends refuse a bad query with the engine's message."""
    with pytest.raises(ValueError, match="service_types: unknown code 'spa'"):
        loaded_store.search(Query(service_types=("spa",)))
