"""Place names for the offline map: by zoom level, near the view, biggest first."""

from __future__ import annotations

import numpy as np

from rcm_map.render.placelabels import MAX_LABELS, min_zoom, place_labels
from rcm_map.search.gazetteer import default_gazetteer

TAPACHULA_VIEW = [[14.6, -92.6], [15.2, -91.9]]


def test_bigger_places_show_from_lower_zooms():
    zooms = min_zoom(np.array([2_000_000, 353_706, 16_572, 7_026, 150]))
    assert list(zooms) == sorted(zooms)
    assert zooms[1] <= 5  # Tapachula: from country zoom
    assert zooms[3] <= 10  # Tuxtla Chico: when zoomed to the search area


def test_towns_near_the_view_and_cities_far_away():
    labels = place_labels(default_gazetteer(), TAPACHULA_VIEW)
    names = [label[0] for label in labels]
    for town in ("Tapachula", "Tuxtla Chico", "Cacahoatán", "Puerto Madero", "Ciudad Hidalgo"):
        assert town in names
    assert "Guatemala City" in names  # a city beyond the view, for context
    assert "Toronto" not in names  # far away: not sent
    pops = [default_gazetteer().search(n, limit=1)[0].population for n in names[:5]]
    assert pops == sorted(pops, reverse=True)
    assert len(labels) <= MAX_LABELS


def test_without_a_view_only_cities():
    labels = place_labels(default_gazetteer(), None)
    assert labels and all(label[3] <= 6 for label in labels)
