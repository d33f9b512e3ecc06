"""Rows of the results list: distances (bands for confidential services), labels, ages."""

from __future__ import annotations

import pytest

from rcm_map.core.i18n import Translator
from rcm_map.registry import load_registry
from rcm_map.render import listing
from rcm_map.search.query import Query, search

TAPACHULA = (14.90541, -92.25891)


@pytest.fixture
def result(small_path):
    """Everything in small.geojson, searched from Tapachula."""
    return search(load_registry(small_path), Query(near=TAPACHULA))


def test_rows_follow_search_order_and_ids(result):
    rows = listing.result_rows(result.located, Translator("es"))
    assert list(rows.index) == list(result.located["id"])
    assert list(rows.columns[:5]) == list(listing.DISPLAY_COLUMNS)


def test_confidential_rows_show_only_a_band(result):
    rows = listing.result_rows(result.located, Translator("en"))
    secret = rows.loc["mex-tap-secret", "distance"]
    band = result.located.set_index("id").loc["mex-tap-secret", "distance_band"]
    assert secret == listing.band_text(band, "en")
    assert secret.endswith("km") and secret[0] in "<>0123456789"
    assert "_" not in secret  # a label, never the band code
    km = result.located.set_index("id").loc["mex-tap-secret", "distance_km"]
    assert f"{km:.1f}" not in secret


def test_city_centre_distances_are_marked_approximate(result):
    rows = listing.result_rows(result.located, Translator("en"))
    assert rows.loc["mex-tap-shelter", "distance"].startswith("≈ ")
    assert not rows.loc["mex-tap-dif", "distance"].startswith("≈")


def test_band_text():
    assert listing.band_text("5_10", "en") == "5-10 km"
    assert listing.band_text("< 5 km", "en") == "< 5 km"
    assert listing.band_text(None, "en") == ""


def test_labels_in_the_language(result):
    es = listing.result_rows(result.located, Translator("es"))
    fr = listing.result_rows(result.located, Translator("fr"))
    assert es.loc["mex-tap-shelter", "services"].startswith("Albergue")
    assert fr.loc["mex-tap-shelter", "services"].startswith("Hébergement")
    assert es.loc["mex-tap-shelter", "ages"] == "12-17 años"
    assert es.loc["mex-tap-dif", "ages"] == "Todas las edades"
    assert "," in es.loc["mex-tap-dif", "distance"]  # decimal comma in Spanish


def test_countrywide_rows(small_path):
    # Country-wide services follow the country of the search point (Tegucigalpa here).
    result = search(load_registry(small_path), Query(near=(14.07, -87.19)))
    rows = listing.countrywide_rows(result.countrywide, Translator("en"))
    assert list(rows.index) == ["hnd-countrywide"]
    assert rows.loc["hnd-countrywide", "country"] == "Honduras"
    assert rows.loc["hnd-countrywide", "ages"] == "0-17 years"


def test_selected_ids_ignore_stale_rows():
    assert listing.selected_ids([1, 5, -1, "x"], ["a", "b"]) == ["b"]


def test_export_rows_are_the_list_rows(small_path):
    result = search(load_registry(small_path), Query())
    assert len(result.countrywide) == 1
    rows = listing.results_for_export(result.located, result.countrywide)
    assert list(rows["id"]) == [*result.located["id"], *result.countrywide["id"]]


def test_age_text_open_ranges():
    tr = Translator("en")
    assert listing.age_text(12, None, tr) == "12 years and over"
    assert listing.age_text(None, 11, tr) == "0-11 years"


def test_place_label():
    assert listing.place_label("Tapachula", "Chiapas", "MEX", Translator("en")) == (
        "Tapachula, Chiapas (Mexico)")
