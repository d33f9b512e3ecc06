"""Layer 4: what a person sees, as HTML and map data with no Streamlit: the Folium map
(`mapping`, `choropleth`), the result list (`listing`), the referral sheet (`referral`)
and the browser assets the map serves itself (`assets`, `js/`).

May import `rcm_map.core`, `rcm_map.registry` and `rcm_map.search`.
"""
