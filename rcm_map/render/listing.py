"""The result list's rows for exports, and how a matching place is named (pure).

The list itself is the result cards (`rcm_map.render.cards`); its downloads take
their rows, in the list's order, from `results_for_export`.
"""

from __future__ import annotations

import pandas as pd

from rcm_map.core.i18n import Translator


def results_for_export(located: pd.DataFrame, countrywide: pd.DataFrame) -> pd.DataFrame:
    """Located results then country-wide ones: the rows of the list, in its order.

    Country-wide rows get empty ``lon``/``lat`` so exporters treat them as unplaced.
    """
    wide = countrywide.assign(lon=float("nan"), lat=float("nan"))
    if wide.empty:
        return located
    if located.empty:
        return wide.reset_index(drop=True)
    return pd.concat([located, wide], ignore_index=True)


def place_label(name: str, admin1: str, country: str, tr: Translator) -> str:
    """'Tapachula, Chiapas (México)' for the list of place matches."""
    where = ", ".join(p for p in (name, admin1) if p)
    return f"{where} ({tr.label('country', country)})"
