"""The printable referral sheet: escaped, self-contained, translated, child-data-free."""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser
from typing import Any

import pandas as pd
import pytest

from rcm_map.render.referral import SHEET_LABELS, referral_sheet_html

PAYLOADS = (
    "<img src=x onerror=alert(1)>", "${alert(1)}", "`x`", "</script><script>alert(1)</script>",
    "{{7*191}}", "{% if true %}X{% endif %}", "{# c #}",
    "{{ lipsum.__globals__['os'].getpid() }}", "' \" x='", "\u202eRTL", "NUL\x00",
)


def service(**over: Any) -> dict[str, Any]:
    """One chosen service."""
    row: dict[str, Any] = {
        "id": "s1", "name": "Casa del Migrante", "organization": "Diócesis",
        "service_types": ["shelter", "legal_assistance"], "age_min": 12, "age_max": 17,
        "phones": ["+52 962 123 4567"], "email": "casa@example.org",
        "website": "https://example.org", "hours": "24 h", "referral": "Llamar antes",
        "languages": ["es", "en"], "cost": "Gratuito", "notifies_authorities": "no",
        "location_precision": "address", "address": "Calle 1", "city": "Tapachula",
        "country": "MEX", "source_date": "2025-01-01", "distance_km": 2.5, "distance_band": "",
    }
    row.update(over)
    return row


class _Collector(HTMLParser):
    """Tags, attributes and visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


def test_sheet_lists_services_with_contacts() -> None:
    page = referral_sheet_html(pd.DataFrame([service()]), "es", generated_on=dt.date(2025, 3, 1))
    assert page.startswith("<!DOCTYPE html>") and '<html lang="es">' in page
    for text in ("Casa del Migrante", "Albergue, Asistencia jurídica", "12-17 años",
                 "Calle 1, Tapachula, México", "24 h", "Llamar antes", "2,5 km",
                 "2025-03-01", "Notifica a las autoridades", SHEET_LABELS["es"]["verify"]):
        assert text in page, text
    hrefs = [a.get("href") for t, a in parse(page).tags if t == "a"]
    assert hrefs == ["tel:+529621234567", "mailto:casa@example.org", "https://example.org"]


@pytest.mark.parametrize("lang", ["es", "en", "fr"])
def test_sheet_speaks_the_user_language(lang: str) -> None:
    page = referral_sheet_html(pd.DataFrame([service()]), lang)
    assert SHEET_LABELS[lang]["title"].replace("'", "&#x27;") in page
    assert html.escape(SHEET_LABELS[lang]["privacy"]) in page


def test_sheet_is_standalone_and_printable() -> None:
    page = referral_sheet_html(pd.DataFrame([service()]), "en")
    tags = parse(page).tags
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "link", "object")]
    assert "@page" in page and "break-inside: avoid" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page.replace(
        'href="https://example.org"', ""))
    assert "default-src 'none'" in page


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_value_is_shown_literally(payload: str) -> None:
    row = service(name=payload, organization=payload, hours=payload, referral=payload,
                  address=payload, city=payload, cost=payload, source_date=payload,
                  verified_on=payload,
                  phones=[payload], email=payload, website=payload, languages=[payload],
                  service_types=[payload], distance_band=payload)
    page = referral_sheet_html(pd.DataFrame([row]), "en")
    collector = parse(page)
    assert [t for t, _ in collector.tags if t == "script"] == []
    assert "1337" not in page
    visible = "".join(collector.text)
    assert payload.replace("\x00", "\ufffd") in html.unescape(visible)
    for ch in "`${}":
        assert ch not in page.split("</style>", 1)[1]
    assert all(a.get("href", "").startswith(("tel:", "mailto:", "https:"))
               for t, a in collector.tags if t == "a")


def test_confidential_service_shows_no_address_and_only_a_band() -> None:
    row = service(location_precision="confidential", address="Calle Secreta 99",
                  distance_km=3.21, distance_band="< 5 km")
    page = referral_sheet_html(pd.DataFrame([row]), "en")
    assert "Calle Secreta" not in page and "3.2" not in page
    assert "&lt; 5 km" in page and "Confidential location" in page


def test_sheet_holds_no_child_data_fields() -> None:
    """Only service columns are read, even if a caller passes more."""
    row = service(child_name="Ana", child_age=15, search_lat=14.123456)
    page = referral_sheet_html(pd.DataFrame([row]), "en")
    assert "Ana" not in page and "14.123456" not in page


def test_empty_selection() -> None:
    page = referral_sheet_html(pd.DataFrame([]), "fr")
    assert SHEET_LABELS["fr"]["empty"] in page


def test_input_frame_is_not_modified() -> None:
    df = pd.DataFrame([service()])
    before = df.copy(deep=True)
    referral_sheet_html(df, "es")
    pd.testing.assert_frame_equal(df, before)


def test_right_to_left_override_cannot_reverse_a_phone_number() -> None:
    """Each value is its own bidi island (CSS isolate), so U+202E stays in its field."""
    page = referral_sheet_html(pd.DataFrame([service(phones=["\u202eevil", "+52 962 123 4567"])]))
    assert "<span>\u202eevil</span>, <a href=\"tel:+529621234567\">" in page
    assert "dd > span, dd > a" in page and "unicode-bidi: isolate" in page
