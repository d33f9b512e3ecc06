"""The database goes away and comes back (issue 13, "a real pool"): requests fail
after the pool's timeout with one clear error, the page says so without crashing,
and reads recover on their own once the server is back, without a restart.

A cluster of its own (tests/store/pgcluster.py) is stopped and started again, so
the other store tests never see the outage.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cardlist import cards_of
from streamlit.testing.v1 import AppTest

from rcm_map.core.i18n import Translator
from rcm_map.search.query import Query
from rcm_map.store.base import StoreUnavailable
from rcm_map.store.pgpool import PoolSettings
from rcm_map.store.postgis import PostGISStore

pytestmark = pytest.mark.postgis

ROOT = Path(__file__).resolve().parents[2]
NEAR = {"lat": "14.9", "lon": "-92.2667", "radius": "50", "lang": "en"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A throwaway cluster this module may stop and start."""
    from pgcluster import cluster_for_tests

    made = cluster_for_tests()
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def seeded(cluster: Any, small_features: list[dict[str, Any]]) -> Iterator[PostGISStore]:
    from pgcluster import seed, wipe

    cluster_url = cluster.url
    store = PostGISStore(cluster_url, pool=PoolSettings(min_size=1, max_size=4, timeout_s=1.0))
    wipe(cluster_url)
    seed(store, small_features)
    yield store
    store.close()


def _recovered(read: Any, within_s: float = 20.0) -> Any:
    """Retry `read` until it stops raising StoreUnavailable (fails after `within_s`)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return read()
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_store_fails_fast_then_recovers(cluster: Any, seeded: PostGISStore) -> None:
    before = seeded.search(Query(near=(14.9, -92.2667), limit=5))
    cluster.pause()
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="the database is not reachable"):
            seeded.search(Query(near=(14.9, -92.2667), limit=5))
        assert time.monotonic() - started < 10  # the timeout, not a hang
    finally:
        cluster.resume()
    after = _recovered(lambda: seeded.search(Query(near=(14.9, -92.2667), limit=5)))
    assert list(after.located["id"]) == list(before.located["id"])


def test_page_says_the_database_is_down_then_recovers(
        cluster: Any, seeded: PostGISStore, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    from rcm_map.ui import common, session

    monkeypatch.setenv("RCM_MAP_DATABASE_URL", cluster.url)
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(tmp_path / "never-read.geojson"))
    monkeypatch.setenv("RCM_MAP_DB_TIMEOUT_S", "1")
    common._cached_reader.clear()
    session.cached_store.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params.update(NEAR)
        at.run()
        assert not at.exception, at.exception
        assert "Procuraduría de Protección (prueba)" in cards_of(at)
        message = Translator("en").t("error.database")
        cluster.pause()
        try:
            at.run()
            assert not at.exception, at.exception
            assert [e.value for e in at.error] == [message]
            assert not cards_of(at)  # no stale or partial results
        finally:
            cluster.resume()
        deadline = time.monotonic() + 20
        while True:
            at.run()
            assert not at.exception, at.exception
            if cards_of(at) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert "Procuraduría de Protección (prueba)" in cards_of(at)
        assert message not in [e.value for e in at.error]
    finally:
        common._cached_reader.clear()
        session.cached_store.clear()
