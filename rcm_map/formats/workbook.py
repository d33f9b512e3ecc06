"""Excel workbook of services for people: words in the user's language, links that open.

The CSV (`rcm_map.formats.export`) is the machine format: stable codes, the same in every
language. This workbook is for a caseworker or a partner office: every header and
value is in the interface language (vocabulary labels, admin-1 names, languages by
name, ages in words), phones, e-mails, websites and source pages are clickable
(``tel:``, ``mailto:``, ``https:``), and a second sheet says when it was made, what
was searched and that every entry must be verified before a referral.

Formula injection is prevented the way the file format allows: every text cell is
written as a string cell (``t="s"``), never a formula, whatever its first
character, so ``+52 962 ...`` keeps no leading quote and ``=HYPERLINK(...)`` is
shown as text. Control characters that XML cannot hold become U+FFFD.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from rcm_map.core.boundaries import admin1_units
from rcm_map.core.freshness import freshness_text
from rcm_map.core.i18n import Translator
from rcm_map.core.safety import mailto_href, safe_url, tel_href
from rcm_map.render.formatting import age_text, cell_list, cell_text, distance_text, is_missing
from rcm_map.render.referral import (
    Searched,
    public_rows,
    searched_entries,
    sheet_labels,
    source_url,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Columns before and after the phone columns (one per phone, as many as the most
# phones any row has, so each number is its own link).
COLUMNS_BEFORE = ("name", "organization", "organization_type", "services", "ages",
                  "populations", "country", "admin1", "city", "address", "location",
                  "distance")
COLUMNS_AFTER = ("email", "website", "hours", "referral", "languages", "cost", "notifies",
                 "verification", "source", "id")
WIDTHS = {"name": 40, "organization": 32, "services": 36, "address": 36, "hours": 24,
          "referral": 32, "verification": 36, "source": 40, "id": 30}
MAX_WIDTH = 60
_LINK_FONT = Font(color="0563C1", underline="single")


@cache
def _admin1_names() -> Mapping[str, str]:
    """Admin-1 code -> name from the bundled boundaries ({} when they are missing)."""
    try:
        return {u.code: u.name for u in admin1_units()}
    except (OSError, ValueError):
        return {}


def _distance(row: Mapping[str, Any], tr: Translator) -> float | str:
    """Kilometres as a number; a confidential service's band as text."""
    if cell_text(row.get("location_precision")) == "confidential":
        return distance_text(row, tr)  # only ever a band
    km: Any = row.get("distance_km")
    return "" if is_missing(km) else round(float(km), 1)


def _values(row: Mapping[str, Any], tr: Translator, admin1: Mapping[str, str],
            texts: Mapping[str, str], today: dt.date) -> dict[str, Any]:
    """One service's cells (value, or (text, link) for links) by column name."""
    code = cell_text(row.get("admin1"))
    precision = cell_text(row.get("location_precision"))
    email = cell_text(row.get("email"))
    website = safe_url(row.get("website"))
    source = source_url(row.get("source"))
    return {
        "name": cell_text(row.get("name")),
        "organization": cell_text(row.get("organization")),
        "organization_type": _label(tr, "organization_type", row.get("organization_type")),
        "services": ", ".join(tr.labels("service_types", cell_list(row.get("service_types")))),
        "ages": age_text(row.get("age_min"), row.get("age_max"), tr),
        "populations": ", ".join(tr.labels("populations", cell_list(row.get("populations")))),
        "country": _label(tr, "country", row.get("country")),
        "admin1": admin1.get(code, code),
        "city": cell_text(row.get("city")),
        "address": cell_text(row.get("address")),
        "location": _label(tr, "location_precision", precision),
        "distance": _distance(row, tr),
        "phones": [(p, tel_href(p)) for p in cell_list(row.get("phones"))],
        "email": (email, mailto_href(email)),
        "website": (website, website),
        "hours": cell_text(row.get("hours")),
        "referral": cell_text(row.get("referral")),
        "languages": ", ".join(tr.language(c) for c in cell_list(row.get("languages"))),
        "cost": cell_text(row.get("cost")),
        "notifies": _label(tr, "notifies_authorities", row.get("notifies_authorities")),
        "verification": freshness_text(row, tr, today),
        "source": (source, source),
        "id": cell_text(row.get("id")),
    }


def _label(tr: Translator, vocabulary: str, code: Any) -> str:
    text = cell_text(code)
    return tr.label(vocabulary, text) if text else ""


def _put(ws: Worksheet, row: int, col: int, value: Any) -> Cell:
    """Write one cell: text always as a string cell, numbers as numbers, (text, link) linked."""
    link = ""
    if isinstance(value, tuple):
        value, link = value
    cell = ws.cell(row=row, column=col)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.value = value
        return cell
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value or ""))
    if not text:
        return cell
    cell.value = text
    cell.data_type = "s"  # never a formula or an error code, whatever the first character
    if link:
        cell.hyperlink = link
        cell.font = _LINK_FONT
    return cell


def _services_sheet(ws: Worksheet, records: Sequence[dict[str, Any]], tr: Translator) -> None:
    phones = max([len(r["phones"]) for r in records] + [1])
    phone_cols = [f"phone_{i}" for i in range(1, phones + 1)]
    columns = [*COLUMNS_BEFORE, *phone_cols, *COLUMNS_AFTER]
    for col, name in enumerate(columns, start=1):
        header = (tr.t("xlsx.col.phone", n=name.split("_")[1]) if name in phone_cols
                  else tr.t(f"xlsx.col.{name}"))
        _put(ws, 1, col, header).font = Font(bold=True)
    for r, record in enumerate(records, start=2):
        numbers = record["phones"] + [""] * (phones - len(record["phones"]))
        values = {**record, **dict(zip(phone_cols, numbers, strict=True))}
        for col, name in enumerate(columns, start=1):
            cell = _put(ws, r, col, values[name])
            if name == "distance" and isinstance(cell.value, float):
                cell.number_format = "0.0"
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for col, name in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(WIDTHS.get(name, 18), MAX_WIDTH)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(records) + 1}"


def _about_sheet(ws: Worksheet, tr: Translator, texts: Mapping[str, str], today: dt.date,
                 searched: Searched | None) -> None:
    lines: list[tuple[str, str]] = [
        (tr.t("xlsx.title"), ""),
        (texts["generated"], today.isoformat()),
        (texts["verify"], ""),
        (texts["searched"], ""),
        *((e.label, ", ".join(i.text for i in e.items))
          for e in searched_entries(searched or Searched(), tr, texts)),
        (tr.t("xlsx.csv_note"), ""),
    ]
    for r, (first, second) in enumerate(lines, start=1):
        _put(ws, r, 1, first).alignment = Alignment(wrap_text=True, vertical="top")
        _put(ws, r, 2, second)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A3"].font = Font(bold=True)
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 40


def to_xlsx_bytes(services: pd.DataFrame, lang: str = "es", searched: Searched | None = None,
                  generated_on: dt.date | None = None,
                  admin1_names: Mapping[str, str] | None = None) -> bytes:
    """The services as an .xlsx workbook in `lang` (the frame is not modified).

    Parameters
    ----------
    services
        Search results (located then country-wide rows), schema columns plus optional
        ``distance_km`` / ``distance_band``.
    lang
        Interface language: ``es``, ``en`` or ``fr``.
    searched
        What was searched, for the "About" sheet.
    generated_on
        Date written in the workbook; today when None.
    admin1_names
        Admin-1 code -> name; the bundled boundaries' names when None.

    Returns
    -------
    bytes
        The workbook: sheet 1 the services, sheet 2 about the file.
    """
    tr = Translator(lang)
    texts = sheet_labels(tr.lang)
    today = generated_on or dt.date.today()
    names = _admin1_names() if admin1_names is None else admin1_names
    records = [_values(row, tr, names, texts, today) for row in public_rows(services)]
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new Workbook always has one sheet
    sheet.title = tr.t("xlsx.sheet")
    _services_sheet(sheet, records, tr)
    _about_sheet(book.create_sheet(tr.t("xlsx.about")), tr, texts, today, searched)
    book.properties.title = tr.t("xlsx.title")
    book.properties.language = tr.lang
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
