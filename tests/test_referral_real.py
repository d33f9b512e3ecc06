"""Data test: the issue-15 case on the bundled registry. A 15-year-old girl in
Tapachula who needs a shelter: the PDF and HTML referral sheets list every shelter
found with every contact and street address the registry holds for it."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from rcm_map.core.safety import escape_html, mailto_href, safe_url, tel_href
from rcm_map.registry import load_registry
from rcm_map.registry.model import DEFAULT_REGISTRY
from rcm_map.render.formatting import cell_list, cell_text
from rcm_map.render.listing import results_for_export
from rcm_map.render.referral import Searched, build_sheet, sheet_html
from rcm_map.render.referral_pdf import sheet_pdf
from rcm_map.search.query import search
from rcm_map.search.urlstate import decode

PARAMS = {"place": "Tapachula", "lat": "14.90541", "lon": "-92.25891", "radius": "50",
          "age": "15", "services": "shelter"}


@pytest.fixture(scope="module")
def case() -> tuple[list[dict], str, str]:
    """The services found, the PDF's text and the HTML sheet."""
    state = decode(PARAMS).state
    result = search(load_registry(DEFAULT_REGISTRY), state.to_query())
    rows = results_for_export(result.located, result.countrywide)
    assert len(rows) > 0
    sheet = build_sheet(rows, "es", Searched.from_state(state, "Tapachula, Chiapas (México)"),
                        dt.date(2026, 12, 1))
    reader = PdfReader(io.BytesIO(sheet_pdf(sheet)))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    return rows.to_dict("records"), text, sheet_html(sheet)


def test_every_shelter_with_every_contact_and_address(case: tuple[list[dict], str, str]
                                                     ) -> None:
    rows, text, page = case
    for row in rows:
        assert cell_text(row["name"]) in text
        confidential = row["location_precision"] == "confidential"
        for phone in cell_list(row["phones"]):
            assert phone in text and (not tel_href(phone) or tel_href(phone) in page)
        email = cell_text(row["email"])
        if email:
            assert email in text and escape_html(mailto_href(email)) in page
        website = safe_url(row["website"])
        if website:
            assert f'href="{escape_html(website)}"' in page
        address = cell_text(row["address"])
        if address and not confidential:
            assert re.sub(r"\s+", " ", address) in text, row["id"]


def test_the_sheet_says_what_was_searched(case: tuple[list[dict], str, str]) -> None:
    _, text, _ = case
    for words in ("Tapachula, Chiapas (México) (a menos de 50 km)", "15 años", "Albergue",
                  "Verifique antes de referir"):
        assert words in text
