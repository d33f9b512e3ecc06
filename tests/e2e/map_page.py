"""Tiny Streamlit page for the browser tests: one map from a hand-made frame.

Query parameters pick the data: ``?data=hostile`` fills every text field with
injection payloads, ``?data=many`` draws 200 generated services (clustered),
``?selected=<id>`` opens one, ``?lang=en`` switches the labels.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import streamlit as st
from e2e_frames import hostile_frame, many_frame, small_frame  # tests/e2e is on sys.path
from streamlit_folium import st_folium

from rcm_map.render.mapping import boundaries_payload, build_map

BOUNDARIES = Path(__file__).resolve().parents[2] / "data" / "admin_boundaries" / "admin1.geojson"


@st.cache_data
def boundaries() -> dict | None:
    """Admin-1 outlines as the offline base map, when the data is installed."""
    return boundaries_payload(gpd.read_file(BOUNDARIES)) if BOUNDARIES.is_file() else None


st.set_page_config(page_title="map test page", layout="wide")
kind = st.query_params.get("data", "small")
frame = {"hostile": hostile_frame, "many": many_frame}.get(kind, small_frame)()
selected = st.query_params.get("selected")
m = build_map(frame, center=(14.91, -92.26), radius_km=50, boundaries=boundaries(),
              lang=st.query_params.get("lang", "es"), selected_id=selected)
st_folium(m, key="map", height=520, use_container_width=True, returned_objects=[])
