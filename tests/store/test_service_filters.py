"""`service_filters` (migration 0005), the narrow table the nearest-k search walks,
always holds exactly the located services' public point and filter columns."""

from __future__ import annotations

from typing import Any

import pytest

from rcm_map.search.query import Query

pytestmark = pytest.mark.postgis

COLUMNS = ("id, public_geog::text AS g, country, admin1, service_bits, population_bits, "
           "age_min, age_max, languages, verified_on, search_text")


def _pair(conn: Any) -> tuple[list[Any], list[Any]]:
    """(service_filters rows, the same columns of the located services), by id."""
    mine = conn.execute(f"SELECT {COLUMNS} FROM service_filters ORDER BY id").fetchall()  # noqa: S608
    want = conn.execute(f"SELECT {COLUMNS} FROM services WHERE public_geog IS NOT NULL "  # noqa: S608
                        "ORDER BY id").fetchall()
    return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in mine], \
        [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in want]


def test_migration_0005_fills_the_table_and_triggers_keep_it(pg_url: str) -> None:
    """A database at version 4 with services gets them copied; every later write
    (insert, update, a point removed, delete, truncate) is mirrored."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from rcm_map.store.migrate import migrate, migrations

    name = "rcm_migration_0005"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(**{**conninfo_to_dict(pg_url), "dbname": name})
    insert = ("INSERT INTO services (id, country, admin1, name, props, public_geog, "
              "service_bits, age_min, languages, search_text, version) VALUES "
              "(%s, 'MEX', 'MX-CHP', %s, '{}', %s, 5, 3, '{es}', %s, 1)")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text "
                         "NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            for m in migrations()[:4]:
                conn.execute(m.sql)
                conn.execute("INSERT INTO schema_migrations VALUES (%s, %s)", (m.version, m.name))
            conn.execute(insert, ("a", "A", "SRID=4326;POINT(-92.26 14.9)", "a text"))
            conn.execute(insert, ("b", "B", None, "country-wide"))
            assert migrate(conn) == [m.version for m in migrations()[4:]]
            mine, want = _pair(conn)
            assert mine == want and [r[0] for r in mine] == ["a"]
            conn.execute(insert, ("c", "C", "SRID=4326;POINT(-99.13 19.43)", "c"))
            conn.execute("UPDATE services SET service_bits = 9, public_geog = "
                         "'SRID=4326;POINT(-92 15)' WHERE id = 'a'")
            conn.execute("UPDATE services SET public_geog = 'SRID=4326;POINT(-90 14)' "
                         "WHERE id = 'b'")
            mine, want = _pair(conn)
            assert mine == want and [r[0] for r in mine] == ["a", "b", "c"]
            assert mine[0][4] == 9
            conn.execute("UPDATE services SET public_geog = NULL WHERE id = 'c'")
            conn.execute("DELETE FROM services WHERE id = 'b'")
            mine, want = _pair(conn)
            assert mine == want and [r[0] for r in mine] == ["a"]
            conn.execute("TRUNCATE services")
            assert _pair(conn) == ([], [])
            conn.execute(insert, ("d", "D", "SRID=4326;POINT(-92.26 14.9)", "d"))
            conn.execute("TRUNCATE services, service_filters")  # both at once works too
            assert _pair(conn) == ([], [])
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")


def test_store_writes_and_bulk_seed_keep_it_equal(pg_url: str,
                                                  test_features: list[dict[str, Any]]) -> None:
    """After a bulk seed and after a country update through the store."""
    from pgcluster import wipe

    from rcm_map.store.pgbulk import bulk_seed, service_rows
    from rcm_map.store.postgis import PostGISStore

    store = PostGISStore(pg_url)
    try:
        wipe(pg_url)
        bulk_seed(store, service_rows(test_features))
        with store._tx() as conn:
            mine, want = _pair(conn)
            assert mine == want and len(mine) > 0
            trigger = conn.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = "
                                   "'services_filters_sync'").fetchone()
            assert trigger["tgenabled"] == "O"  # enabled again after the seed
        country = test_features[0]["properties"]["country"]
        mine_country = [f for f in test_features if f["properties"]["country"] == country]
        moved = [dict(f) for f in mine_country[1:]]  # one service removed
        moved[0] = {**moved[0], "geometry": None, "properties": {  # one becomes country-wide
            **moved[0]["properties"], "location_precision": "country_wide"}}
        store.apply_update(store.preview_update(country, moved), "test")
        with store._tx() as conn:
            mine, want = _pair(conn)
            assert mine == want
        assert len(store.search(Query(near=(14.9, -92.26), limit=5)).located) == 5
    finally:
        store.close()
