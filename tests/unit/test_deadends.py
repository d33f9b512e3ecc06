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


@pytest.fixture
def engine(registry):
    """The file engine's search, as the search page hands it to the ways out."""
    return lambda query: search(registry, query)


def test_names_the_filter_that_removes_most_and_counts_like_the_engine(registry, engine):
    query = Query(near=TAPACHULA, radius_km=50, service_types=("shelter",), age=15,
                  languages=("mam",))
    options = deadends.relaxations(engine, query)
    assert {o.field for o in options} == {"service_types", "age", "languages"}
    for option in options:  # each count is what the engine lists without that filter
        relaxed = query.with_(**{option.field: deadends.RELAXABLE[option.field]})
        assert option.count == len(search(registry, relaxed).located)
    assert options == sorted(options, key=lambda o: -o.count)
    assert options[0].gain > 0


def test_no_relaxation_without_a_point_or_when_nothing_would_change(engine):
    assert deadends.relaxations(engine, Query(service_types=("shelter",))) == []
    assert deadends.relaxations(engine, Query(near=TAPACHULA, radius_km=50)) == []


def test_nearest_beyond_the_radius_with_distances(registry, engine):
    query = Query(near=TAPACHULA, radius_km=10, service_types=("shelter",))
    inside = set(search(registry, query).located["id"])
    farther = deadends.beyond_radius(engine, query)
    everything = search(registry, query.with_(radius_km=None)).located
    beyond = everything[everything["distance_km"] > 10]
    assert list(farther["id"]) == list(beyond["id"][:deadends.BEYOND_COUNT])
    assert "gtm-tecun-casa" in set(farther["id"])  # the Tecún Umán shelter, 27.7 km
    assert (farther["distance_km"] > 10).all()
    assert not inside & set(farther["id"])


def test_next_radius():
    assert deadends.next_radius(50, (5, 10, 25, 50, 100)) == 100
    assert deadends.next_radius(100, (5, 10, 25, 50, 100)) is None


def test_counts_stop_at_the_cap_and_say_so():
    """A relaxation that would bring back more than a search returns is capped."""
    import pandas as pd

    from rcm_map.search.query import SearchResult

    def fake_store(query: Query) -> SearchResult:  # 500 services without the age filter
        n = 2 if query.age is not None else 500
        located = pd.DataFrame({"id": [f"s{i}" for i in range(min(n, query.limit or n))]})
        return SearchResult(located=located, countrywide=pd.DataFrame(), total_matching=n)

    (option,) = deadends.relaxations(fake_store, Query(near=TAPACHULA, radius_km=50, age=15))
    assert option.field == "age" and option.count == deadends.COUNT_CAP and option.capped
    assert option.gain == deadends.COUNT_CAP - 2
