"""The PostGIS nearest-k search walks the GiST index in distance order.

The planner cannot estimate bitmask and open-age filters; left alone it read every
service within the radius and sorted them (a bitmap scan), which grows with the
registry. `PostGISStore.search` sets, for its own transaction, the planner settings
that leave it the ordered (KNN) index scan, and turns JIT off (rcm_map/store/pgsearch.py).
This checks the plan the search's statement gets under those settings (on a few
hundred services the planner would pick the ordered scan anyway: the bitmap plan
showed at 100k services, bench/hosted.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from rcm_map.search.query import Query
from rcm_map.store.pgbulk import bulk_seed, service_rows

pytestmark = pytest.mark.postgis


class _Explain:
    """A connection whose statements are explained (analyzed) instead of run."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = None) -> Any:
        return self.conn.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + sql, params)


def test_nearest_with_filters_is_an_ordered_index_scan_without_jit(
        pg_url: str, test_features: list[dict[str, Any]]) -> None:
    from pgcluster import wipe

    from rcm_map.store.pgsearch import _KNN_SETTINGS, _NO_JIT, _nearest, where_clause
    from rcm_map.store.postgis import PostGISStore

    store = PostGISStore(pg_url)
    try:
        wipe(pg_url)
        bulk_seed(store, service_rows(test_features))
        query = Query(near=(19.43, -99.13), radius_km=50, limit=20, age=10,
                      service_types=("shelter", "health"))
        where, params = where_clause(query)
        with store._tx() as conn:
            conn.execute(f"SELECT 1{_NO_JIT}{_KNN_SETTINGS}")
            plan = "\n".join(r["QUERY PLAN"] for r in
                             _nearest(_Explain(conn), query, where, params).fetchall())
        assert "Order By: (public_geog <->" in plan
        # The walk reads the narrow table (migration 0005); only the winners are
        # fetched from `services`, by primary key.
        assert "Index Scan using service_filters_public_geog_gist" in plan
        assert "Index Scan using services_pkey on services" in plan
        assert "Seq Scan on services" not in plan
        assert "Bitmap" not in plan
        assert "JIT" not in plan
        assert len(store.search(query).located) > 0
    finally:
        store.close()
