"""Problem reports are limited on the server, not per session (issue 12: three sessions
stored 30 reports on one service)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rcm_map.core.i18n import Translator
from rcm_map.store.geojson_store import GeoJSONStore


@pytest.fixture
def fresh_limits() -> Iterator[None]:
    from rcm_map.ui.report import report_throttles
    report_throttles.clear()
    yield
    report_throttles.clear()


def test_many_sessions_share_one_limit_per_service(
        registry: Path, fresh_limits: None, report_widget: Callable[[str], AppTest]) -> None:
    from rcm_map.ui.report import MAX_REPORTS_PER_SERVICE

    tr = Translator("en")
    outcomes = []
    for session in range(3):
        at = report_widget("en").run()
        for attempt in range(4):
            at.selectbox[0].set_value("closed")
            at.text_area[0].input(f"closed ({session}, {attempt})")
            at.button[0].click().run()
            assert not at.exception, at.exception
            outcomes.append("sent" if at.success and at.success[0].value == tr.t("report.thanks")
                            else "refused" if any(w.value == tr.t("report.too_many")
                                                  for w in at.warning) else "?")
    stored = GeoJSONStore(registry).open_reports("MEX")
    assert len(stored) == MAX_REPORTS_PER_SERVICE == outcomes.count("sent")
    assert outcomes.count("refused") == 12 - MAX_REPORTS_PER_SERVICE
