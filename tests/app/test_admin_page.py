"""AppTest smoke tests of the focal-point page and the report widget."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rcm_map.auth import hash_password

PAGE = """
from rcm_map.ui.admin import admin_page
admin_page()
"""
WIDGET = """
from rcm_map.ui.report import report_problem_widget
report_problem_widget("mex-tap-dif")
"""


@pytest.fixture
def registry(tmp_path: Path, small_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of small.geojson as the registry in use (file store)."""
    target = tmp_path / "actors.geojson"
    shutil.copy(small_path, target)
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(target))
    monkeypatch.delenv("RCM_MAP_DATABASE_URL", raising=False)
    return target


def _app(script: str) -> AppTest:
    at = AppTest.from_string(script, default_timeout=60)
    at.secrets["focal_points"] = {"ana": {"country": "MEX",
                                          "password_hash": hash_password("long password 1")}}
    return at


def test_login_then_tabs(registry: Path) -> None:
    """A wrong password is refused; the right one opens the three tabs."""
    at = _app(PAGE).run()
    at.text_input[0].input("ana")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert any("Wrong user or password" in e.value for e in at.error)
    at.text_input[1].input("long password 1")
    at.button[0].click().run()
    assert not at.exception
    assert at.caption[0].value == "Signed in as ana · MEX"
    assert len(at.tabs) == 3


def test_report_widget_records_a_report(registry: Path) -> None:
    """Submitting the form records an open report for the service's country."""
    at = _app(WIDGET).run()
    at.text_area[0].input("Cerró")
    at.button[0].click().run()
    assert not at.exception
    from rcm_map.store.geojson_store import GeoJSONStore

    reports = GeoJSONStore(registry).open_reports("MEX")
    assert [(r.service_id, r.comment) for r in reports] == [("mex-tap-dif", "Cerró")]
