"""The whole app in a real, offline Chromium against `streamlit run app.py`.

Runs on the bundled registry (data/actors.geojson): expected rows come from the
engine itself, so the tests check that the page shows what the engine returns.
Every request not addressed to localhost is aborted (conftest): the app works offline.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rcm_map.registry import load_registry
from rcm_map.registry.model import DEFAULT_REGISTRY
from rcm_map.render.mappayload import legend_codes, services_payload
from rcm_map.search.query import search
from rcm_map.search.urlstate import decode

pytestmark = pytest.mark.browser

APP = Path(__file__).resolve().parents[2] / "app.py"
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
TIMEOUT_MS = 90_000
TAPACHULA_QUERY = ("lang=en&place=Tapachula&lat=14.90541&lon=-92.25891&radius=50&age=15"
                   "&populations=unaccompanied&services=shelter")


@pytest.fixture(scope="module")
def registry_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled registry, so its cache is written in a temporary folder."""
    return Path(shutil.copy(DEFAULT_REGISTRY, tmp_path_factory.mktemp("e2e") / "actors.geojson"))


@pytest.fixture(scope="module")
def base_url(streamlit_server: Any, registry_copy: Path) -> Iterator[str]:
    """app.py served on (a copy of) the bundled registry."""
    saved = os.environ.get("RCM_MAP_REGISTRY")
    os.environ["RCM_MAP_REGISTRY"] = str(registry_copy)
    try:
        yield streamlit_server(APP)
    finally:
        if saved is None:
            os.environ.pop("RCM_MAP_REGISTRY", None)
        else:
            os.environ["RCM_MAP_REGISTRY"] = saved


@pytest.fixture(scope="module")
def registry(registry_copy: Path) -> Any:
    """The same registry the server reads."""
    return load_registry(registry_copy)


def expected(registry: Any, query: str) -> Any:
    """The engine's answer for the search encoded in a query string."""
    params = dict(p.split("=", 1) for p in query.split("&"))
    return search(registry, decode(params).state.to_query())


MAP_READY = """([sel, count]) => {
  const frames = document.querySelectorAll(sel);
  if (frames.length !== 1 || frames[0].offsetHeight === 0) return false;
  const doc = frames[0].contentDocument;
  const box = doc && doc.querySelector('.leaflet-container[data-rcm-markers]');
  return !!box && (count === null || box.getAttribute('data-rcm-markers') === String(count));
}"""


def map_frame(page: Any, count: int | None = None) -> Any:
    """The map iframe once our script has drawn it (optionally `count` markers).

    A new search area remounts streamlit-folium's frame (a filter change only swaps
    the services inside it): wait until only the new, drawn frame is left, so
    clicks never go to a frame on its way out.
    """
    page.wait_for_function(MAP_READY, arg=[IFRAME, count], timeout=TIMEOUT_MS)
    return page.frame_locator(IFRAME).last


def center_map(page: Any) -> None:
    """Scroll the whole map into view before clicking inside it.

    Leaflet focuses its container on mousedown; when the map is partly off-screen
    the focus scrolls Streamlit's page between mousedown and mouseup, and the
    click lands on the map instead of the marker.
    """
    page.locator(IFRAME).last.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)


FIND_EMPTY_SPOT = """() => {
  const box = document.querySelector('.leaflet-container').getBoundingClientRect();
  for (let y = 120; y < box.height - 60; y += 23) {
    for (let x = 60; x < box.width - 60; x += 23) {
      const el = document.elementFromPoint(box.left + x, box.top + y);
      if (el && !el.closest('.leaflet-marker-icon, .leaflet-control, .leaflet-popup')) {
        return {x: x, y: y};
      }
    }
  }
  return null;
}"""


def empty_spot(page: Any) -> dict[str, float]:
    """A point of the map with no marker, control or popup on it."""
    frame = page.locator(IFRAME).last.element_handle().content_frame()
    spot = frame.evaluate(FIND_EMPTY_SPOT)
    assert spot, "no empty spot on the map"
    return spot


def marker_count(frame: Any) -> int:
    return int(frame.locator(".leaflet-container").get_attribute("data-rcm-markers"))


def listed_count(page: Any) -> int:
    """The number of located services the page says it lists."""
    text = page.get_by_text(re.compile(r"services? nearby")).inner_text()
    return int(re.match(r"\s*(\d+)", text).group(1))


def open_app(page: Any, base_url: str, query: str) -> Any:
    page.goto(f"{base_url}/?{query}")
    return map_frame(page)


def test_map_visible_with_markers_offline(page: Any, base_url: str, registry: Any,
                                          blocked_requests: list[str]) -> None:
    query = "lang=en&place=Tapachula&lat=14.90541&lon=-92.25891&radius=250"
    frame = open_app(page, base_url, query)
    box = page.locator(IFRAME).last.bounding_box()
    assert box and box["height"] > 300 and box["width"] > 250
    want = len(expected(registry, query).located)
    assert want > 0
    assert marker_count(frame) == want == listed_count(page)
    drawn = frame.locator(".rcm-marker, .marker-cluster").count()
    assert drawn > 0
    assert not page.page_errors
    assert blocked_requests == []


def test_clicking_a_marker_opens_its_popup(page: Any, base_url: str) -> None:
    frame = open_app(page, base_url, "lang=en&place=Tapachula&radius=25")
    center_map(page)
    if frame.locator(".rcm-marker").count() == 0:
        # Services at one city centre are clustered: a click spreads them out.
        frame.locator(".marker-cluster").first.click()
        frame.locator(".rcm-marker").first.wait_for(timeout=10_000)
        page.wait_for_timeout(600)  # spiderfy animation
    marker = frame.locator(".rcm-marker").first
    service_id = marker.get_attribute("data-rcm-id")
    marker.click()
    popup = frame.locator(f'.leaflet-popup-content .rcm-popup[data-rcm-id="{service_id}"]')
    popup.wait_for(timeout=10_000)
    assert popup.inner_text().strip()


def test_changing_a_filter_changes_the_markers(page: Any, base_url: str, registry: Any) -> None:
    """A filter change redraws the services inside the same map frame: no new frame,
    no second load of Leaflet, the outlines and the place names (issue 15 item 8)."""
    query = "lang=en&place=Tapachula&lat=14.90541&lon=-92.25891&radius=250&limit=200"
    frame = open_app(page, base_url, query)
    before = marker_count(frame)
    window = page.locator(IFRAME).last.element_handle().content_frame()
    window.evaluate("() => { window.rcmSameFrame = true; }")
    legend_before = frame.locator(".rcm-legend-item").count()
    want = len(expected(registry, query + "&services=shelter").located)
    assert want != before
    services = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Service types")
    services.locator("input").click()
    services.locator("input").fill("Shelter")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('services=shelter')",
                           timeout=TIMEOUT_MS)
    frame = map_frame(page, want)
    assert marker_count(frame) == want == listed_count(page)
    window = page.locator(IFRAME).last.element_handle().content_frame()
    assert window.evaluate("() => window.rcmSameFrame === true")
    # The old services and their legend are gone: one legend, of the new markers.
    located = expected(registry, query + "&services=shelter").located
    legend = legend_codes(services_payload(located, "en"))
    assert frame.locator(".rcm-legend").count() == 1
    assert frame.locator(".rcm-legend-item").count() == len(legend) < legend_before
    assert window.evaluate("() => window.rcmLayers.group.getLayers().length") == want


def test_tapachula_search_and_csv_hold_the_same_rows(page: Any, base_url: str,
                                                     registry: Any) -> None:
    result = expected(registry, TAPACHULA_QUERY)
    frame = open_app(page, base_url, TAPACHULA_QUERY)
    assert len(result.located) > 0
    assert marker_count(frame) == len(result.located) == listed_count(page)
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.get_by_role("button", name="Download CSV").click()
    body = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    want = [*result.located["id"], *result.countrywide["id"]]
    assert [r["id"] for r in rows] == want
    for row in rows[: len(result.located)]:
        assert row["distance_km"] or row["distance_band"]


def test_typing_a_place_and_clicking_the_map(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/?lang=en")
    map_frame(page)
    box = page.get_by_label("Place", exact=True)
    box.fill("tecun uman")
    box.press("Enter")
    page.wait_for_function("() => location.search.includes('lat=14.67737')",
                           timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)  # let the rerun replace the map
    frame = map_frame(page)
    center_map(page)
    spot = empty_spot(page)
    frame.locator(".leaflet-container").click(position=spot)
    page.wait_for_function("() => !location.search.includes('lat=14.67737') "
                           "&& location.search.includes('lat=')", timeout=TIMEOUT_MS)
    # The clicked point goes into the address rounded to ~1 km, without the place text
    # (issue 12: request lines end up in proxy logs).
    assert "place=" not in page.url
    assert re.search(r"[?&]lat=-?\d+(\.\d{1,2})?&lon=-?\d+(\.\d{1,2})?(&|$)", page.url)
    from playwright.sync_api import expect  # here: without playwright the fixtures skip/fail

    expect(box).to_have_value(re.compile(r"^-?\d+\.\d+, -?\d+\.\d+$"), timeout=TIMEOUT_MS)
