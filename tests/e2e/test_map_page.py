"""The map in a real, offline Chromium through `streamlit run` + streamlit-folium.

The page is ``map_page.py``; every request not addressed to localhost is aborted
(conftest), so a map that renders here renders without internet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_frames import PAYLOADS, SMALL_TYPES

pytestmark = pytest.mark.browser

PAGE = Path(__file__).with_name("map_page.py")
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 60_000
# Runs in every frame before any page script: any alert or payload flag is counted.
TRAP = """
window.__pwned = 0;
window.alert = function () { window.__pwned += 1; };
window.confirm = window.alert; window.prompt = window.alert;
"""


@pytest.fixture(scope="module")
def base_url(streamlit_server: Any) -> str:
    """The test page served by a real Streamlit server."""
    return streamlit_server(PAGE)


def open_map(page: Any, base_url: str, query: str) -> Any:
    """Load the page and wait until our script has drawn the services; the Frame."""
    page.add_init_script(TRAP)
    page.goto(f"{base_url}/?{query}")
    iframe = page.locator(IFRAME)
    iframe.wait_for(state="visible", timeout=TIMEOUT_MS)
    frame = iframe.element_handle().content_frame()
    frame.wait_for_selector(".leaflet-container[data-rcm-markers]", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)  # let fitBounds and the legend settle
    return frame


def shot(page: Any, name: str) -> None:
    """Keep a screenshot for people to look at (test-artifacts/ is not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def click_marker(frame: Any, service_id: str) -> str:
    """Close any popup, show every marker again, click one; its popup's text.

    Re-fitting matters: opening a popup pans the map, which can push the next
    marker out of the frame.
    """
    frame.evaluate("""() => {
        const layers = window.rcmLayers;
        layers.map.closePopup();
        layers.map.fitBounds(layers.group.getBounds(), {animate: false, padding: [40, 40]});
    }""")
    frame.locator(f'.rcm-marker[data-rcm-id="{service_id}"]').click()
    popup = frame.locator(f'.leaflet-popup-content .rcm-popup[data-rcm-id="{service_id}"]')
    popup.wait_for(timeout=10_000)
    return str(popup.inner_text())


def _visible(text: str) -> str:
    """Text as compared on screen: browsers drop or replace NUL."""
    return text.replace("\x00", "").replace("\ufffd", "")


def test_map_is_visible_with_every_marker(page: Any, base_url: str,
                                          blocked_requests: list[str]) -> None:
    frame = open_map(page, base_url, "data=small")
    box = page.locator(IFRAME).bounding_box()
    assert box and box["height"] > 300 and box["width"] > 300
    markers = frame.locator(".rcm-marker")
    assert markers.count() == len(SMALL_TYPES)
    assert all(markers.nth(i).is_visible() for i in range(markers.count()))
    legend = frame.locator(".rcm-legend")
    assert legend.is_visible() and legend.locator(".rcm-legend-item").count() == len(SMALL_TYPES)
    assert frame.locator("path.leaflet-interactive").count() >= 1  # radius circle or areas
    shot(page, "map_small")
    assert not page.page_errors
    assert blocked_requests == [], "the page tried to reach the internet"


def test_clicking_a_marker_opens_its_popup(page: Any, base_url: str) -> None:
    frame = open_map(page, base_url, "data=small&lang=en")
    text = click_marker(frame, "svc-2")
    for expected in ("Servicio 2", "Organización 2", "Legal assistance", "Ages: 0-17 years",
                     "Phone: +52 962 000 0002", "How to refer: Llamar antes",
                     "Verification: Not yet verified by the network; source dated Jan 15, 2025",
                     "Distance: 3.0 km"):
        assert expected in text, expected
    hrefs = frame.locator(".leaflet-popup-content a").evaluate_all(
        "els => els.map(a => [a.getAttribute('href'), a.getAttribute('rel')])")
    assert ["tel:+529620000002", None] in hrefs
    assert ["https://example.org/2", "noopener noreferrer"] in hrefs
    shot(page, "map_popup")


def test_selected_result_is_opened(page: Any, base_url: str) -> None:
    frame = open_map(page, base_url, "data=small&selected=svc-3")
    popup = frame.locator(".leaflet-popup-content .rcm-popup")
    popup.wait_for(timeout=10_000)
    assert "Servicio 3" in popup.inner_text()
    assert frame.locator('.rcm-marker.rcm-selected[data-rcm-id="svc-3"]').count() == 1


def test_dense_results_are_clustered_and_all_present(page: Any, base_url: str) -> None:
    frame = open_map(page, base_url, "data=many")
    assert frame.locator(".marker-cluster").count() > 0
    total = frame.evaluate("() => window.rcmLayers.group.getLayers().length")
    assert total == 200
    in_clusters = frame.evaluate(
        "() => Array.from(document.querySelectorAll('.marker-cluster span'))"
        ".reduce((n, s) => n + Number(s.textContent), 0)")
    singles = frame.locator(".rcm-marker").count()
    assert in_clusters + singles == 200
    shot(page, "map_many")


def test_injection_payloads_execute_nothing_and_show_literally(
    page: Any, base_url: str, blocked_requests: list[str]
) -> None:
    frame = open_map(page, base_url, "data=hostile")
    markers = frame.locator(".rcm-marker")
    assert markers.count() == len(PAYLOADS)
    for i, payload in enumerate(PAYLOADS):
        text = click_marker(frame, f"svc-{i}")
        assert _visible(f"N{i} {payload}") in _visible(text), text
        assert frame.locator(".leaflet-popup-content img, .leaflet-popup-content script"
                             ).count() == 0
        hrefs = frame.locator(".leaflet-popup-content a").evaluate_all(
            "els => els.map(a => a.getAttribute('href'))")
        assert all(h.startswith(("tel:", "mailto:", "https:")) for h in hrefs), hrefs
    shot(page, "map_hostile_popup")
    assert frame.evaluate("() => window.__pwned") == 0
    assert page.evaluate("() => window.__pwned") == 0
    assert frame.locator("img[src='x']").count() == 0
    assert not page.page_errors
    assert blocked_requests == []
