"""A click on a marker selects its card: by the marker's name, position breaking ties."""

from __future__ import annotations

from rcm_map.ui.results_view import service_at_click

SHOWN = [("a", 14.905, -92.259, "Albergue Belén"), ("b", 14.905, -92.259, "Casa Hogar"),
         ("c", 14.677, -92.140, "Albergue Belén")]


def test_name_first_even_when_spread_out_from_a_shared_centre():
    spread = {"lat": 14.9056, "lng": -92.2591}  # markercluster moved it off the centre
    assert service_at_click(spread, "Casa Hogar", SHOWN) == "b"


def test_namesakes_resolved_by_position():
    assert service_at_click({"lat": 14.68, "lng": -92.14}, "Albergue Belén", SHOWN) == "c"
    assert service_at_click({"lat": 14.90, "lng": -92.26}, "Albergue Belén", SHOWN) == "a"


def test_without_a_name_only_an_exact_position_counts():
    assert service_at_click({"lat": 14.677, "lng": -92.140}, None, SHOWN) == "c"
    assert service_at_click({"lat": 10.0, "lng": -84.0}, None, SHOWN) is None


def test_garbage_is_ignored():
    assert service_at_click(None, "x", SHOWN) is None
    assert service_at_click({"lat": "x", "lng": 1}, "Casa Hogar", SHOWN) is None
    assert service_at_click({"lat": 1.0, "lng": 1.0}, "Casa Hogar", []) is None
