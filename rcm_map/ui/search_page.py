"""Search page: find services near a child, on a map and in a list, and export them.

Widgets only; the logic lives in `rcm_map.search.urlstate` (state <-> URL, map clicks),
`rcm_map.search.query` (search), `rcm_map.render.listing` (rows shown), `rcm_map.render.mapping`
(the map); the download area is `rcm_map.ui.downloads`. The searched
place is never logged or written anywhere but the user's own URL.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from rcm_map.core import schema, settings
from rcm_map.core.geo import parse_lat_lon
from rcm_map.core.i18n import Translator
from rcm_map.render.placechoice import choice_label, post_note
from rcm_map.search.lines import help_lines, lines_query
from rcm_map.search.query import Query, SearchResult
from rcm_map.search.urlstate import (
    LIMIT_CHOICES,
    PARAMS,
    RADIUS_CHOICES_KM,
    SearchState,
    click_point,
    decode,
    encode,
)
from rcm_map.store.reading import Facets
from rcm_map.ui import common, results_view, search_map
from rcm_map.ui.downloads import render_downloads

MAX_PLACE_MATCHES = 8
STATE_KEY = "search_state"
POINT_KEY = "search_point"
CLICK_KEY = "last_click"
LOOKUP_KEY = "_place_lookup"  # (text, countries, lang), finder, its answer: this session's
AGE_MODES = ("any", "age", "band")
DEFAULT_AGE = 12


# --------------------------------------------------------------------------- state


def _place_lookup(text: str) -> Any | None:
    """`rcm_map.search.placefinder` candidates for a typed place (None for coordinates).

    The search's country filter and the interface language only break ties
    between namesakes; they never hide a place.
    """
    text = text.strip()
    if common.gazetteer() is None or not text or _as_coordinates(text) is not None:
        return None
    ss = st.session_state
    finder = common.place_finder()
    key = (text, tuple(ss.get("countries", ())), ss.get(common.LANG_KEY))
    # A rerun asks several times for the same text; the ranking counts the services
    # near each candidate (a scan of the registry): asked once per text, per session.
    memo = ss.get(LOOKUP_KEY)
    if memo is not None and memo[0] == key and memo[1] is finder:
        return memo[2]
    found = finder.find(text, prefer_countries=key[1], lang=key[2], limit=MAX_PLACE_MATCHES)
    ss[LOOKUP_KEY] = (key, finder, found)
    return found


def _place_matches(text: str) -> list[Any]:
    """Candidate places of a typed place, best first (empty for coordinates)."""
    found = _place_lookup(text)
    return [c.place for c in found.candidates] if found is not None else []


def _as_coordinates(text: str) -> tuple[float, float] | None:
    try:
        return parse_lat_lon(text)
    except ValueError:
        return None


def _coords_text(point: tuple[float, float]) -> str:
    return f"{point[0]:.5f}, {point[1]:.5f}"


def _nearest_match(matches: list[Any], point: tuple[float, float] | None) -> int:
    if not matches or point is None:
        return 0
    return min(range(len(matches)),
               key=lambda i: (matches[i].lat - point[0]) ** 2 + (matches[i].lon - point[1]) ** 2)


def _apply_state(state: SearchState, force: bool) -> None:
    """Put `state` into the widgets (all of them when `force`, else only missing ones)."""
    ss = st.session_state
    point = state.point
    place = state.place or (_coords_text(point) if point else "")
    if point is None and place:
        coords = _as_coordinates(place)
        matches = _place_matches(place)
        point = coords or ((matches[0].lat, matches[0].lon) if matches else None)
    mode = "age" if state.age is not None else "band" if state.age_band else "any"
    values = {
        "place_text": place,
        "place_choice": _nearest_match(_place_matches(place), point),
        "age_mode": mode, "age": state.age if state.age is not None else DEFAULT_AGE,
        "band": state.age_band or next(iter(schema.AGE_BANDS)),
        "services": list(state.services), "populations": list(state.populations),
        "languages": list(state.languages), "countries": list(state.countries),
        "admin1": list(state.admin1), "radius": state.radius_km, "limit": state.limit,
    }
    for key, value in values.items():
        if force or key not in ss:
            ss[key] = value
    if force or POINT_KEY not in ss:
        ss[POINT_KEY] = point


def _canonical(params: dict[str, str]) -> dict[str, str]:
    return encode(decode(params).state.with_(lang=None))


def load_state() -> None:
    """Restore the search from the URL on arrival, else keep the session's own."""
    params = st.query_params.to_dict()
    saved: SearchState | None = st.session_state.get(STATE_KEY)
    has_search = any(k in params for k in PARAMS if k != "lang")
    if saved is None or (has_search and _canonical(params) != encode(saved.with_(lang=None))):
        decoded = decode(params)
        _apply_state(decoded.state, force=True)
        st.session_state["url_dropped"] = [(d.param, d.value) for d in decoded.dropped]
        st.session_state[STATE_KEY] = decoded.state
    else:
        _apply_state(saved, force=False)


def current_state(lang: str) -> SearchState:
    """The search the widgets describe now."""
    ss = st.session_state
    point = ss.get(POINT_KEY)
    mode = ss.get("age_mode", "any")
    return SearchState(
        place=str(ss.get("place_text", "")).strip(),
        lat=point[0] if point else None, lon=point[1] if point else None,
        radius_km=float(ss.get("radius", 50)), limit=int(ss.get("limit", 25)),
        age=int(ss["age"]) if mode == "age" and ss.get("age") is not None else None,
        age_band=ss.get("band") if mode == "band" else None,
        services=tuple(ss.get("services", ())), populations=tuple(ss.get("populations", ())),
        languages=tuple(ss.get("languages", ())), countries=tuple(ss.get("countries", ())),
        admin1=tuple(ss.get("admin1", ())), lang=lang,
    )


def save_state(state: SearchState) -> None:
    """Remember the search in the session and in the URL (codes only)."""
    st.session_state[STATE_KEY] = state
    wanted = encode(state)
    if not settings.get(settings.SEARCH_IN_URL_ENV):  # the address keeps the language only
        wanted = {k: v for k, v in wanted.items() if k == "lang"}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


# --------------------------------------------------------------------------- callbacks


def _on_place_text() -> None:
    text = str(st.session_state.get("place_text", "")).strip()
    coords = _as_coordinates(text)
    if coords is not None or not text:
        st.session_state[POINT_KEY] = coords
        return
    matches = _place_matches(text)
    st.session_state["place_choice"] = 0
    st.session_state[POINT_KEY] = (matches[0].lat, matches[0].lon) if matches else None


def _on_place_choice() -> None:
    matches = _place_matches(str(st.session_state.get("place_text", "")))
    index = st.session_state.get("place_choice", 0)
    if matches and isinstance(index, int) and 0 <= index < len(matches):
        st.session_state[POINT_KEY] = (matches[index].lat, matches[index].lon)


def _on_map_change() -> None:
    """A click on the map sets the search point (and writes it in the place box);
    a click on a marker selects its service in the list."""
    value = st.session_state.get(search_map.MAP_KEY) or {}
    point = click_point(value.get("last_clicked"), st.session_state.get(CLICK_KEY))
    if point is None:
        search_map.select_clicked_marker(value)
        return
    st.session_state[CLICK_KEY] = point
    st.session_state[POINT_KEY] = point
    st.session_state["place_text"] = _coords_text(point)


# --------------------------------------------------------------------------- widgets


def _take_geolocation() -> None:
    """The browser's position from "use my location", once, as the search point."""
    point = search_map.take_geolocation()
    if point is not None:
        st.session_state[POINT_KEY] = point
        st.session_state["place_text"] = _coords_text(point)


def _where(tr: Translator) -> None:
    st.text_input(tr.t("search.place"), key="place_text", on_change=_on_place_text,
                  placeholder=tr.t("search.place_placeholder"), help=tr.t("search.place_help"))
    text = str(st.session_state.get("place_text", ""))
    found = _place_lookup(text)
    matches = [c.place for c in found.candidates] if found is not None else []
    if matches:
        point = st.session_state.get(POINT_KEY)
        at_point = [i for i, m in enumerate(matches) if point and (m.lat, m.lon) == tuple(point)]
        if at_point:
            # the order of namesakes follows the country filter: keep showing the place
            # the search is around, wherever it moved in the list
            st.session_state["place_choice"] = at_point[0]
        elif st.session_state.get("place_choice", 0) >= len(matches):
            st.session_state["place_choice"] = 0
        st.selectbox(
            tr.t("search.place_matches", n=len(matches)), options=list(range(len(matches))),
            key="place_choice", format_func=lambda i: choice_label(matches[i], tr),
            on_change=_on_place_choice,
        )
        taken = matches[int(st.session_state.get("place_choice", 0))]
        label = choice_label(taken, tr)
        if found is not None and found.suggestion:
            st.caption(tr.t("search.place_did_you_mean", place=found.suggestion))
        others = max(len(matches), found.total if found is not None else 0) - 1
        st.caption(tr.t("search.place_taken", place=label) + (
            " " + tr.plural("search.place_others", others) if others else ""))
        note = post_note(taken, tr)  # a post: its exact point is not known
        if note:
            st.caption(note)
    elif text.strip() and _as_coordinates(text) is None:
        st.warning(tr.t("search.place_not_found"))
    search_map.use_my_location(tr)


def _who(tr: Translator) -> None:
    st.radio(tr.t("search.age_mode"), AGE_MODES, key="age_mode", horizontal=True,
             format_func=lambda m: tr.t(f"search.age_mode.{m}"))
    mode = st.session_state.get("age_mode")
    if mode == "age":
        st.number_input(tr.t("search.age"), min_value=schema.AGE_LIMITS[0],
                        max_value=schema.AGE_LIMITS[1], step=1, key="age")
    elif mode == "band":
        st.selectbox(tr.t("search.band"), list(schema.AGE_BANDS), key="band",
                     format_func=lambda b: tr.t("search.band_label", band=b))


def _what(tr: Translator, reg: Facets) -> None:
    st.multiselect(tr.t("search.services"), list(schema.SERVICE_TYPES), key="services",
                   format_func=lambda c: tr.label("service_types", c),
                   placeholder=tr.t("search.any"))


def _more_filters(tr: Translator, reg: Facets) -> None:
    st.multiselect(tr.t("search.populations"), list(schema.POPULATIONS), key="populations",
                   format_func=lambda c: tr.label("populations", c),
                   placeholder=tr.t("search.any"))
    spoken = sorted(set(reg.languages) | set(st.session_state.get("languages", [])))
    st.multiselect(tr.t("search.languages"), spoken, key="languages",
                   format_func=tr.language, placeholder=tr.t("search.any"))
    with st.container(horizontal=True, gap="medium"):  # one block, not a row of columns
        options = sorted({*RADIUS_CHOICES_KM, float(st.session_state.get("radius", 50))})
        st.select_slider(tr.t("search.radius"), options=options, key="radius",
                         format_func=lambda km: f"{km:g} km")
        options = sorted({*LIMIT_CHOICES, int(st.session_state.get("limit", 25))})
        st.select_slider(tr.t("search.limit"), options=options, key="limit")


def _network_filters(tr: Translator, reg: Facets) -> None:
    with st.expander(tr.t("search.network"), expanded=bool(
            st.session_state.get("countries") or st.session_state.get("admin1"))):
        st.multiselect(tr.t("search.countries"), list(schema.COUNTRIES), key="countries",
                       format_func=lambda c: tr.label("country", c),
                       placeholder=tr.t("search.any"))
        names = admin1_names(reg)
        chosen = st.session_state.get("countries") or []
        options = sorted(code for code, (country, _) in names.items()
                         if not chosen or country in chosen)
        options += [c for c in st.session_state.get("admin1", []) if c not in options]
        st.multiselect(tr.t("search.admin1"), options, key="admin1",
                       format_func=lambda c: f"{names.get(c, ('', c))[1]} ({c})",
                       placeholder=tr.t("search.any"))


@st.cache_resource(show_spinner=False)
def _admin1_names_cached(codes: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    try:
        from rcm_map.core.boundaries import admin1_units

        out = {u.code: (u.country, u.name) for u in admin1_units()}
    except (OSError, ValueError):  # the data file is missing or unreadable
        out = {}
    by_iso2 = {v: k for k, v in schema.ISO2_BY_ISO3.items()}
    for code in codes:
        out.setdefault(code, (by_iso2.get(code[:2], ""), code))
    return out


def admin1_names(reg: Facets) -> dict[str, tuple[str, str]]:
    """Admin-1 code -> (country, name) for the filter (boundaries, else registry codes)."""
    codes = tuple(sorted({c for c in reg.admin1 if isinstance(c, str) and c}))
    return _admin1_names_cached(codes)


# --------------------------------------------------------------------------- results


def _report_selected(tr: Translator, result: SearchResult, service_id: str) -> None:
    """The report-a-problem form for the service last selected in the list."""
    from rcm_map.ui.report import report_problem_widget

    names = result.located.loc[result.located["id"] == service_id, "name"]
    if names.empty:
        return
    st.text(tr.t("report.for_service", name=names.iloc[0]))  # st.text: the name stays literal
    report_problem_widget(service_id)


LINES_KEY = "help_lines"  # (registry stamp, lines query) -> lines, this session's last


def _help_lines(tr: Translator, source: Any, query: Query) -> pd.DataFrame:
    """The help lines at the query's point, whatever its filters: searched again
    only when the place, radius, countries or registry change (not on a filter change)."""
    wanted = lines_query(query)
    if wanted is None:
        return pd.DataFrame()
    key = (common.guarded(tr, source.stamp), wanted)
    kept = st.session_state.get(LINES_KEY)
    if kept is None or kept[0] != key:
        kept = (key, help_lines(common.guarded(tr, lambda: source.search(wanted)), wanted.near))
        st.session_state[LINES_KEY] = kept
    return kept[1]


def _chosen_place() -> Any | None:
    """The gazetteer place the search is around (None for coordinates or a map click)."""
    matches = _place_matches(str(st.session_state.get("place_text", "")))
    index = st.session_state.get("place_choice", 0)
    if not matches or not isinstance(index, int) or not 0 <= index < len(matches):
        return None
    return matches[index]


def _place_name(tr: Translator) -> str | None:
    """The chosen gazetteer place in words, for the referral sheet (None for coordinates)."""
    place = _chosen_place()
    return None if place is None else choice_label(place, tr)


# --------------------------------------------------------------------------- page


def render() -> None:
    """The search page."""
    tr = common.translator()
    source = common.read_source(tr)  # the file, or PostGIS when a database is configured
    reg = common.guarded(tr, source.facets)
    st.title(tr.t("search.title"))
    st.warning(tr.t("notice.verify_short"), icon=":material/warning:")
    load_state()
    for param, _value in st.session_state.pop("url_dropped", []):
        st.caption(tr.t("url.dropped", param=param))
    _take_geolocation()
    # The search is in the session already (the URL, a callback or the widgets' last
    # values), so the page is laid out first and the map is drawn before the filter
    # widgets: the browser starts loading the map's frame while it still mounts them.
    filters = st.container()
    state = current_state(tr.lang)
    save_state(state)
    if state.point is None:
        # An honest first screen: nothing is a result before there is a place.
        results_view.first_screen(tr)
        search_map.show_map(tr, state, None, None, _on_map_change)
        with filters:
            _filters(tr, reg)
        return
    query = state.to_query()
    try:
        result = common.guarded(tr, lambda: source.search(query))
    except ValueError:
        with filters:
            _filters(tr, reg)
        st.error(tr.t("error.query"))
        return
    head = st.container()
    map_col, list_col = st.columns([3, 2])
    selected = results_view.selected_id(result.located)
    with map_col:  # first: the map is what a person waits for
        place = _chosen_place()
        search_map.show_map(tr, state, result, selected, _on_map_change,
                            place_name=None if place is None else place.name)
    with list_col:  # then the list: the browser draws the page in the order it is sent
        # A few more searches, only when the list is thin (either store).
        results_view.ways_out(tr, lambda q: common.guarded(tr, lambda: source.search(q)),
                              query, len(result.located))
        chosen = results_view.show_cards(tr, result.located, state.services)
        if selected:
            _report_selected(tr, result, selected)
    with filters:  # the widgets keep their values meanwhile: they are in the session
        _filters(tr, reg)
    with head:
        results_view.summary(tr, result)
        lines = _help_lines(tr, source, query)
        results_view.help_lines(tr, lines)
        if settings.get(settings.SEARCH_IN_URL_ENV):  # else no link may hold a place
            results_view.share_link(tr, encode(state))
    results_view.countrywide_cards(tr, result)
    render_downloads(tr, result, chosen, state, _place_name(tr), lines)


def _filters(tr: Translator, reg: Facets) -> None:
    """The search's widgets: where, who, what, and the folded filters."""
    top = st.columns([2, 1, 2])
    with top[0]:
        _where(tr)
    with top[1]:
        _who(tr)
    with top[2]:
        _what(tr, reg)
    with st.expander(tr.t("search.more_filters"), expanded=False):
        _more_filters(tr, reg)
    _network_filters(tr, reg)
