"""Layer 2: the registry of services in memory. `model` reads and validates the GeoJSON
file into a `Registry`; `cache` keeps a memory-mapped Arrow copy of it; `spatial` is its
point index; `recovery` checks a damaged file and finds the last good backup.

May import `rcm_map.core` only.
"""
