"""Values in words, one module for the sheet, the workbook and the command line."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rcm_map.core.i18n import Translator
from rcm_map.render.formatting import (
    address_text,
    age_text,
    band_text,
    cell_list,
    cell_text,
    distance_text,
    is_missing,
)

ES, EN, FR = Translator("es"), Translator("en"), Translator("fr")


@pytest.mark.parametrize("value", [None, float("nan"), pd.NA, pd.NaT, "", "  "])
def test_missing_values(value: object) -> None:
    assert is_missing(value) and cell_text(value) == ""


def test_lists_are_never_missing_and_read_from_any_shape() -> None:
    assert not is_missing([]) and not is_missing(np.array([]))
    assert cell_list(["a", None, " b "]) == ["a", "b"]
    assert cell_list("a; b;") == ["a", "b"]
    assert cell_list(np.array(["x"], dtype=object)) == ["x"]
    assert cell_list(math.nan) == []


@pytest.mark.parametrize(("lo", "hi", "tr", "expected"), [
    (12, 17, ES, "12-17 años"), (12.0, None, EN, "12 years and over"), (None, 17, FR, "0-17 ans"),
    (None, None, EN, "All ages"), (pd.NA, float("nan"), ES, "Todas las edades"),
])
def test_ages_in_words(lo: object, hi: object, tr: Translator, expected: str) -> None:
    assert age_text(lo, hi, tr) == expected


def test_open_range_can_say_nothing() -> None:
    assert age_text(None, None, EN, open_range="") == ""


def test_distances() -> None:
    assert distance_text({"distance_km": 3.25}, ES) == "3,2 km"  # Babel: half to even
    assert distance_text({"distance_km": 1234.4}, EN) == "1,234 km"  # whole km from 100
    assert distance_text({"distance_km": 2.5, "location_precision": "address"}, FR) == "2,5 km"
    assert distance_text({"distance_km": 0.04, "location_precision": "city"}, EN) == "≈ 0.0 km"
    assert distance_text({"distance_km": 3.21, "distance_band": "lt_5",
                          "location_precision": "confidential"}, EN) == "< 5 km"
    assert distance_text({"distance_km": 7.0, "location_precision": "confidential"},
                         EN) == "5-10 km"
    assert distance_text({"location_precision": "city"}, EN) == ""
    assert band_text("not a band", EN) == "not a band"


def test_address_names_the_city_once_and_never_a_confidential_street() -> None:
    assert address_text({"address": "Calle 1", "city": "Tapachula"}) == "Calle 1, Tapachula"
    assert address_text({"address": "Calle 1, Tapachula", "city": "tapachula"}) == (
        "Calle 1, Tapachula")
    assert address_text({"city": "Tapachula"}) == "Tapachula"
    assert address_text({"address": "Calle Secreta 9", "city": "Tapachula",
                         "location_precision": "confidential"}) == "Tapachula"
    assert address_text({"address": float("nan"), "city": None}) == ""
