"""How values read in words, in one place: cells, ages, distances and numbers per language.

Used by the map popups (`rcm_map.render.mappayload`), the result cards, the referral
sheet (HTML and PDF), the Excel workbook and the command line, so an age range or a
distance reads the same everywhere. The words come from the locale catalogues through
a `Translator`; numbers go through Babel (`Translator.number` / `Translator.km`: "3.2 km"
in English, "3,2 km" in Spanish and French); codes never reach a reader. Whether an
entry was verified, and when, is worded by `rcm_map.core.freshness` alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from rcm_map.core.i18n import Translator, catalogue
from rcm_map.core.safety import DISTANCE_BANDS, distance_band, distance_band_label
from rcm_map.core.schema import LANGUAGES_UI

_BAND_CODES = {code for code, _, _ in DISTANCE_BANDS}


def catalogue_section(prefix: str) -> dict[str, dict[str, str]]:
    """Strings under `prefix` in each interface language's catalogue, keys without it."""
    return {lang: {key.removeprefix(prefix): text for key, text in catalogue(lang).items()
                   if key.startswith(prefix)} for lang in LANGUAGES_UI}


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


def address_text(row: Mapping[str, Any]) -> str:
    """'Calle 1, Tapachula': the street address, then the city unless the address already
    names it. A confidential service's street address is never shown: only its city."""
    city = cell_text(row.get("city"))
    confidential = cell_text(row.get("location_precision")) == "confidential"
    street = "" if confidential else cell_text(row.get("address"))
    if city and city.casefold() in street.casefold():
        return street
    return ", ".join(t for t in (street, city) if t)


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
    text = tr.km(float(km))
    return f"≈ {text}" if precision == "city" else text
