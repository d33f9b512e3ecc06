"""Indexed search returns exactly what brute force returns (Hypothesis).

Random registries (with exact coordinate ties, confidential and country-wide
services) and random queries: `search` must select and order the same services
as a plain Python loop over every row, whether the registry was built from
features or came back from the columnar cache.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm_map.core import schema
from rcm_map.core.geo import haversine_km, haversine_km_many
from rcm_map.registry.cache import registry_from_table, registry_to_table
from rcm_map.registry.model import Registry, frame_from_features
from rcm_map.search.query import Query, search

# A few sites in Tapachula, Tecún Umán and Guatemala City: many services share one.
SITES = [(-92.2667, 14.9), (-92.263, 14.905), (-92.146, 14.681), (-90.5133, 14.6407),
         (-92.29, 14.92)]
SERVICE_CODES = list(schema.SERVICE_TYPES)[:5]
POPULATION_CODES = list(schema.POPULATIONS)[:4]
LANGUAGES = ["es", "mam", "en"]
DATES = ["", "2023-01-15", "2024-06-01", "2025-03-10"]


@st.composite
def services(draw: Any, index: int) -> dict[str, Any]:
    """One valid feature; geometry null for some (country-wide services)."""
    lo = draw(st.one_of(st.none(), st.integers(0, 17)))
    hi = draw(st.one_of(st.none(), st.integers(lo or 0, 25)))
    site = draw(st.sampled_from(SITES))
    jitter = draw(st.sampled_from([0.0, 0.0, 0.01, -0.02, 0.3]))
    props = {
        "id": f"s{draw(st.integers(0, 10_000)):05d}-{index}", "name": f"Service {index}",
        "organization": "Org", "organization_type": "ngo",
        "service_types": draw(st.lists(st.sampled_from(SERVICE_CODES), min_size=1,
                                       max_size=3, unique=True)),
        "age_min": lo, "age_max": hi,
        "populations": draw(st.lists(st.sampled_from(POPULATION_CODES), max_size=2,
                                     unique=True)),
        "country": "GTM" if site[0] > -92.2 else "MEX", "city": "City",
        "address": "Calle 1", "languages": draw(st.lists(st.sampled_from(LANGUAGES),
                                                          max_size=2, unique=True)),
        "location_precision": draw(st.sampled_from(["address", "address", "city",
                                                    "confidential"])),
        "source_date": draw(st.sampled_from(DATES)),
        "verified_on": draw(st.sampled_from(DATES)), "source": "test",
    }
    located = draw(st.integers(0, 9)) > 0
    geometry = {"type": "Point", "coordinates": [site[0] + jitter, site[1] + jitter / 2]}
    return {"type": "Feature", "properties": props, "geometry": geometry if located else None}


@st.composite
def registries(draw: Any) -> list[dict[str, Any]]:
    """Between 0 and 30 services with distinct ids."""
    n = draw(st.integers(0, 30))
    return [draw(services(i)) for i in range(n)]


queries = st.builds(
    Query,
    service_types=st.lists(st.sampled_from(SERVICE_CODES), max_size=2, unique=True).map(tuple),
    age=st.one_of(st.none(), st.integers(0, 25)),
    age_band=st.one_of(st.none(), st.sampled_from(list(schema.AGE_BANDS))),
    populations=st.lists(st.sampled_from(POPULATION_CODES), max_size=2, unique=True).map(tuple),
    languages=st.lists(st.sampled_from(LANGUAGES), max_size=1).map(tuple),
    countries=st.lists(st.sampled_from(["MEX", "GTM"]), max_size=1).map(tuple),
    verified_since=st.one_of(st.none(), st.sampled_from([dt.date(2024, 1, 1)])),
    near=st.one_of(st.none(), st.sampled_from([(lat, lon) for lon, lat in SITES]),
                   st.tuples(st.floats(14.5, 15.1), st.floats(-92.4, -90.4))),
    radius_km=st.one_of(st.none(), st.sampled_from([0.5, 3.0, 30.0, 200.0]),
                        st.floats(0.1, 300)),
    limit=st.one_of(st.none(), st.integers(1, 12)),
)


def matches(row: dict[str, Any], q: Query) -> bool:
    """Every filter of `q`, evaluated on one row the slow, obvious way."""
    lo = -math.inf if row["age_min"] is None else row["age_min"]
    hi = math.inf if row["age_max"] is None else row["age_max"]
    checks = [
        not q.service_types or any(t in row["service_types"] for t in q.service_types),
        not q.populations or any(p in row["populations"] for p in q.populations),
        q.age is None or lo <= q.age <= hi,
        q.age_band is None or (lo <= schema.AGE_BANDS[q.age_band][1]
                               and schema.AGE_BANDS[q.age_band][0] <= hi),
        not q.languages or any(code in row["languages"] for code in q.languages),
        not q.countries or row["country"] in q.countries,
        q.verified_since is None or (row["verified_on"] != ""
                                     and dt.date.fromisoformat(row["verified_on"])
                                     >= q.verified_since),
    ]
    return all(checks)


def brute_force(registry: Registry, q: Query) -> list[tuple[str, float | None]]:
    """(id, distance) of the located results, by looping over every row."""
    rows = registry.frame.drop(columns="geometry").to_dict("records")
    out = []
    for i, row in enumerate(rows):
        if math.isnan(registry.lat[i]) or not matches(row, q):
            continue
        if q.near is None:
            out.append(((row["country"], row["name"], row["id"]), row["id"], None))
            continue
        # The same formula, one element at a time: ties must come out bit-identical.
        km = float(haversine_km_many(q.near[0], q.near[1], registry.lat[i:i + 1],
                                     registry.lon[i:i + 1])[0])
        if q.radius_km is None or km <= q.radius_km:
            out.append(((km, row["id"]), row["id"], km))
    out.sort(key=lambda item: item[0])
    if q.limit is not None:
        out = out[: q.limit]
    return [(fid, km) for _, fid, km in out]


def cached(registry: Registry) -> Registry:
    """The registry after a round trip through the cache's Arrow table."""
    return registry_from_table(registry_to_table(registry, "0" * 64))


def check(registry: Registry, q: Query) -> None:
    expected = brute_force(registry, q)
    result = search(registry, q)
    assert list(result.located["id"]) == [fid for fid, _ in expected]
    if q.near is not None:
        got = result.located["distance_km"].to_numpy()
        assert np.allclose(got, [km for _, km in expected], atol=1e-3)
        for lat, lon, km in zip(result.located["lat"], result.located["lon"], got,
                                strict=True):  # and the fast formula is the slow one
            assert abs(haversine_km(q.near[0], q.near[1], lat, lon) - km) < 1e-3 + 1e-9


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(registries(), queries)
def test_search_equals_brute_force(features: list[dict[str, Any]], q: Query) -> None:
    registry = Registry.from_frame(frame_from_features(features))
    check(registry, q)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(registries(), queries)
def test_cached_registry_search_equals_brute_force(features: list[dict[str, Any]],
                                                   q: Query) -> None:
    registry = cached(Registry.from_frame(frame_from_features(features)))
    check(registry, q)
    assert all(isinstance(v, list) for v in search(registry, q).located["service_types"])


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(registries(), st.sampled_from([(lat, lon) for lon, lat in SITES]),
       st.integers(1, 5))
def test_ties_at_the_limit_break_by_id(features: list[dict[str, Any]],
                                       near: tuple[float, float], limit: int) -> None:
    """Many services share a site: the cut at `limit` keeps the smallest ids."""
    registry = Registry.from_frame(frame_from_features(features))
    full = search(registry, Query(near=near))
    cut = search(registry, Query(near=near, limit=limit))
    assert list(cut.located["id"]) == list(full.located["id"])[:limit]


def test_confidential_rows_are_searched_at_their_public_point() -> None:
    """Brute force sees only the public arrays; the true site never matches a tiny radius."""
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-92.29, 14.92]},
               "properties": {"id": "secret", "name": "S", "organization": "O",
                              "organization_type": "ngo", "service_types": ["shelter"],
                              "country": "MEX", "location_precision": "confidential",
                              "address": "Calle Secreta 1", "source": "t"}}
    for registry in (Registry.from_frame(frame_from_features([feature])),
                     cached(Registry.from_frame(frame_from_features([feature])))):
        assert search(registry, Query(near=(14.92, -92.29), radius_km=1.0)).located.empty
        assert search(registry, Query(near=(14.92, -92.29))).located["address"].tolist() == [""]
