"""PostGIS rows written by an earlier version get today's stand-ins on opening (issue 12)."""

from __future__ import annotations

from typing import Any

import psycopg

from rcm_map.core.standin import public_point
from rcm_map.store.postgis import PostGISStore

OLD_POINT = (-92.25, 14.95)  # what an earlier version stored: not today's stand-in


def test_stale_public_points_are_refreshed_on_opening(
    pg_url: str, small_features: list[dict[str, Any]]
) -> None:
    store = PostGISStore(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("TRUNCATE services, changes, service_changes, reports "
                     "RESTART IDENTITY CASCADE")
    for country in sorted({f["properties"]["country"] for f in small_features}):
        mine = [f for f in small_features if f["properties"]["country"] == country]
        store.apply_update(store.preview_update(country, mine), "seed")
    store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE services SET public_lon = %s, public_lat = %s, public_geog = "
                     "ST_GeogFromText(%s), search_text = 'calle secreta 123' "
                     "WHERE id = 'mex-tap-secret'",
                     (*OLD_POINT, f"SRID=4326;POINT({OLD_POINT[0]} {OLD_POINT[1]})"))
    store = PostGISStore(pg_url)
    try:
        with psycopg.connect(pg_url) as conn:
            lon, lat, text = conn.execute(
                "SELECT public_lon, public_lat, search_text FROM services "
                "WHERE id = 'mex-tap-secret'").fetchone()
        assert (lon, lat) == public_point(-92.29, 14.92, "MEX", "MX-CHP")
        assert "secreta" not in text
        assert store.refresh_public_rows() == 0  # nothing left to refresh
    finally:
        store.close()
