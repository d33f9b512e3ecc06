"""Place names to draw on the offline map, by zoom level (pure).

Without street tiles the map needs names to say where things are: cities from
country zoom, towns as one zooms in near the search. Each label carries the
lowest zoom at which it shows (`min_zoom`, from its population); the browser
(``js/markers.js``) hides labels below that zoom and drops any that would
overlap a bigger place's label. Names come from the bundled GeoNames gazetteer
(CC BY 4.0; credited on the page).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# (population at least, lowest zoom at which the name shows), largest first.
ZOOM_BY_POPULATION: tuple[tuple[int, int], ...] = (
    (1_000_000, 4), (300_000, 5), (100_000, 6), (50_000, 7), (20_000, 8),
    (10_000, 9), (5_000, 10), (2_000, 11), (0, 12),
)
NEAR_MARGIN_DEG = 1.0  # towns are sent for the view grown by this much
WIDE_MARGIN_DEG = 6.0  # cities (min zoom <= 7) for the view grown by this much
MAX_LABELS = 1500  # bounds the payload (~60 kB) whatever the view


def min_zoom(population: np.ndarray) -> np.ndarray:
    """The lowest zoom at which a place of each population is labelled."""
    out = np.full(len(population), ZOOM_BY_POPULATION[-1][1], dtype=np.int64)
    for threshold, zoom in reversed(ZOOM_BY_POPULATION):
        out[population >= threshold] = zoom
    return out


def _inside(lat: np.ndarray, lon: np.ndarray, bounds: Sequence[Sequence[float]],
            margin: float) -> np.ndarray:
    (south, west), (north, east) = bounds
    return ((lat >= south - margin) & (lat <= north + margin)
            & (lon >= west - margin) & (lon <= east + margin))


def place_labels(gazetteer: Any, bounds: Sequence[Sequence[float]] | None) -> list[list[Any]]:
    """Labels ``[name, lat, lon, min_zoom]`` for a map showing `bounds`
    (``[[south, west], [north, east]]``; None: the whole gazetteer's cities).

    Towns come for the view plus `NEAR_MARGIN_DEG`, cities for a wider area, at
    most `MAX_LABELS`, biggest first (the order the browser places them in).
    """
    names, lat, lon, pop = gazetteer.points()
    zoom = min_zoom(pop)
    if bounds is None:
        keep = zoom <= 6
    else:
        keep = _inside(lat, lon, bounds, NEAR_MARGIN_DEG) | (
            (zoom <= 7) & _inside(lat, lon, bounds, WIDE_MARGIN_DEG))
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(-pop[rows], kind="stable")][:MAX_LABELS]
    return [[names[i], y, x, z] for i, y, x, z in zip(
        rows.tolist(), np.round(lat[rows], 4).tolist(), np.round(lon[rows], 4).tolist(),
        zoom[rows].astype(int).tolist(), strict=True)]
