"""Ways out of a thin result list: the filter that excludes most, farther matches."""

from __future__ import annotations

import pytest

from rcm_map.registry import load_registry
from rcm_map.search import deadends
from rcm_map.search.query import Query, search

TAPACHULA = (14.90541, -92.25891)


@pytest.fixture
def registry(small_path):
    return load_registry(small_path)


def test_names_the_filter_that_removes_most_and_counts_like_the_engine(registry):
    query = Query(near=TAPACHULA, radius_km=50, service_types=("shelter",), age=15,
                  languages=("mam",))
    options = deadends.relaxations(registry, query)
    assert {o.field for o in options} == {"service_types", "age", "languages"}
    for option in options:  # each count is what the engine lists without that filter
        relaxed = query.with_(**{option.field: deadends.RELAXABLE[option.field]})
        assert option.count == len(search(registry, relaxed).located)
    assert options == sorted(options, key=lambda o: -o.count)
    assert options[0].gain > 0


def test_no_relaxation_without_a_point_or_when_nothing_would_change(registry):
    assert deadends.relaxations(registry, Query(service_types=("shelter",))) == []
    assert deadends.relaxations(registry, Query(near=TAPACHULA, radius_km=50)) == []


def test_nearest_beyond_the_radius_with_distances(registry):
    query = Query(near=TAPACHULA, radius_km=10, service_types=("shelter",))
    inside = set(search(registry, query).located["id"])
    farther = deadends.beyond_radius(registry, query)
    everything = search(registry, query.with_(radius_km=None)).located
    beyond = everything[everything["distance_km"] > 10]
    assert list(farther["id"]) == list(beyond["id"][:deadends.BEYOND_COUNT])
    assert "gtm-tecun-casa" in set(farther["id"])  # the Tecún Umán shelter, 27.7 km
    assert (farther["distance_km"] > 10).all()
    assert not inside & set(farther["id"])


def test_next_radius():
    assert deadends.next_radius(50, (5, 10, 25, 50, 100)) == 100
    assert deadends.next_radius(100, (5, 10, 25, 50, 100)) is None
