"""The floor of bench/app_browser.py: what Streamlit and streamlit-folium cost alone.

The search page's map (the same code, `rcm_map.ui.search_map.show_map`) and its first
ten result cards (`rcm_map.render.cards`), under one "Service types" multiselect: no
place box, no other filter, no buttons on the cards, no help lines, no downloads, no
sidebar. The app cannot be faster than this page on the same machine, so the bench
reports it beside each figure: what is above it is ours to cut.
"""

import datetime as dt

import streamlit as st

from rcm_map.core import schema
from rcm_map.render import cards
from rcm_map.search.urlstate import decode
from rcm_map.ui import common, search_map

st.set_page_config(page_title="rcm_map floor", layout="wide")
tr = common.start_session()
source = common.read_source(tr)
st.multiselect(tr.t("search.services"), list(schema.SERVICE_TYPES), key="services",
               format_func=lambda c: tr.label("service_types", c))
state = decode(st.query_params.to_dict()).state.with_(
    services=tuple(st.session_state.get("services", ())))
result = source.search(state.to_query())
left, right = st.columns([3, 2])
with left:
    search_map.show_map(tr, state, result, None, lambda: None)
with right:
    st.html(cards.style_tag(""))
    today = dt.date.today()
    for row in cards.ordered_records(result.located, state.services)[:10]:
        st.html(cards.card_html(row, tr, today))
