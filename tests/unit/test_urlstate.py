"""Search state <-> URL query parameters, and map clicks."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcm_map.core import schema
from rcm_map.search.urlstate import (
    DEFAULT_LIMIT,
    DEFAULT_RADIUS_KM,
    PARAMS,
    SearchState,
    click_point,
    decode,
    encode,
)

TAPACHULA = SearchState(
    place="Tapachula", lat=14.90541, lon=-92.25891, radius_km=50, age=15,
    services=("shelter",), populations=("unaccompanied",), lang="es",
)


def test_encode_uses_codes_only():
    params = encode(TAPACHULA)
    assert params == {"place": "Tapachula", "lat": "14.90541", "lon": "-92.25891", "age": "15",
                      "services": "shelter", "populations": "unaccompanied", "lang": "es"}
    for label in ("Albergue", "No acompañada/o"):
        assert label not in "".join(params.values())


def test_round_trip():
    decoded = decode(encode(TAPACHULA))
    assert decoded.state == TAPACHULA
    assert decoded.dropped == ()


def test_defaults_are_left_out():
    assert encode(SearchState()) == {}
    state = decode({}).state
    assert state.radius_km == DEFAULT_RADIUS_KM and state.limit == DEFAULT_LIMIT
    assert state.point is None


def test_full_state_round_trip():
    state = SearchState(place="Tapachula", lat=14.9, lon=-92.26, radius_km=250, limit=100,
                        age_band="12-17", services=("shelter", "health"),
                        populations=("separated",), languages=("es", "mam"),
                        countries=("MEX", "GTM"), admin1=("MX-CHP",), lang="fr")
    assert decode(encode(state)).state == state


@pytest.mark.parametrize(("params", "dropped"), [
    ({"lat": "abc", "lon": "-92"}, {"lat", "lon"}),
    ({"lat": "14.9"}, {"lat"}),
    ({"lat": "95", "lon": "10"}, {"lat", "lon"}),
    ({"lat": "nan", "lon": "inf"}, {"lat", "lon"}),
    ({"radius": "-5"}, {"radius"}),
    ({"radius": "1e9"}, {"radius"}),
    ({"limit": "0"}, {"limit"}),
    ({"limit": "12.5"}, {"limit"}),
    ({"age": "-1"}, {"age"}),
    ({"age": "99"}, {"age"}),
    ({"age": "x"}, {"age"}),
    ({"band": "18-25"}, {"band"}),
    ({"age": "15", "band": "0-5"}, {"band"}),
    ({"services": "shelter,<script>,nope"}, {"services"}),
    ({"countries": "MEX,USA"}, {"countries"}),
    ({"languages": "es,Spanish"}, {"languages"}),
    ({"admin1": "MX-CHP,chiapas"}, {"admin1"}),
    ({"lang": "de"}, {"lang"}),
    ({"place": "x" * 600}, {"place"}),
    ({"place": "Tapa\x00chula"}, {"place"}),
])
def test_garbage_is_dropped_with_a_reason(params, dropped):
    decoded = decode(params)
    assert {d.param for d in decoded.dropped} == dropped
    # The rest still decodes to a usable state and query.
    assert decoded.state.to_query().problems() == []


def test_valid_codes_survive_next_to_garbage():
    decoded = decode({"services": "shelter,nope,shelter,health", "countries": " MEX ,USA"})
    assert decoded.state.services == ("shelter", "health")
    assert decoded.state.countries == ("MEX",)


def test_unknown_params_are_ignored_silently():
    assert decode({"utm_source": "x", "embed": "true"}).dropped == ()


def test_repeated_params_take_the_last_value():
    assert decode({"age": ["3", "9"]}).state.age == 9


def test_every_param_is_known():
    assert set(PARAMS) == {"place", "lat", "lon", "radius", "limit", "age", "band", "services",
                           "populations", "languages", "countries", "admin1", "lang"}


def test_to_query_without_point_has_no_radius():
    query = SearchState(radius_km=10, age_band="0-5").to_query()
    assert query.near is None and query.radius_km is None and query.age_band == "0-5"
    query = TAPACHULA.to_query()
    assert query.near == (14.90541, -92.25891) and query.radius_km == 50
    assert query.age == 15 and query.age_band is None


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*PARAMS, "zzz"]),
                       st.one_of(st.text(max_size=40), st.lists(st.text(max_size=10)))))
def test_decode_never_raises_and_always_gives_a_valid_query(params):
    decoded = decode(params)
    assert decoded.state.to_query().problems() == []
    once = decode(encode(decoded.state)).state  # a point not from the place list is rounded
    assert decode(encode(once)).state == once


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180),
       age=st.none() | st.integers(*schema.AGE_LIMITS),
       services=st.lists(st.sampled_from(list(schema.SERVICE_TYPES)), unique=True))
def test_round_trip_property(lat, lon, age, services):
    state = SearchState(place="Tapachula", lat=round(lat, 5), lon=round(lon, 5), age=age,
                        services=tuple(services))
    assert decode(encode(state)).state == state
    clicked = state.with_(place="", lat=round(lat, 2), lon=round(lon, 2))  # ~1 km in links
    assert decode(encode(clicked)).state == clicked


# ----------------------------------------------------------------------------- clicks


def test_click_sets_point():
    assert click_point({"lat": 14.9054123, "lng": -92.2589}) == (14.90541, -92.2589)


def test_same_click_again_is_not_new():
    assert click_point({"lat": 14.9, "lng": -92.26}, previous=(14.9, -92.26)) is None


def test_wrapped_longitude_is_normalised():
    lat, lon = click_point({"lat": 14.9, "lng": -92.26 + 360})
    assert math.isclose(lon, -92.26, abs_tol=1e-6) and lat == 14.9


@pytest.mark.parametrize("value", [
    None, {}, {"lat": 1}, {"lat": "14", "lng": "-92"}, {"lat": float("nan"), "lng": 0},
    {"lat": 91, "lng": 0}, {"lat": True, "lng": 0}, [14.9, -92.2], "14.9,-92.2",
])
def test_invalid_clicks_are_ignored(value):
    assert click_point(value) is None
