"""Layer 3: finding things. `query` filters and ranks services around a point,
`gazetteer` resolves place names, `boundaries` answers which country or province holds
a point, `coverage` counts services per province, `urlstate` turns a search into a link
and back.

May import `rcm_map.core` and `rcm_map.registry`.
"""
