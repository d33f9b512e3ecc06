"""How values read in words, in one place: cells, ages, distances and numbers per language.

Used by the referral sheet (HTML and PDF), the Excel workbook and the command line, so
an age range or a distance reads the same everywhere. The words come from the locale
catalogues through a `Translator`; codes never reach a reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from rcm_map.core.i18n import Translator
from rcm_map.core.safety import DISTANCE_BANDS, distance_band, distance_band_label

_BAND_CODES = {code for code, _ in DISTANCE_BANDS}


def is_missing(value: Any) -> bool:
    """True for None, NaN, pd.NA/NaT and empty or blank strings (lists are never missing)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, np.ndarray)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cell_text(value: Any) -> str:
    """A cell as display text ('' when missing)."""
    return "" if is_missing(value) else str(value).strip()


def cell_list(value: Any) -> list[str]:
    """A list cell as non-empty strings (accepts lists, arrays or 'a;b')."""
    if isinstance(value, str):
        items: Iterable[Any] = value.split(";")
    elif isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        items = list(value)
    else:
        items = []
    return [str(v).strip() for v in items if not is_missing(v)]


def age_text(age_min: Any, age_max: Any, tr: Translator, open_range: str | None = None) -> str:
    """'12-17 años', 'Desde 12 años', '0-17 años'; both limits missing gives `open_range`
    (the catalogue's "All ages" when None)."""
    lo = None if is_missing(age_min) else int(float(age_min))
    hi = None if is_missing(age_max) else int(float(age_max))
    if lo is None and hi is None:
        return tr.t("list.all_ages") if open_range is None else open_range
    if hi is None:
        return tr.t("list.age_from", lo=lo)
    return tr.t("list.age_range", lo=lo if lo is not None else 0, hi=hi)


def km_text(km: float, tr: Translator) -> str:
    """'3.2 km' (en) or '3,2 km' (es, fr); whole kilometres from 100 km."""
    return f"{tr.number(km, 1 if km < 100 else 0)} km"


def band_text(band: Any, tr: Translator) -> str:
    """A distance band code ('5_10') as text ('5-10 km'); other text as given."""
    text = cell_text(band)
    return distance_band_label(text, tr.lang) if text in _BAND_CODES else text


def distance_text(row: Mapping[str, Any], tr: Translator) -> str:
    """How far a service is: only a band for a confidential one, '≈ 3,2 km' when the
    point is its city's centre, else '3,2 km' ('' when unknown)."""
    precision = cell_text(row.get("location_precision"))
    km: Any = row.get("distance_km")
    if precision == "confidential":
        if not is_missing(row.get("distance_band")):
            return band_text(row.get("distance_band"), tr)
        return "" if is_missing(km) else band_text(distance_band(float(km)), tr)
    if is_missing(km):
        return ""
    text = km_text(float(km), tr)
    return f"≈ {text}" if precision == "city" else text
