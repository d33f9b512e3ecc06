"""Help lines (AppTest): a shelter search still shows the lines to call where the
child is, and the referral sheet lists them after the chosen services."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from test_downloads import buttons, download

LINE = {
    "id": "mex-line-test", "name": "Línea de protección (prueba)",
    "organization": "Procuraduría (prueba)", "organization_type": "government",
    "service_types": ["hotline", "child_protection_authority"], "age_min": None,
    "age_max": None, "populations": [], "country": "MEX", "admin1": "", "city": "",
    "address": "", "phones": ["800 000 0001"], "email": "", "website": "",
    "hours": "24 horas", "languages": ["es"], "cost": "", "referral": "",
    "notifies_authorities": "unknown", "location_precision": "country_wide",
    "source_date": "", "verified_on": "", "verified_by": "", "eligibility": "",
    "source": "https://example.org/test-fixture", "description": "",
}
PROVINCIAL = {**LINE, "id": "can-bc-line-test", "name": "BC line (test)", "country": "CAN",
              "admin1": "CA-BC", "phones": ["+1 800 000 0002"]}


@pytest.fixture(autouse=True)
def with_lines(small_registry: Path) -> Path:
    """The fixture registry plus a national Mexican line and a British Columbia one."""
    data = json.loads(small_registry.read_text(encoding="utf-8"))
    data["features"] += [{"type": "Feature", "geometry": None, "properties": p}
                         for p in (LINE, PROVINCIAL)]
    small_registry.write_text(json.dumps(data), encoding="utf-8")
    return small_registry


def lines_box(at: Any) -> str:
    boxes = [h.proto.body for h in at.get("html") if 'data-rcm-kind="lines"' in h.proto.body]
    assert len(boxes) == 1
    return boxes[0]


def test_a_shelter_search_still_shows_the_line_to_call(app: Any) -> None:
    at = app(place="Tapachula", lang="es", services="shelter", age="15")
    box = lines_box(at)
    assert "Línea de protección (prueba)" in box
    assert 'href="tel:8000000001"' in box and "24 horas" in box
    assert "BC line" not in box  # a province's line only in or near that province
    assert "Líneas de ayuda para este lugar" in box


def test_no_line_is_offered_before_a_place_is_chosen(app: Any) -> None:
    at = app(lang="es", services="shelter")
    assert not [h for h in at.get("html") if 'data-rcm-kind="lines"' in h.proto.body]


def test_a_place_without_lines_says_so(app: Any) -> None:
    at = app(place="Tegucigalpa", lang="en")
    assert "No help line is registered for this place." in lines_box(at)


def test_the_referral_sheet_lists_the_lines_after_the_services(app: Any, media: Any) -> None:
    at = app(place="Tapachula", lang="en", services="shelter")
    found = buttons(at)
    label = next(k for k in found if k.startswith("Referral sheet, HTML"))
    page = download(media, found[label]).decode("utf-8")
    assert page.index("Línea de protección (prueba)") > page.index("Casa del Migrante (prueba)")
    assert "tel:8000000001" in page
    book = openpyxl.load_workbook(io.BytesIO(download(media, found["Download Excel (.xlsx)"])))
    names = [r[0] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert "Casa del Migrante (prueba)" in names
    assert "Línea de protección (prueba)" not in names  # exports hold the results only
