"""The result list as cards, the ways out of an empty list, and the first screen.

Widgets only: the cards' HTML comes from `rcm_map.render.cards`, the ways out from
`rcm_map.search.deadends`. A card's "Show on map" button and a click on a marker both
set the one selected service (`SELECTED_KEY`), which the map highlights and the
list outlines. The tick boxes choose services for the referral sheet (`PICKED_KEY`).

A card's widgets are keyed by its place in the list, not by its service: after a
filter change the browser updates the ten cards' buttons and tick boxes in place
instead of removing twenty widgets and mounting twenty new ones (~30 ms of a
filter change, bench/README.md). What a tick box means is kept by service in
`PICKED_KEY` and written into the box each run, so a tick follows its service
wherever the list moves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from rcm_map.core.i18n import Translator
from rcm_map.render import cards
from rcm_map.search import deadends
from rcm_map.search.query import Query, SearchResult
from rcm_map.search.urlstate import RADIUS_CHOICES_KM

SELECTED_KEY = "selected_service"
PAGE_KEY = "cards_shown"  # how many cards the list shows (grows by CARDS_PAGE)
CARDS_PAGE = 10
SHOWN_KEY = "shown_services"  # (id, lat, lon, name) of the cards on screen
PICK_PREFIX = "pick_"
PICKED_KEY = "picked_services"  # ids ticked for the referral sheet, kept across filters
MAX_RELAXATIONS = 3  # filters offered to drop when results are few


def _select(service_id: str) -> None:
    st.session_state[SELECTED_KEY] = service_id


def _pick(service_id: str, key: str) -> None:
    """The tick box `key`, showing `service_id`, was (un)ticked."""
    picked = set(st.session_state.get(PICKED_KEY, ()))
    if st.session_state.get(key):
        picked.add(service_id)
    else:
        picked.discard(service_id)
    st.session_state[PICKED_KEY] = frozenset(picked)


def selected_id(located: pd.DataFrame) -> str | None:
    """The service selected in the list or on the map, if it is among `located`."""
    chosen = st.session_state.get(SELECTED_KEY)
    return chosen if chosen is not None and chosen in set(located["id"]) else None


def service_at_click(
    clicked: Any, tooltip: Any, shown: Sequence[tuple[str, float, float, str]]
) -> str | None:
    """The service whose marker was clicked: by its name (the marker's tooltip),
    the nearest one when names repeat; None when nothing on screen matches.

    Markers spread out from a shared city centre are not at their data point,
    hence the name first and the position only to break ties.
    """
    if not isinstance(clicked, Mapping):
        return None
    lat, lon = clicked.get("lat"), clicked.get("lng")
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return None
    named = [row for row in shown if isinstance(tooltip, str) and row[3] == tooltip.strip()]
    pool = named or list(shown)
    if not pool:
        return None
    best = min(pool, key=lambda r: (r[1] - lat) ** 2 + (r[2] - lon) ** 2)
    if not named and (best[1] - lat) ** 2 + (best[2] - lon) ** 2 > 1e-6:
        return None
    return best[0]


def _show_more(count: int) -> None:
    st.session_state[PAGE_KEY] = count


def show_cards(tr: Translator, located: pd.DataFrame, wanted_types: Sequence[str]) -> list[str]:
    """The located results as cards; returns the ids ticked for the referral sheet.

    The first `CARDS_PAGE` cards, then a button for the next ones (every card is
    four page elements, the browser's largest cost at first open, and a long list
    is a long scroll on a phone); a service selected on the map is always shown.
    Every result stays on the map.
    """
    records = cards.ordered_records(located, wanted_types)
    st.session_state[SHOWN_KEY] = [
        (str(r["id"]), float(r["lat"]), float(r["lon"]), str(r["name"])) for r in records]
    chosen_id = selected_id(located)
    ids = [str(r["id"]) for r in records]
    at = ids.index(chosen_id) if chosen_id is not None else None
    outline = (f".st-key-card_{at}{{outline:3px solid #d00000;outline-offset:2px}}"
               if at is not None else "")
    st.html(cards.style_tag(outline))
    today = dt.date.today()
    ticked = st.session_state.get(PICKED_KEY, frozenset())
    picked = []
    count = int(st.session_state.get(PAGE_KEY, CARDS_PAGE))
    if at is not None:
        count = max(count, at + 1)
    for i, (service_id, row) in enumerate(zip(ids[:count], records, strict=False)):
        with st.container(border=True, key=f"card_{i}"):
            st.html(cards.card_html(row, tr, today))
            st.button(tr.t("card.show_on_map"), key=f"show_{i}", on_click=_select,
                      args=(service_id,), icon=":material/location_on:",
                      type="primary" if i == at else "secondary")
            key = f"{PICK_PREFIX}{i}"
            if st.session_state.get(key) != (service_id in ticked):
                # the box shows this service's tick (written only when it differs: a
                # value written from here is re-applied by the browser on each run)
                st.session_state[key] = service_id in ticked
            st.checkbox(tr.t("card.pick"), key=key, on_change=_pick, args=(service_id, key))
            if service_id in ticked:
                picked.append(service_id)
    rest = len(records) - count
    if rest > 0:
        st.button(tr.plural("list.show_more", min(rest, CARDS_PAGE)), key="show_more_cards",
                  on_click=_show_more, args=(count + CARDS_PAGE,), icon=":material/expand_more:")
    return picked


def share_link(tr: Translator, params: dict[str, str]) -> None:
    """The link to this search (`params`, codes only), with a copy button, and one
    line saying what the link holds, in a popover: its code box (and the syntax
    highlighter Streamlit loads for it, ~0.4 s of the browser's time) is drawn only
    when asked for, not on every search."""
    base = st.context.url or ""
    if base and not urlsplit(base).path:
        base += "/"
    link = f"{base}?{urlencode(params)}"
    with st.popover(tr.t("share.button"), icon=":material/link:"):
        st.code(link, language=None, wrap_lines=True)
        st.caption(tr.t("share.caption"))


def help_lines(tr: Translator, lines: pd.DataFrame) -> None:
    """The help lines for the place, whatever the filters (`rcm_map.search.lines`)."""
    st.html(cards.lines_html(lines.to_dict("records"), tr))


def summary(tr: Translator, result: SearchResult) -> None:
    """How many services are listed, of how many matching, and country-wide."""
    st.markdown(" ".join((
        tr.plural("list.summary_shown", len(result.located)),
        tr.plural("list.summary_total", result.total_matching),
        tr.plural("list.summary_countrywide", len(result.countrywide)))))


# --------------------------------------------------------------------------- ways out


def _drop_filter(field: str) -> None:
    """Reset the widget(s) behind one filter (runs before the widgets are drawn)."""
    ss = st.session_state
    if field in ("age", "age_band"):
        ss["age_mode"] = "any"
    else:
        widget = {"service_types": "services"}.get(field, field)
        ss[widget] = []


def _set_radius(km: float) -> None:
    st.session_state["radius"] = km


def ways_out(tr: Translator, search: deadends.Search, query: Query, shown: int) -> None:
    """With few results: the filters that exclude most, farther matches, a wider radius.

    `search` is the store's search (a few more searches, only when this is shown).
    """
    if query.near is None or query.radius_km is None or shown >= deadends.FEW_RESULTS:
        return
    with st.container(border=True, key="ways_out"):
        st.markdown(f"**{tr.t('deadend.title')}**")
        # The filter that removes the most first; the others that would bring any
        # back too (the one that matters may be a smaller one: "with family").
        helpful = [r for r in deadends.relaxations(search, query) if r.gain > 0]
        for option in helpful[:MAX_RELAXATIONS]:
            label = tr.t(f"deadend.filter.{option.field}")
            st.write(tr.t("deadend.filter_gain_many", filter=label, n=tr.number(option.count, 0))
                     if option.capped else
                     tr.plural("deadend.filter_gain", option.count, filter=label))
            st.button(tr.t("deadend.drop", filter=label), key=f"drop_{option.field}",
                      on_click=_drop_filter, args=(option.field,))
        wider = deadends.next_radius(query.radius_km, RADIUS_CHOICES_KM)
        if wider is not None:
            st.button(tr.t("deadend.widen", km=tr.number(wider, 0)), key="widen_radius",
                      on_click=_set_radius, args=(float(wider),))
        farther = deadends.beyond_radius(search, query)
        if farther.empty:
            st.caption(tr.t("deadend.nothing_beyond"))
            return
        st.markdown(tr.t("deadend.beyond", km=tr.number(query.radius_km, 0)))
        today = dt.date.today()
        for row in farther.to_dict("records"):
            with st.container(border=True):
                st.html(cards.card_html(row, tr, today, kind="beyond"))


# --------------------------------------------------------------------------- first screen


def first_screen(tr: Translator) -> None:
    """Before a place is chosen: the three ways to choose one, and no results."""
    st.info(tr.t("start.choose_place"))


def countrywide_cards(tr: Translator, result: SearchResult) -> None:
    """Services without a place that apply where the child is (hotlines, programmes)."""
    st.subheader(tr.t("list.countrywide"))
    rows = result.countrywide
    if rows.empty:
        st.caption(tr.t("list.countrywide_none"))
        return
    today = dt.date.today()
    for row in rows.to_dict("records"):
        with st.container(border=True):
            st.html(cards.card_html(row, tr, today, kind="countrywide"))
