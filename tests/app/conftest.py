"""AppTest fixtures: the app on the 6-service fixture registry, in a chosen language."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest, app_test

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.geojson"
TIMEOUT_S = 60

REPORT_WIDGET = """
from rcm_map.ui import common
from rcm_map.ui.report import report_problem_widget
common.start_session()
report_problem_widget("mex-tap-dif")
"""
PAGE_SCRIPT = """
from rcm_map.ui import common, {page}
common.start_session()
{page}.render()
"""


@pytest.fixture(autouse=True)
def small_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every AppTest reads a copy of tests/data/small.geojson in tmp_path (never the
    real registry; its cache is written beside the copy, not into tests/data/)."""
    copy = Path(shutil.copy(SMALL, tmp_path / "small.geojson"))
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(copy))
    return copy


@pytest.fixture
def registry(tmp_path: Path, small_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of small.geojson as the registry in use, named as in production
    (actors.geojson), with the file store (no database URL)."""
    target = tmp_path / "actors.geojson"
    shutil.copy(small_path, target)
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(target))
    monkeypatch.delenv("RCM_MAP_DATABASE_URL", raising=False)
    return target


@pytest.fixture
def report_widget() -> Callable[[str], AppTest]:
    """The report widget of service mex-tap-dif in a language, not run yet."""

    def start(lang: str) -> AppTest:
        at = AppTest.from_string(REPORT_WIDGET, default_timeout=TIMEOUT_S)
        at.query_params["lang"] = lang
        return at

    return start


def _run(at: AppTest, params: dict[str, str]) -> AppTest:
    """Set the query parameters, run once, and check nothing raised."""
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def app() -> Callable[..., AppTest]:
    """The full app (router) with optional query parameters, already run once."""

    def start(**params: str) -> AppTest:
        return _run(AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S), params)

    return start


@pytest.fixture
def page() -> Callable[..., AppTest]:
    """One page module (search_page, coverage_page, about_page) run on its own."""

    def start(name: str, **params: str) -> AppTest:
        return _run(AppTest.from_string(PAGE_SCRIPT.format(page=name),
                                        default_timeout=TIMEOUT_S), params)

    return start


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MediaFileManager]:
    """The media file managers AppTest creates (one per run), newest last.

    AppTest drops its mock runtime after each run; keeping the manager lets a test
    fetch a file the way the browser does, deferred downloads included.
    """
    made: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, storage: Any) -> None:
            super().__init__(storage)
            made.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    return made
