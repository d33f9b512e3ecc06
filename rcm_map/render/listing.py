"""What the results list shows: display rows built from search results (pure).

The UI renders these frames with ``st.dataframe`` (plain text cells, so registry
text is never interpreted as HTML or markdown). Confidential services show only
their distance band, never the exact distance, so no one can locate them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from rcm_map.core.i18n import Translator
from rcm_map.render import formatting

DISPLAY_COLUMNS = ("distance", "name", "services", "ages", "phone")
COUNTRYWIDE_COLUMNS = ("country", "name", "services", "ages", "phone")


# Ages, bands and distances read the same in the list, the sheet and the workbook.
age_text = formatting.age_text
distance_text = formatting.distance_text


def band_text(band: Any, lang: str) -> str:
    """Display text of a distance band code such as ``5_10`` ('5-10 km')."""
    return formatting.band_text(band, Translator(lang))


def _phones(value: Any) -> str:
    return " / ".join(str(p) for p in value) if isinstance(value, (list, tuple)) else ""


def result_rows(located: pd.DataFrame, tr: Translator) -> pd.DataFrame:
    """The located results as display rows, indexed by service id, in search order."""
    rows = [
        {
            "id": row["id"],
            "distance": distance_text(row, tr) if "distance_km" in located.columns else "",
            "name": row["name"],
            "organization": row.get("organization", ""),
            "services": ", ".join(tr.labels("service_types", row["service_types"])),
            "ages": age_text(row.get("age_min"), row.get("age_max"), tr),
            "phone": _phones(row.get("phones")),
            "city": row.get("city", ""),
        }
        for row in located.to_dict("records")
    ]
    columns = ["id", *DISPLAY_COLUMNS, "organization", "city"]
    return pd.DataFrame(rows, columns=columns).set_index("id")


def countrywide_rows(countrywide: pd.DataFrame, tr: Translator) -> pd.DataFrame:
    """Services without a place (hotlines, national programmes), by country."""
    rows = [
        {
            "id": row["id"],
            "country": tr.label("country", row["country"]),
            "name": row["name"],
            "services": ", ".join(tr.labels("service_types", row["service_types"])),
            "ages": age_text(row.get("age_min"), row.get("age_max"), tr),
            "phone": _phones(row.get("phones")),
        }
        for row in countrywide.to_dict("records")
    ]
    return pd.DataFrame(rows, columns=["id", *COUNTRYWIDE_COLUMNS]).set_index("id")


def selected_ids(rows: Sequence[int], ids: Sequence[str]) -> list[str]:
    """Ids of the selected table rows (row positions from ``st.dataframe``), ignoring
    positions that no longer exist."""
    return [ids[r] for r in rows if isinstance(r, int) and 0 <= r < len(ids)]


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
