"""rcm_map Streamlit app (placeholder until the app issue lands)."""

import streamlit as st

st.title("rcm_map")
