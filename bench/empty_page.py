"""The baseline page of bench/app_browser.py: Streamlit showing only a title."""

import streamlit as st

st.title("rcm_map")
