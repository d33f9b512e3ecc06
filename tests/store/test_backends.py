"""Backend-specific behaviour: the file sidecar, processes, migrations, open_store."""

from __future__ import annotations

import copy
import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from rcm_map.core import files
from rcm_map.registry.model import validate_file
from rcm_map.store import open_store
from rcm_map.store.base import ConflictError, StoreError
from rcm_map.store.geojson_store import GeoJSONStore


def _store_with(tmp_path: Path, features: list[dict[str, Any]]) -> GeoJSONStore:
    path = tmp_path / "actors.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return GeoJSONStore(path)


def test_existing_file_becomes_baseline(tmp_path: Path, small_features: list) -> None:
    """A registry found on disk is recorded once as the baseline, version 1."""
    store = _store_with(tmp_path, small_features)
    assert [s.version for s in store.all_features()] == [1] * len(small_features)
    history = store.history()
    assert [h.action for h in history] == ["baseline"]
    with pytest.raises(StoreError, match="is the baseline"):
        store.restore(history[0].change_id, "ana")


def test_hand_edit_is_recorded(tmp_path: Path, small_features: list) -> None:
    """Editing the file outside the store is noticed, versioned and recorded."""
    store = _store_with(tmp_path, small_features)
    store.all_features()
    edited = copy.deepcopy(small_features)
    edited[0]["properties"]["hours"] = "hand edit"
    store.path.write_text(json.dumps({"type": "FeatureCollection", "features": edited}),
                          encoding="utf-8")
    assert store.get(edited[0]["properties"]["id"]).version == 2
    assert store.history(limit=1)[0].action == "external_edit"


def test_import_backs_up_and_writes_valid_file(tmp_path: Path, small_features: list) -> None:
    """Every import keeps a backup first; the file stays a valid, sorted registry."""
    store = _store_with(tmp_path, small_features)
    original = store.path.read_bytes()
    mex = [f for f in small_features if f["properties"]["country"] == "MEX"][:1]
    store.apply_update(store.preview_update("MEX", mex), "ana")
    backups = files.list_backups(store.path)
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert [i for i in validate_file(store.path) if i.severity == "error"] == []
    ids = [f["properties"]["id"] for f in json.loads(store.path.read_text())["features"]]
    assert ids == sorted(ids)


def test_invalid_file_is_not_overwritten(tmp_path: Path) -> None:
    """A corrupt registry makes writes fail with a clear message and stays untouched."""
    path = tmp_path / "actors.geojson"
    path.write_bytes(b'{"type": "FeatureCollection", "features": [')
    store = GeoJSONStore(path)
    with pytest.raises(StoreError, match="not valid, so the store will not change it"):
        store.report_problem("x", "closed", "")
    assert path.read_bytes() == b'{"type": "FeatureCollection", "features": ['


def _edit_in_process(path: str, user: str, version: int, queue: Any) -> None:
    store = GeoJSONStore(path)
    current = store.get("mex-tap-dif", public=False)
    current.feature["properties"]["hours"] = user
    try:
        store.update_service("mex-tap-dif", current.feature, version, user)
        queue.put((user, "ok"))
    except ConflictError:
        queue.put((user, "conflict"))


def test_two_processes_same_version(tmp_path: Path, small_features: list) -> None:
    """Two processes save the same version: the file lock lets exactly one through."""
    store = _store_with(tmp_path, small_features)
    version = store.get("mex-tap-dif").version
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_edit_in_process, args=(str(store.path), u, version, queue))
             for u in ("ana", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    results = sorted(queue.get(timeout=10)[1] for _ in procs)
    assert results == ["conflict", "ok"]
    assert store.get("mex-tap-dif").version == version + 1


@pytest.mark.postgis
def test_migrations_apply_once(pg_url: str) -> None:
    """The runner records each migration and applies nothing the second time."""
    import psycopg

    from rcm_map.store.migrate import migrate, migrations

    with psycopg.connect(pg_url, autocommit=True) as conn:
        migrate(conn)
        assert migrate(conn) == []
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [m.version for m in migrations()]
        index = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = "
                             "'service_filters_public_geog_gist'").fetchone()
        assert index and "gist (public_geog)" in index[0]


@pytest.mark.postgis
def test_nearest_uses_the_spatial_index(pg_url: str) -> None:
    """The KNN step is an index scan on the GiST index (with seq scans disabled)."""
    import psycopg

    from rcm_map.store.postgis import PostGISStore

    PostGISStore(pg_url)
    with psycopg.connect(pg_url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT id FROM service_filters ORDER BY public_geog <-> "
            "ST_SetSRID(ST_MakePoint(-92.2, 14.9), 4326)::geography LIMIT 5").fetchall())
    assert "service_filters_public_geog_gist" in plan


def test_open_store_chooses_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No database URL: the GeoJSON file named by RCM_MAP_REGISTRY."""
    monkeypatch.delenv("RCM_MAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(tmp_path / "r.geojson"))
    store = open_store()
    assert isinstance(store, GeoJSONStore) and store.path == tmp_path / "r.geojson"


@pytest.mark.postgis
def test_open_store_uses_database_url(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """RCM_MAP_DATABASE_URL selects PostGIS, and its repr hides the URL."""
    from rcm_map.store.postgis import PostGISStore

    monkeypatch.setenv("RCM_MAP_DATABASE_URL", pg_url)
    store = open_store()
    assert isinstance(store, PostGISStore)
    assert "postgres" not in repr(store).lower().replace("postgisstore", "")
    store.close()


@pytest.mark.postgis
def test_migration_0002_keeps_the_source_date_and_adds_verification(pg_url: str) -> None:
    """A database at version 1 (with `last_verified`) moves to source_date / verified_on."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from rcm_map.store.migrate import migrate, migrations

    name = "rcm_migration_0002"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(**{**conninfo_to_dict(pg_url), "dbname": name})
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            first = migrations()[0]
            conn.execute(first.sql)
            conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text "
                         "NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            conn.execute("INSERT INTO schema_migrations VALUES (1, 'initial')")
            props = {"id": "a", "name": "A", "last_verified": "2024-03-18"}
            conn.execute("INSERT INTO services (id, country, name, props, last_verified, version)"
                         " VALUES ('a', 'MEX', 'A', %s, '2024-03-18', 1)",
                         (json.dumps(props),))
            assert 2 in migrate(conn)
            row = conn.execute("SELECT source_date, verified_on, props FROM services").fetchone()
        assert row is not None
        assert str(row[0]) == "2024-03-18" and row[1] is None  # a source date, not verified
        assert row[2]["source_date"] == "2024-03-18" and "last_verified" not in row[2]
        assert (row[2]["verified_on"], row[2]["verified_by"]) == ("", "")
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
