"""AppTest fixtures: the app on the 6-service fixture registry, in a chosen language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.geojson"
TIMEOUT_S = 60

PAGE_SCRIPT = """
from rcm_map.ui import common, {page}
common.start_session()
{page}.render()
"""


@pytest.fixture(autouse=True)
def small_registry(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every AppTest reads tests/data/small.geojson (never the real registry)."""
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(SMALL))
    return SMALL


@pytest.fixture
def app() -> Callable[..., AppTest]:
    """The full app (router) with optional query parameters, already run once."""

    def start(**params: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, at.exception
        return at

    return start


@pytest.fixture
def page() -> Callable[..., AppTest]:
    """One page module (search_page, coverage_page, about_page) run on its own."""

    def start(name: str, **params: str) -> AppTest:
        at = AppTest.from_string(PAGE_SCRIPT.format(page=name), default_timeout=TIMEOUT_S)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, at.exception
        return at

    return start
