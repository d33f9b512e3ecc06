"""Top layer: the Streamlit pages (search, coverage, about, focal points). The only
package besides `app.py` that imports streamlit.

May import every layer except `rcm_map.cli`.
"""
