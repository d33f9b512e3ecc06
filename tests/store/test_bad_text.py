"""Control characters are refused with a clear message before any database sees them,
and a value the database refuses anyway becomes a StoreError, not a traceback (issue 12)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rcm_map.core import schema
from rcm_map.store.base import Store, StoreError, UpdateRejected


def test_validation_names_the_control_character() -> None:
    issues = schema.validate_properties({"name": "Casa\x00Oculta"}, file="up.geojson", index=3)
    (bad,) = [i for i in issues if i.field == "name"]
    assert "control character (U+0000) at position 5" in str(bad)
    assert str(bad).startswith("up.geojson: feature 3: field 'name'")
    assert not [i for i in schema.validate_properties({"name": "a\tb\r\nc"}) if i.field == "name"]


def test_nul_in_an_update_is_refused_at_preview(small_store: Store,
                                                small_features: list[dict[str, Any]]) -> None:
    mine = [copy.deepcopy(f) for f in small_features if f["properties"]["country"] == "MEX"]
    mine[0]["properties"]["name"] = "Alb\x00ergue"
    with pytest.raises(UpdateRejected, match="control character"):
        small_store.preview_update("MEX", mine)


def test_nul_in_a_problem_report_is_refused(small_store: Store) -> None:
    with pytest.raises(StoreError, match="control character"):
        small_store.report_problem("mex-tap-dif", "closed", "cerrado\x00")
    assert small_store.open_reports("MEX") == []


def test_a_value_postgresql_refuses_is_a_store_error(pg_url: str) -> None:
    from rcm_map.store.postgis import PostGISStore

    store = PostGISStore(pg_url)
    try:
        with pytest.raises(StoreError, match="the database refused a value: .*nothing was saved"):
            with store._tx() as conn:
                conn.execute("SELECT %s::text", ("a\x00b",))
    finally:
        store.close()
