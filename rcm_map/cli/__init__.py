"""Top layer: the `rcm-map` command line (`main`).

May import every layer except `rcm_map.ui`.
"""
