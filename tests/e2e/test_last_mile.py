"""The caseworker's last mile (issue 15) in a real, offline Chromium against app.py.

A 15-year-old in Tapachula who needs a shelter: the map names the towns around
her, the results are readable cards at desktop and phone widths, a card and its
marker select each other, the first screen lists nothing, a thin result list
offers ways out, and the page speaks the interface language. Every request not
addressed to localhost is aborted (conftest).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from serving import offline_guard
from test_app import IFRAME, TAPACHULA_QUERY, TIMEOUT_MS, center_map, map_frame

from rcm_map.core.geo import haversine_km
from rcm_map.core.safety import tel_href
from rcm_map.registry import load_registry
from rcm_map.registry.model import DEFAULT_REGISTRY
from rcm_map.render.cards import order_results
from rcm_map.search.gazetteer import default_gazetteer
from rcm_map.search.lines import help_lines, lines_query
from rcm_map.search.query import search
from rcm_map.search.urlstate import decode
from rcm_map.ui.results_view import CARDS_PAGE

pytestmark = pytest.mark.browser


NEIGHBOURS = ("Tapachula", "Tuxtla Chico", "Cacahoatán", "Puerto Madero", "Ciudad Hidalgo",
              "Huixtla", "Malacatán", "Mazatán", "Frontera Hidalgo", "Metapa")
SHELTER_QUERY = "lang=en&place=Tapachula&lat=14.90541&lon=-92.25891&radius=50&age=15" \
                "&services=shelter"


def engine_cards(query: str) -> list[str]:
    """Ids of the result cards the page should show for a query string, in order."""
    params = dict(p.split("=", 1) for p in query.split("&"))
    state = decode(params).state
    result = search(load_registry(DEFAULT_REGISTRY), state.to_query())
    return list(order_results(result.located, state.services)["id"])


def _within_km(name: str, km: float) -> bool:
    """True when the gazetteer has a place of that name within `km` of Tapachula."""
    names, lat, lon, _ = default_gazetteer().points()
    return any(n == name and haversine_km(14.90541, -92.25891, float(la), float(lo)) <= km
               for n, la, lo in zip(names, lat, lon, strict=True))


def card_ids(page: Any) -> list[str]:
    return page.locator('.rcm-card[data-rcm-kind="result"]').evaluate_all(
        "cards => cards.map(c => c.getAttribute('data-rcm-id'))")


VISIBLE_PLACES = """() => {
  const box = document.querySelector('.leaflet-container').getBoundingClientRect();
  return Array.from(document.querySelectorAll('.rcm-place')).filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.left >= box.left && r.right <= box.right
      && r.top >= box.top && r.bottom <= box.bottom;
  }).map(el => el.textContent);
}"""


def test_map_names_the_towns_around_tapachula(page: Any, base_url: str,
                                              blocked_requests: list[str]) -> None:
    page.goto(f"{base_url}/?{TAPACHULA_QUERY}")
    map_frame(page)
    center_map(page)
    frame = page.locator(IFRAME).last.element_handle().content_frame()
    names = frame.evaluate(VISIBLE_PLACES)
    names_near = [n for n in names if n in NEIGHBOURS or _within_km(n, 30)]
    assert len(set(names_near)) >= 3, names
    assert "GeoNames" in frame.locator(".leaflet-control-attribution").inner_text()
    assert blocked_requests == []


@pytest.mark.parametrize("width", [1366, 390])
def test_cards_readable_without_sideways_scrolling(page: Any, base_url: str,
                                                   width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base_url}/?{SHELTER_QUERY}")
    map_frame(page)
    page.locator(".rcm-card").first.wait_for(timeout=TIMEOUT_MS)
    assert card_ids(page) == engine_cards(SHELTER_QUERY)
    first = page.locator('.rcm-card[data-rcm-kind="result"]').first
    text = first.inner_text()
    assert "Tapachula (city centre; exact site not known)" in text
    assert re.search(r"Not yet verified by the network|Verified", text)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    overflow = page.locator(".rcm-card").evaluate_all(
        f"cards => cards.filter(c => c.getBoundingClientRect().right > {width}).length")
    assert overflow == 0
    main = page.locator('[data-testid="stMain"]')
    assert main.evaluate("el => el.scrollWidth <= el.clientWidth")


SAN_JOSE = "lang=es&place=San%20Jos%C3%A9&lat=9.93333&lon=-84.08333&radius=25"


def test_phones_are_tel_links_and_more_cards_on_demand(page: Any, base_url: str) -> None:
    params = dict(p.split("=", 1) for p in SAN_JOSE.split("&"))
    state = decode(params).state
    located = search(load_registry(DEFAULT_REGISTRY), state.to_query()).located
    ordered = order_results(located, state.services)
    assert len(ordered) > CARDS_PAGE, "San José has more services than one page of cards"

    def phones(rows: Any) -> list[str]:
        return [p for row in rows["phones"] for p in row if tel_href(p)]

    assert phones(ordered), "San José has services with phones in the bundled registry"
    page.goto(f"{base_url}/?{SAN_JOSE}")
    map_frame(page)
    page.locator(".rcm-card").first.wait_for(timeout=TIMEOUT_MS)
    assert card_ids(page) == list(ordered["id"][:CARDS_PAGE])
    links = page.locator('.rcm-card[data-rcm-kind="result"] a[href^="tel:"]')
    assert links.count() == len(phones(ordered.iloc[:CARDS_PAGE]))
    assert re.fullmatch(r"tel:\+?[0-9]+", links.first.get_attribute("href"))
    rest = min(len(ordered) - CARDS_PAGE, CARDS_PAGE)
    page.get_by_role("button", name=f"Mostrar {rest} servicios más").click()
    page.wait_for_function(
        "(n) => document.querySelectorAll('.rcm-card[data-rcm-kind=\"result\"]').length === n",
        arg=min(len(ordered), 2 * CARDS_PAGE), timeout=TIMEOUT_MS)
    assert card_ids(page) == list(ordered["id"][:2 * CARDS_PAGE])
    assert links.count() == len(phones(ordered.iloc[:2 * CARDS_PAGE]))


def test_a_shelter_search_always_offers_a_line_to_call(page: Any, base_url: str) -> None:
    # The Tapachula shelters list no phone; the country's lines are shown anyway.
    params = dict(p.split("=", 1) for p in SHELTER_QUERY.split("&"))
    registry = load_registry(DEFAULT_REGISTRY)
    query = decode(params).state.to_query()
    lines = help_lines(search(registry, lines_query(query)), query.near)
    phones = [p for row in lines["phones"] for p in row if tel_href(p)]
    assert phones, "Mexico's national lines have phones in the bundled registry"
    page.goto(f"{base_url}/?{SHELTER_QUERY}")
    box = page.locator('.rcm-lines[data-rcm-kind="lines"]')
    box.wait_for(timeout=TIMEOUT_MS)
    links = box.locator('a[href^="tel:"]')
    assert links.count() == len(phones)
    assert box.evaluate("el => el.getBoundingClientRect().right <= window.innerWidth")
    assert [li.get_attribute("data-rcm-id") for li in box.locator("li").all()] == list(
        lines["id"])


def _shown_soon(locator: Any) -> bool:
    """Whether the locator shows up within a third of the timeout."""
    try:
        locator.wait_for(timeout=TIMEOUT_MS // 3)
    except PlaywrightTimeout:
        return False
    return True


def test_card_and_marker_select_each_other(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/?{SHELTER_QUERY}")
    map_frame(page)
    ids = card_ids(page)
    assert len(ids) >= 2
    # List -> map: "Show on map" on the first card highlights its marker.
    page.get_by_role("button", name="Show on map").first.click()
    frame = page.frame_locator(IFRAME).last
    frame.locator(f'.rcm-marker.rcm-selected[data-rcm-id="{ids[0]}"]').wait_for(
        timeout=TIMEOUT_MS)
    # Map -> list: the user brings the marker of the last card into view (opening
    # its cluster if it has one) and clicks it; its card becomes the selected one.
    # Under load a rerun can still be redrawing the map when the click arrives, and
    # the click is lost with the old map; a person looks again and clicks again.
    frame.locator(".leaflet-popup-close-button").click()
    click_marker_until_selected(page, ids[-1])
    assert page.locator('[data-testid="stBaseButton-primary"]').filter(
        has_text="Show on map").count() == 1


def click_marker_until_selected(page: Any, service_id: str) -> None:
    """Bring a service's marker into view (opening its cluster if it has one), click
    it, and wait until its card is the selected one. Under load a rerun can still be
    redrawing the map when the click arrives, and the click is lost with the old
    map; a person looks again and clicks again (up to 3 times)."""
    # the card holding this service (cards are keyed by their place in the list)
    card = page.locator(f'[class*="st-key-card_"]:has(.rcm-card[data-rcm-id="{service_id}"])')
    selected = card.locator('[data-testid="stBaseButton-primary"]')
    for _ in range(3):
        center_map(page)
        handle = page.locator(IFRAME).last.element_handle().content_frame()
        handle.evaluate("""(id) => { const l = window.rcmLayers, m = l.byId[id];
            if (l.clustered) { l.group.zoomToShowLayer(m); }
            else { l.map.setView(m.getLatLng(), 12, {animate: false}); } }""", service_id)
        other = page.frame_locator(IFRAME).last.locator(
            f'.rcm-marker[data-rcm-id="{service_id}"]')
        other.wait_for(timeout=TIMEOUT_MS)
        other.click()
        if _shown_soon(selected):
            break
    selected.wait_for(timeout=TIMEOUT_MS)


def test_a_marker_selects_a_card_beyond_the_first_page(page: Any, base_url: str) -> None:
    params = dict(p.split("=", 1) for p in SAN_JOSE.split("&"))
    state = decode(params).state
    ids = list(order_results(search(load_registry(DEFAULT_REGISTRY), state.to_query()).located,
                             state.services)["id"])
    assert len(ids) > CARDS_PAGE
    page.goto(f"{base_url}/?{SAN_JOSE}".replace("lang=es", "lang=en"))
    map_frame(page)
    assert card_ids(page) == ids[:CARDS_PAGE]
    click_marker_until_selected(page, ids[-1])
    assert card_ids(page) == ids  # the list grew to show the selected card


def test_first_screen_lists_nothing_and_uses_my_location_on_click(
        browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  geolocation={"latitude": 14.9054, "longitude": -92.2589},
                                  permissions=["geolocation"])
    blocked: list[str] = []
    context.route("**/*", offline_guard(blocked))
    page = context.new_page()
    try:
        page.goto(f"{base_url}/?lang=en")
        map_frame(page, 0)
        assert page.locator(".rcm-card").count() == 0
        assert page.get_by_text("Choose where the child is").is_visible()
        assert "lat=" not in page.url
        page.get_by_role("button", name="Use my location").click()
        page.wait_for_function("() => location.search.includes('lat=14.9')",
                               timeout=TIMEOUT_MS)
        page.locator('.rcm-card[data-rcm-kind="result"]').first.wait_for(timeout=TIMEOUT_MS)
        assert blocked == []
    finally:
        context.close()


def test_a_click_on_the_first_screen_map_chooses_the_place(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/?lang=en")
    map_frame(page, 0)
    center_map(page)
    frame = page.locator(IFRAME).last.element_handle().content_frame()
    # The eight countries are drawn (their states/departments), not left as water.
    units = frame.evaluate(
        "() => document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length")
    assert units >= 100, units
    # Zoom to Guatemala City so the click lands where services are.
    frame.evaluate("() => window.rcmLayers.map.setView([14.64, -90.51], 11, {animate: false})")
    page.frame_locator(IFRAME).last.locator(".leaflet-container").click(
        position={"x": 200, "y": 200})
    page.wait_for_function("() => location.search.includes('lat=')", timeout=TIMEOUT_MS)
    page.locator('.rcm-card[data-rcm-kind="result"]').first.wait_for(timeout=TIMEOUT_MS)


def test_a_place_not_found_clears_the_results(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/?{SHELTER_QUERY}")
    map_frame(page)
    page.locator(".rcm-card").first.wait_for(timeout=TIMEOUT_MS)
    box = page.get_by_label("Place", exact=True)
    box.fill("Qwxzzy")
    box.press("Enter")
    page.get_by_text("That place was not found").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("() => !location.search.includes('lat=')", timeout=TIMEOUT_MS)
    # The old cards go when the run ends (Streamlit keeps stale elements until then).
    page.wait_for_function(
        "() => !document.querySelector('.rcm-card[data-rcm-kind=\"result\"]')",
        timeout=TIMEOUT_MS)
    map_frame(page, 0)


def test_few_results_name_the_filter_and_widen_the_radius(page: Any, base_url: str) -> None:
    query = ("lang=en&place=Guatemala%20City&lat=14.64072&lon=-90.51327&radius=25"
             "&services=legal_assistance&age=6&populations=families")
    page.goto(f"{base_url}/?{query}")
    map_frame(page)
    way_out = page.locator(".st-key-ways_out")
    way_out.wait_for(timeout=TIMEOUT_MS)
    assert "Few results" in way_out.inner_text()
    assert card_ids(page) == []
    # Each filter that would bring services back is named with the count it would
    # bring; removing the first one shown brings exactly that many back.
    first = re.search(r"Without the filter \u201c(.+?)\u201d, (\d+) services? would be",
                      way_out.inner_text())
    assert first is not None, way_out.inner_text()
    name, count = first.group(1), int(first.group(2))
    assert "beyond 25 km" in way_out.inner_text()
    before = page.evaluate("() => location.search")
    way_out.get_by_role("button", name=f"Remove the filter \u201c{name}\u201d").click()
    page.wait_for_function("(old) => location.search !== old", arg=before, timeout=TIMEOUT_MS)
    page.locator('.rcm-card[data-rcm-kind="result"]').first.wait_for(timeout=TIMEOUT_MS)
    assert len(card_ids(page)) == count

def test_one_click_widens_the_radius(page: Any, base_url: str) -> None:
    query = ("lang=en&place=Guatemala%20City&lat=14.64072&lon=-90.51327&radius=25"
             "&services=legal_assistance&age=6&populations=families")
    page.goto(f"{base_url}/?{query}")
    map_frame(page)
    page.get_by_role("button", name="Widen the radius to 50 km").click()
    # 50 km is the default radius, so the URL drops the parameter.
    page.wait_for_function("() => !location.search.includes('radius=')", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Widen the radius to 100 km").wait_for(timeout=TIMEOUT_MS)


def test_page_language_plurals_and_share_link(page: Any, base_url: str) -> None:
    query = "lang=es&place=Tapachula&lat=14.90541&lon=-92.25891&radius=50&limit=1"
    page.goto(f"{base_url}/?{query}")
    map_frame(page, 1)
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.get_by_text(re.compile(r"^1 servicio cerca,")).is_visible()
    page.get_by_role("button", name="Compartir esta búsqueda").click()
    link = page.locator('[data-testid="stCode"]').first.inner_text()
    assert "lat=14.90541" in link and "limit=1" in link
    assert page.get_by_text("Este enlace guarda la búsqueda").is_visible()
    assert page.get_by_text("Datos de lugares © GeoNames").is_visible()


def test_coverage_map_opens_on_the_corridor(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/coverage?lang=en")
    page.get_by_role("tab", name="Map").click()
    page.wait_for_function(
        "(sel) => { const f = document.querySelector(sel); const d = f && f.contentDocument;"
        " return !!(d && f.offsetHeight > 0 && d.querySelector('.leaflet-container path')); }",
        arg=IFRAME, timeout=TIMEOUT_MS)
    frame = page.locator(IFRAME).last.element_handle().content_frame()
    page.wait_for_timeout(500)
    north = frame.evaluate("() => window.map.getBounds().getNorth()")  # streamlit-folium's map
    assert north is not None and north < 40  # Mexico-Panama, not up to the Arctic
