"""The search page's map, its optional street tiles, and "use my location".

Widgets only; the map itself is built by `rcm_map.render.mapping`. A click on a
marker selects its card (`results_view.SELECTED_KEY`); a click elsewhere is
handled by the page (it moves the search point). The browser is asked for its
position only after the "use my location" click, and the answer lives in the
session and the user's own URL, never in a log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from rcm_map.core.geo import parse_lat_lon
from rcm_map.core.i18n import Translator
from rcm_map.core.tiles import tile_server
from rcm_map.search.query import SearchResult
from rcm_map.search.urlstate import SearchState
from rcm_map.ui import common, results_view

MAP_KEY = "map"
MAP_HEIGHT = 520
OBJECT_KEY = "last_object_click"
GEO_PENDING = "geo_pending"  # "use my location" clicked; waiting for the browser
GEO_POINT = "geo_point"  # the browser's answer, applied before the widgets next run


def select_clicked_marker(value: dict[str, Any]) -> None:
    """Select the service whose marker was just clicked (streamlit-folium's value)."""
    clicked = value.get("last_object_clicked")
    if not clicked or clicked == st.session_state.get(OBJECT_KEY):
        return
    st.session_state[OBJECT_KEY] = clicked
    service_id = results_view.service_at_click(
        clicked, value.get("last_object_clicked_tooltip"),
        st.session_state.get(results_view.SHOWN_KEY, ()))
    if service_id is not None:
        st.session_state[results_view.SELECTED_KEY] = service_id


def show_map(tr: Translator, state: SearchState, result: SearchResult | None,
             selected: str | None, on_change: Callable[[], None],
             place_name: str | None = None) -> None:
    """The results map (or, without a result, the empty map to click a place on);
    `place_name`, the searched place, is written beside the search point."""
    from rcm_map.render.mapping import build_map_parts

    server = _street_tiles(tr)
    located = result.located if result is not None else _NO_SERVICES
    # The map's own text depends on the search area only (outlines of every
    # country, cut to the area), so a filter change or a selection swaps the
    # services group inside the same map frame instead of loading a new one.
    fmap, services = build_map_parts(
        located, center=state.point,
        radius_km=state.radius_km if state.point else None,
        boundaries=common.admin1_outlines((), tr.lang),
        lang=tr.lang, selected_id=selected,
        # Services placed at a city centre share one point: clustering any two lets
        # markercluster spread them out on click instead of stacking them unreachably.
        cluster_min=2, legend_collapsed=True, gazetteer=common.gazetteer(),
        land=_land(),
        tiles=server.url if server else None,
        tile_attribution=server.attribution if server else None,
        place_name=place_name,
    )
    st_folium(fmap, key=MAP_KEY, height=MAP_HEIGHT, use_container_width=True,
              feature_group_to_add=services,
              returned_objects=["last_clicked", "last_object_clicked",
                                "last_object_clicked_tooltip"],
              on_change=on_change)
    st.caption(tr.t("map.click_hint"))


_NO_SERVICES = pd.DataFrame({"id": [], "name": [], "country": [], "lon": [], "lat": []})


def _street_tiles(tr: Translator) -> Any:
    """The deployment's tile server when this user turned street tiles on, else None.

    Offered only when the deployment names a server (`rcm_map.core.tiles`); off by
    default; the line under the toggle says what the server learns.
    """
    try:
        server = tile_server()
    except ValueError as err:
        st.error(str(err))  # a deployment mistake: name the variable, stay offline
        return None
    if server is None:
        return None
    on = st.toggle(tr.t("map.tiles_toggle"), key="street_tiles", value=False)
    st.caption(tr.t("map.tiles_privacy", host=server.host))
    return server if on else None


@st.cache_resource(show_spinner=False)
def _land() -> dict[str, Any] | None:
    """Land around the eight countries (read once per process), or None if absent."""
    from rcm_map.core.boundaries import neighbour_land

    try:
        return neighbour_land()
    except (OSError, ValueError):
        return None


def take_geolocation() -> tuple[float, float] | None:
    """The browser's position from the last run, once (for the place box). It is
    held in the session only, like a map click, and never logged."""
    point = st.session_state.pop(GEO_POINT, None)
    return point if isinstance(point, tuple) else None


def use_my_location(tr: Translator) -> None:
    """The "use my location" button: asks the browser only after this click."""
    if st.button(tr.t("start.use_location"), key="geo_button", icon=":material/my_location:"):
        # A new component key per click: the browser is asked again, never answered
        # from an earlier click's value.
        st.session_state[GEO_PENDING] = st.session_state.get("geo_asks", 0) + 1
        st.session_state["geo_asks"] = st.session_state[GEO_PENDING]
    asked = st.session_state.get(GEO_PENDING)
    if not asked:
        return
    from streamlit_js_eval import get_geolocation

    answer = get_geolocation(component_key=f"geo_fix_{asked}")
    if not isinstance(answer, dict):
        st.caption(tr.t("start.locating"))
        return
    st.session_state.pop(GEO_PENDING, None)
    coords = answer.get("coords") or {}
    try:
        point = parse_lat_lon(f"{coords.get('latitude')}, {coords.get('longitude')}")
    except ValueError:
        st.warning(tr.t("start.location_failed"))
        return
    st.session_state[GEO_POINT] = (round(point[0], 5), round(point[1], 5))
    st.rerun()
