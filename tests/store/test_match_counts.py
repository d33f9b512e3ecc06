"""The network-wide match count of a PostGIS search is cached per (registry
version, filters): reused for another place, never after any write (from this
process, another replica, or plain SQL)."""

from __future__ import annotations

import copy
from typing import Any

import psycopg
import pytest

from rcm_map.search.query import Query
from rcm_map.store.pgcount import MatchCounts, filter_key


@pytest.fixture
def two_replicas(pg_url: str, small_features: list[dict[str, Any]]) -> Any:
    """Two stores on one database holding tests/data/small.geojson (as two app replicas)."""
    from pgcluster import seed, wipe

    from rcm_map.store.postgis import PostGISStore

    first, second = PostGISStore(pg_url), PostGISStore(pg_url)
    wipe(pg_url)
    seed(first, small_features)
    yield first, second
    first.close()
    second.close()


@pytest.mark.postgis
def test_count_is_reused_for_another_place(two_replicas: Any) -> None:
    """The same filters near two places count once; the figure is the exact one."""
    store, _ = two_replicas
    near_a = store.search(Query(countries=("MEX",), near=(19.43, -99.13), limit=1))
    near_b = store.search(Query(countries=("MEX",), near=(32.53, -117.03), limit=1))
    assert near_a.total_matching == near_b.total_matching == 3
    assert len(store.match_counts) == 1
    store.search(Query(countries=("GTM",), near=(19.43, -99.13), limit=1))
    assert len(store.match_counts) == 2


@pytest.mark.postgis
def test_another_replicas_update_is_counted(two_replicas: Any,
                                            small_features: list[dict[str, Any]]) -> None:
    """A write through another store or plain SQL changes the count at once."""
    first, second = two_replicas
    assert first.search(Query(countries=("MEX",))).total_matching == 3
    update = [copy.deepcopy(f) for f in small_features if f["properties"]["country"] == "MEX"]
    second.apply_update(second.preview_update("MEX", update[:1]), "ana")
    assert first.search(Query(countries=("MEX",))).total_matching == 1
    with psycopg.connect(first.url, autocommit=True) as conn:
        conn.execute("DELETE FROM services WHERE country = 'MEX'")
    assert first.search(Query(countries=("MEX",))).total_matching == 0


def test_cache_is_bounded_and_least_recently_used_goes_first() -> None:
    counts = MatchCounts(entries=2)
    calls: list[str] = []

    def counter(n: int, name: str) -> Any:
        return lambda: calls.append(name) or n

    a, b, c = (filter_key(1, "TRUE", {"countries": [x]}) for x in "abc")
    assert counts.get_or_count(a, counter(1, "a")) == 1
    assert counts.get_or_count(b, counter(2, "b")) == 2
    assert counts.get_or_count(a, counter(9, "a again")) == 1  # cached, a now newest
    assert counts.get_or_count(c, counter(3, "c")) == 3  # evicts b
    assert counts.get_or_count(b, counter(4, "b again")) == 4
    assert calls == ["a", "b", "c", "b again"]
    assert len(counts) == 2
    assert filter_key(2, "TRUE", {"countries": ["a"]}) != a  # a new version never matches
