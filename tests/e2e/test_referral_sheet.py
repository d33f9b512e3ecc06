"""The caseworker's last mile in a real, offline Chromium: from a Tapachula search to a
referral sheet that prints, opens as HTML and downloads as PDF and Excel.

Runs `streamlit run app.py` on the bundled registry; the expected services come
from the engine. Every request not addressed to localhost is aborted (conftest).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from rcm_map.registry import load_registry
from rcm_map.registry.model import DEFAULT_REGISTRY
from rcm_map.render.listing import results_for_export
from rcm_map.search.lines import help_lines, lines_query
from rcm_map.search.query import search
from rcm_map.search.urlstate import decode

pytestmark = pytest.mark.browser

TIMEOUT_MS = 90_000
QUERY = ("lang=en&place=Tapachula&lat=14.90541&lon=-92.25891&radius=50&age=15"
         "&services=shelter")
SHEET_FRAME = 'iframe[srcdoc*="id=\\"print\\""]'


def engine_answer() -> tuple[list[str], list[str]]:
    """Names of the services the engine returns for QUERY, in list order, and of
    the help lines for the place that the sheet adds after them."""
    params = dict(p.split("=", 1) for p in QUERY.split("&"))
    registry = load_registry(DEFAULT_REGISTRY)
    query = decode(params).state.to_query()
    result = search(registry, query)
    names = list(results_for_export(result.located, result.countrywide)["name"])
    lines = [n for n in help_lines(search(registry, lines_query(query)), query.near)["name"]
             if n not in names]
    return names, lines


@pytest.fixture(scope="module")
def export_names() -> list[str]:
    """The results, as the exports list them."""
    names, _ = engine_answer()
    assert names, "the Tapachula shelter search should find services"
    return names


@pytest.fixture(scope="module")
def expected_names() -> list[str]:
    """What the referral sheet lists: the results, then the help lines."""
    names, lines = engine_answer()
    assert lines, "Mexico's national help lines apply in Tapachula"
    return names + lines


def open_search(page: Any, base_url: str, count: int) -> None:
    page.goto(f"{base_url}/?{QUERY}")
    page.get_by_role("button", name=f"Referral sheet, HTML ({count})").wait_for(
        timeout=TIMEOUT_MS)


def download(page: Any, label: str) -> bytes:
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.get_by_role("button", name=label).click()
    return Path(info.value.path()).read_bytes()


def test_sheet_is_shown_and_its_print_button_prints(page: Any, base_url: str,
                                                    expected_names: list[str],
                                                    blocked_requests: list[str]) -> None:
    open_search(page, base_url, len(expected_names))
    page.get_by_text(f"View and print the referral sheet ({len(expected_names)})").click()
    # (a switch: the sheet is built only when someone asks to see it)
    frame = page.frame_locator(SHEET_FRAME)
    button = frame.locator("#print")
    button.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert button.inner_text() == "Print"
    assert frame.locator("section.service h2").all_inner_texts() == expected_names
    assert "Tapachula, Chiapas (Mexico) (within 50 km)" in frame.locator(
        "dl.searched").inner_text()
    # Count calls instead of opening the print dialog a headless browser cannot show.
    handle = page.locator(SHEET_FRAME).element_handle()
    inner = handle.content_frame()
    inner.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed++; }; }")
    button.click()
    assert inner.evaluate("() => window.__printed") == 1
    assert blocked_requests == []


def test_html_sheet_opens_on_its_own(page: Any, base_url: str, expected_names: list[str],
                                     blocked_requests: list[str]) -> None:
    open_search(page, base_url, len(expected_names))
    body = download(page, f"Referral sheet, HTML ({len(expected_names)})").decode("utf-8")
    sheet = page.context.new_page()
    errors: list[str] = []
    sheet.on("pageerror", lambda exc: errors.append(str(exc)))
    sheet.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sheet.set_content(body)
    assert sheet.title() == "Service referral sheet"
    assert sheet.locator("html").get_attribute("lang") == "en"
    assert sheet.locator("#print").is_visible()
    assert sheet.locator("section.service h2").all_inner_texts() == expected_names
    assert sheet.get_by_text("Verify before referral").count() == 1
    sheet.emulate_media(media="print")
    assert not sheet.locator("#print").is_visible()  # the button is not printed
    assert errors == []  # the print script runs under the page's own CSP
    assert blocked_requests == []


def test_pdf_and_excel_downloads(page: Any, base_url: str, expected_names: list[str],
                                 export_names: list[str]) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    open_search(page, base_url, len(expected_names))
    pdf = PdfReader(io.BytesIO(download(page, f"Referral sheet, PDF ({len(expected_names)})")))
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert "Service referral sheet" in text and expected_names[0] in text
    book = load_workbook(io.BytesIO(download(page, "Download Excel (.xlsx)")))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "Service"
    assert [r[0] for r in rows[1:]] == export_names
