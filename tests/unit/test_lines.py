"""Help lines at a point, whatever the filters (rcm_map.search.lines), on the bundled
registry: the answer is compared with a brute-force reading of the registry."""

from __future__ import annotations

import math

import pytest

from rcm_map.registry import load_registry
from rcm_map.registry.model import DEFAULT_REGISTRY
from rcm_map.search.lines import help_lines, lines_query
from rcm_map.search.query import Query, admin1_near_point, countries_at, search

# Borders and cities a caseworker searches from: (lat, lon).
PLACES = {
    "Tapachula": (14.90541, -92.25891),
    "Tecún Umán": (14.675, -92.145),
    "Paso Canoas": (8.53, -82.84),
    "Peñas Blancas": (11.21, -85.61),
    "San Pedro Sula": (15.5, -88.03),
    "San Salvador": (13.69, -89.19),
    "Managua": (12.13, -86.25),
    "Ciudad de Panamá": (8.98, -79.52),
    "Montréal": (45.5, -73.57),
    "Tijuana": (32.5, -117.0),
}


@pytest.fixture(scope="module")
def registry():
    return load_registry(DEFAULT_REGISTRY)


def shelter_query(point: tuple[float, float]) -> Query:
    return Query(service_types=("shelter",), age=15, populations=("unaccompanied",),
                 languages=("en",), admin1=("MX-CHP",), text="casa", near=point,
                 radius_km=50, limit=25)


def test_lines_query_keeps_the_place_and_drops_every_other_filter():
    query = shelter_query((14.9, -92.26)).with_(countries=("MEX",))
    lines = lines_query(query)
    assert lines == Query(service_types=("hotline",), countries=("MEX",), near=(14.9, -92.26),
                          radius_km=50, limit=3)
    assert lines_query(Query(service_types=("shelter",))) is None  # no place, no lines


def brute_force_lines(registry, point: tuple[float, float]) -> set[str]:
    """Ids of the country-wide hotlines that apply at `point`, row by row."""
    countries = set(countries_at(*point))
    provinces = set(admin1_near_point(*point))
    out = set()
    for row, lat in zip(registry.frame.to_dict("records"), registry.lat, strict=True):
        if "hotline" not in list(row["service_types"]) or not math.isnan(lat):
            continue
        if row["country"] in countries and (not row["admin1"] or row["admin1"] in provinces):
            out.add(row["id"])
    return out


@pytest.mark.parametrize("name", PLACES)
def test_country_wide_lines_are_those_that_apply_at_the_point(registry, name):
    found = help_lines(search(registry, lines_query(shelter_query(PLACES[name]))), PLACES[name])
    unplaced = found[found["lat"].isna()] if "lat" in found else found
    assert set(unplaced["id"]) == brute_force_lines(registry, PLACES[name])
    assert all("hotline" in list(t) for t in found["service_types"])


@pytest.mark.parametrize("name", [n for n in PLACES if n != "Montréal"])
def test_every_corridor_place_has_a_line_to_call(registry, name):
    found = help_lines(search(registry, lines_query(shelter_query(PLACES[name]))))
    assert any(len(list(p)) for p in found["phones"]), name


def test_own_country_first_then_child_protection_lines_then_name(registry):
    # Tapachula is 20 km from Guatemala: Mexico's lines first, Guatemala's after.
    point = PLACES["Tapachula"]
    found = help_lines(search(registry, lines_query(shelter_query(point))), point)
    unplaced = found[found["lat"].isna()] if "lat" in found else found
    assert set(unplaced["country"]) == {"MEX", "GTM"}
    rank = {"MEX": 0, "GTM": 1}
    keys = [(rank[c], "child_protection_authority" not in list(t), n) for c, t, n in zip(
        unplaced["country"], unplaced["service_types"], unplaced["name"], strict=True)]
    assert keys == sorted(keys) and keys[0][:2] == (0, False)


def test_a_national_line_is_not_scoped_to_the_province_of_its_seat(registry):
    # PANI's free lines are national: the source list tied them to San José, where
    # PANI sits; at Paso Canoas (Puntarenas) they must still be offered.
    found = help_lines(search(registry, lines_query(shelter_query(PLACES["Paso Canoas"]))))
    assert any(n.startswith("PANI - Líneas gratuitas") for n in found["name"])


def test_a_provincial_line_is_not_offered_in_another_province(registry):
    found = help_lines(search(registry, lines_query(shelter_query(PLACES["Montréal"]))))
    assert set(found["admin1"]) - {""} <= {"CA-QC", "CA-ON"}  # Montréal is 60 km from ON
    assert not any(a in ("CA-BC", "CA-AB") for a in found["admin1"])


def test_local_lines_come_first_nearest_first_within_the_radius(registry):
    toronto = (43.65, -79.38)
    found = help_lines(search(registry, lines_query(shelter_query(toronto))))
    located = found[found["lat"].notna()]
    assert len(located) >= 1 and list(located.index) == list(range(len(located)))
    distances = list(located["distance_km"])
    assert distances == sorted(distances) and distances[-1] <= 50
