"""Filters and proximity search, by example and by property (Hypothesis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcm_map.core import schema
from rcm_map.core.geo import haversine_km
from rcm_map.registry import load_registry
from rcm_map.registry.model import Registry, frame_from_features
from rcm_map.search.query import Query, distance_band, search

TAPACHULA = (14.9, -92.26)


@pytest.fixture
def reg(small_path) -> Registry:
    return load_registry(small_path)


def ids(result) -> list[str]:
    return list(result.located["id"])


def test_near_sorts_by_distance_and_reports_it(reg):
    result = search(reg, Query(near=TAPACHULA))
    assert ids(result)[:2] == ["mex-tap-dif", "mex-tap-shelter"]
    assert list(result.located["distance_km"]) == sorted(result.located["distance_km"])
    row = result.located.iloc[0]
    assert row["distance_km"] == pytest.approx(
        haversine_km(*TAPACHULA, row["lat"], row["lon"]), abs=1e-3)
    assert result.countrywide.empty  # the country-wide programme is in Honduras


def test_countrywide_services_of_the_searched_country(reg):
    tegucigalpa = (14.0818, -87.2068)
    assert list(search(reg, Query(near=tegucigalpa)).countrywide["id"]) == ["hnd-countrywide"]
    assert search(reg, Query(near=tegucigalpa, countries=("MEX",))).countrywide.empty


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (Query(service_types=("shelter",)),
         {"mex-tap-shelter", "gtm-tecun-casa", "mex-tap-secret"}),
        (Query(service_types=("legal_assistance", "health")),
         {"mex-tap-dif", "gtm-tecun-casa", "can-tor-legal"}),
        (Query(age=15), {"mex-tap-shelter", "mex-tap-dif", "gtm-tecun-casa", "can-tor-legal"}),
        (Query(age=11), {"mex-tap-dif", "gtm-tecun-casa", "mex-tap-secret", "can-tor-legal"}),
        (Query(age_band="6-11"), {"mex-tap-dif", "gtm-tecun-casa", "mex-tap-secret",
                                  "can-tor-legal"}),
        (Query(age_band="12-17"), {"mex-tap-shelter", "mex-tap-dif", "gtm-tecun-casa",
                                   "can-tor-legal"}),
        (Query(populations=("unaccompanied",)), {"mex-tap-shelter", "mex-tap-dif",
                                                 "mex-tap-secret"}),
        (Query(languages=("mam",)), {"mex-tap-shelter"}),
        (Query(languages=("fr", "mam")), {"mex-tap-shelter", "can-tor-legal"}),
        (Query(countries=("GTM", "CAN")), {"gtm-tecun-casa", "can-tor-legal"}),
        (Query(admin1=("GT-SM",)), {"gtm-tecun-casa"}),
        (Query(text="PROCURADURIA"), {"mex-tap-dif", "mex-tap-shelter", "mex-tap-secret"}),
        (Query(text="tecun"), {"gtm-tecun-casa"}),
        # a real verification only: gtm-tecun-casa has a 2024 source date, no verification
        (Query(verified_since=dt.date(2024, 1, 1)), {"mex-tap-shelter"}),
        (Query(near=TAPACHULA, radius_km=15), {"mex-tap-shelter", "mex-tap-dif",
                                               "mex-tap-secret"}),
        (Query(near=TAPACHULA, limit=2), {"mex-tap-shelter", "mex-tap-dif"}),
        (Query(service_types=("shelter",), age=15, near=TAPACHULA, radius_km=50,
               populations=("unaccompanied",)), {"mex-tap-shelter"}),
    ],
)
def test_filters(reg, query, expected):
    assert set(ids(search(reg, query))) == expected


def test_countrywide_services_follow_filters(reg):
    assert list(search(reg, Query(age=17)).countrywide["id"]) == ["hnd-countrywide"]
    assert search(reg, Query(age=18)).countrywide.empty
    assert search(reg, Query(countries=("MEX",))).countrywide.empty


def test_confidential_rows_get_a_distance_band_from_their_public_point(reg):
    located = search(reg, Query(near=TAPACHULA)).located.set_index("id")
    secret = located.loc["mex-tap-secret"]
    assert secret["distance_band"] == distance_band(secret["distance_km"])
    assert located.loc["mex-tap-dif", "distance_band"] == ""
    # distance measured to the public point, not the true site (-92.29, 14.92)
    assert secret["distance_km"] != pytest.approx(haversine_km(*TAPACHULA, 14.92, -92.29), abs=0.5)


@pytest.mark.parametrize(
    "query",
    [Query(age=40), Query(age_band="1-3"), Query(service_types=("spa",)), Query(radius_km=-1),
     Query(limit=0), Query(near=(95.0, 0.0)), Query(countries=("USA",))],
)
def test_invalid_queries_raise_a_clear_error(reg, query):
    with pytest.raises(ValueError, match=r"(expected|unknown code|Latitude)"):
        search(reg, query)


def test_distance_bands():
    assert [distance_band(k) for k in (0, 4.99, 5, 12, 30, 99, 250)] == [
        "lt_5", "lt_5", "5_10", "10_25", "25_50", "50_100", "gt_100"]


# ---------------------------------------------------------------- properties

lat_s = st.floats(-89.9, 89.9, allow_nan=False)
lon_s = st.floats(-180, 180, allow_nan=False)


@given(lat_s, lon_s, lat_s, lon_s)
def test_distance_is_symmetric(a, b, c, d):
    assert haversine_km(a, b, c, d) == pytest.approx(haversine_km(c, d, a, b), abs=1e-9)


@given(lat_s, lon_s, lat_s, lon_s, lat_s, lon_s)
def test_distance_triangle_inequality_within_1m(a, b, c, d, e, f):
    assert haversine_km(a, b, e, f) <= haversine_km(a, b, c, d) + haversine_km(c, d, e, f) + 1e-3


def _feature(i, lon, lat, services, pops, lo, hi, lang, country):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"id": f"s{i}", "name": f"S {i}", "organization": "O",
                           "organization_type": "ngo", "service_types": services,
                           "populations": pops, "age_min": lo, "age_max": hi,
                           "languages": [lang], "country": country,
                           "location_precision": "city", "source": "generated"}}


@st.composite
def registries(draw):
    n = draw(st.integers(1, 30))
    features = []
    for i in range(n):
        lo = draw(st.one_of(st.none(), st.integers(0, 17)))
        hi = draw(st.one_of(st.none(), st.integers(lo or 0, 25)))
        features.append(_feature(
            i, draw(st.floats(-93, -77)), draw(st.floats(7, 20)),
            draw(st.lists(st.sampled_from(list(schema.SERVICE_TYPES)), min_size=1,
                          max_size=3, unique=True)),
            draw(st.lists(st.sampled_from(list(schema.POPULATIONS)), max_size=3, unique=True)),
            lo, hi, draw(st.sampled_from(["es", "en", "mam"])),
            draw(st.sampled_from(["MEX", "GTM", "PAN"])),
        ))
    return Registry.from_frame(frame_from_features(features))


queries = st.builds(
    Query,
    service_types=st.lists(st.sampled_from(list(schema.SERVICE_TYPES)), max_size=2,
                           unique=True).map(tuple),
    age=st.one_of(st.none(), st.integers(0, 25)),
    populations=st.lists(st.sampled_from(list(schema.POPULATIONS)), max_size=2,
                         unique=True).map(tuple),
    languages=st.lists(st.sampled_from(["es", "en", "mam", "fr"]), max_size=2,
                       unique=True).map(tuple),
    near=st.tuples(st.floats(5, 22), st.floats(-95, -75)),
    radius_km=st.one_of(st.none(), st.floats(1, 3000)),
)
extra_filters = st.sampled_from([
    {"service_types": ("shelter",)}, {"age": 10}, {"age_band": "0-5"},
    {"populations": ("returnees",)}, {"languages": ("es",)}, {"countries": ("GTM",)},
    {"text": "s 1"},
])


@settings(max_examples=40, deadline=None)
@given(registries(), queries, extra_filters)
def test_adding_a_filter_never_adds_results(reg, query, extra):
    before = set(ids(search(reg, query)))
    fields = {k: v for k, v in extra.items() if not getattr(query, k)}
    after = set(ids(search(reg, query.with_(**fields))))
    assert after <= before


@settings(max_examples=40, deadline=None)
@given(registries(), queries, st.floats(0, 2000))
def test_larger_radius_never_loses_results(reg, query, more):
    base = query.with_(radius_km=query.radius_km or 100.0)
    small = set(ids(search(reg, base)))
    large = set(ids(search(reg, base.with_(radius_km=base.radius_km + more))))
    assert small <= large


@settings(max_examples=40, deadline=None)
@given(registries(), queries, st.one_of(st.none(), st.integers(1, 10)))
def test_results_sorted_and_match_brute_force(reg, query, limit):
    query = query.with_(limit=limit)
    located = search(reg, query).located
    dist = list(located["distance_km"])
    assert dist == sorted(dist)
    lat, lon = query.near
    brute = []
    for _, row in reg.frame.iterrows():
        d = haversine_km(lat, lon, row.geometry.y, row.geometry.x)
        if query.radius_km is not None and d > query.radius_km:
            continue
        if query.service_types and not set(query.service_types) & set(row["service_types"]):
            continue
        if query.populations and not set(query.populations) & set(row["populations"]):
            continue
        if query.languages and not set(query.languages) & set(row["languages"]):
            continue
        lo, hi = row["age_min"], row["age_max"]
        if query.age is not None and not (
            (lo is None or lo is np.nan or str(lo) == "<NA>" or lo <= query.age)
            and (str(hi) == "<NA>" or query.age <= hi)
        ):
            continue
        brute.append((round(d, 9), row["id"]))
    brute.sort()
    expected = [i for _, i in brute][: limit or None]
    assert list(located["id"]) == expected

