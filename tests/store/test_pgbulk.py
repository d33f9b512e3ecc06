"""Bulk seeding by COPY writes exactly the rows that country updates write."""

from __future__ import annotations

from typing import Any

import pytest

from rcm_map.registry.model import frame_from_features
from rcm_map.search.query import Query
from rcm_map.store.base import StoreError
from rcm_map.store.pgbulk import COLUMNS, bulk_seed, bulk_seed_frame, service_rows

pytestmark = pytest.mark.postgis

COMPARED = [c for c in COLUMNS if c not in ("geog", "public_geog")]


def _rows(store: Any) -> list[dict[str, Any]]:
    cols = ", ".join(COMPARED)
    with store._tx() as conn:
        rows = conn.execute(f"SELECT {cols}, ST_AsText(geog) AS g, "  # noqa: S608
                            "ST_AsText(public_geog) AS pg FROM services ORDER BY id").fetchall()
    return [dict(r) for r in rows]


def test_copy_rows_equal_update_rows(pg_url: str, test_features: list[dict[str, Any]]) -> None:
    from pgcluster import seed, wipe

    from rcm_map.store.postgis import PostGISStore

    store = PostGISStore(pg_url)
    odd = dict(test_features[0])  # what COPY's text format must escape
    odd["properties"] = {**odd["properties"], "name": "tab\there back\\slash \\N",
                         "description": "line\nbreak\r\nand \"quotes\""}
    test_features = [odd, *test_features[1:]]
    try:
        wipe(pg_url)
        seed(store, test_features)
        expected = _rows(store)
        searched = store.search(Query(near=(14.9, -92.26), limit=30))
        wipe(pg_url)
        bulk_seed(store, service_rows(test_features))
        assert _rows(store) == expected
        again = store.search(Query(near=(14.9, -92.26), limit=30))
        assert again.located.equals(searched.located)
        with pytest.raises(StoreError, match="already holds services"):
            bulk_seed(store, service_rows(test_features))
        for workers in (1, 2):  # the validated frame, prepared in slices (and processes)
            wipe(pg_url)
            bulk_seed_frame(store, frame_from_features(test_features), workers=workers,
                            chunk=37)
            assert _rows(store) == expected
    finally:
        store.close()


def test_db_seed_bulk_command(pg_url: str, small_path: Any, monkeypatch: Any,
                              capsys: Any) -> None:
    """`rcm-map db-seed FILE --bulk`: an empty database filled by COPY; refused after."""
    from pgcluster import wipe

    from rcm_map.cli import main as cli

    wipe(pg_url)
    monkeypatch.setenv("RCM_MAP_DATABASE_URL", pg_url)
    assert cli.main(["db-seed", "--bulk", str(small_path)]) == 0
    assert "seeded 6 services from small.geojson by COPY" in capsys.readouterr().out
    assert cli.main(["db-seed", "--bulk", str(small_path)]) == 2
    assert "already holds services" in capsys.readouterr().err
    assert cli.main(["search", "--format", "csv"]) == 0
    assert "Procuraduría de Protección (prueba)" in capsys.readouterr().out
