"""The export rows of the results list, and place names in the list of place matches."""

from __future__ import annotations

from rcm_map.core.i18n import Translator
from rcm_map.registry import load_registry
from rcm_map.render import listing
from rcm_map.search.query import Query, search


def test_export_rows_are_the_list_rows(small_path):
    result = search(load_registry(small_path), Query())
    assert len(result.countrywide) == 1
    rows = listing.results_for_export(result.located, result.countrywide)
    assert list(rows["id"]) == [*result.located["id"], *result.countrywide["id"]]


def test_place_label():
    assert listing.place_label("Tapachula", "Chiapas", "MEX", Translator("en")) == (
        "Tapachula, Chiapas (Mexico)")
