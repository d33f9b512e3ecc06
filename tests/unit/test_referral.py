"""The printable referral sheet: escaped, self-contained, translated, child-data-free,
every contact and address the registry holds, and honest about verification."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import re
from html.parser import HTMLParser
from typing import Any

import pandas as pd
import pytest

from rcm_map.render.referral import (
    PRINT_SCRIPT,
    SHEET_LABELS,
    Searched,
    build_sheet,
    referral_sheet_html,
)
from rcm_map.search.urlstate import SearchState

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
    """Tags, attributes, visible text and script bodies of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


def test_sheet_lists_services_with_contacts() -> None:
    page = referral_sheet_html(pd.DataFrame([service()]), "es", generated_on=dt.date(2025, 3, 1))
    assert page.startswith("<!DOCTYPE html>") and '<html lang="es">' in page
    for text in ("Casa del Migrante", "Albergue, Asistencia jurídica", "12-17 años",
                 "Calle 1, Tapachula, México", "24 h", "Llamar antes", "2,5 km",
                 "1 mar 2025", "Notifica a las autoridades", SHEET_LABELS["es"]["verify"],
                 "Español, Inglés"):
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
    collector = parse(page)
    tags = collector.tags
    assert not [t for t, _ in tags if t in ("img", "iframe", "link", "object")]
    assert "@page" in page and "break-inside: avoid" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page.replace(
        'href="https://example.org"', ""))
    assert "default-src 'none'" in page


def test_print_button_runs_only_its_own_hash_pinned_script() -> None:
    page = referral_sheet_html(pd.DataFrame([service()]), "fr")
    collector = parse(page)
    buttons = [a for t, a in collector.tags if t == "button"]
    assert buttons == [{"type": "button", "id": "print"}]
    assert ">Imprimer</button>" in page
    assert collector.scripts == [PRINT_SCRIPT] and "window.print()" in PRINT_SCRIPT
    digest = base64.b64encode(hashlib.sha256(PRINT_SCRIPT.encode()).digest()).decode()
    csp = next(a["content"] for t, a in collector.tags
               if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == f"'sha256-{digest}'"  # no 'unsafe-inline' for scripts
    assert "@media print { body { margin: 0; } #print { display: none; } }" in page


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_value_is_shown_literally(payload: str) -> None:
    row = service(name=payload, organization=payload, hours=payload, referral=payload,
                  address=payload, city=payload, cost=payload, source_date=payload,
                  verified_on=payload,
                  phones=[payload], email=payload, website=payload, languages=[payload],
                  service_types=[payload], distance_band=payload)
    page = referral_sheet_html(pd.DataFrame([row]), "en")
    collector = parse(page)
    assert collector.scripts == [PRINT_SCRIPT]
    assert "1337" not in page
    visible = "".join(collector.text)
    assert payload.replace("\x00", "\ufffd") in html.unescape(visible)
    for ch in "`${}":
        assert ch not in page.split("</style>", 1)[1].split("<script>")[0]
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


def test_city_located_service_keeps_the_street_address_the_registry_holds() -> None:
    row = service(location_precision="city", address="Carretera a Puerto Madero km 2",
                  distance_km=0.04)
    page = referral_sheet_html(pd.DataFrame([row]), "en")
    assert "Carretera a Puerto Madero km 2, Tapachula, Mexico" in page
    assert "≈ 0.0 km" in page  # measured to the city centre, and said so
    without = referral_sheet_html(pd.DataFrame([service(location_precision="city",
                                                        address="")]), "en")
    assert "Tapachula, Mexico" in without and "Exact site not known" in without


def test_address_that_names_its_city_is_not_repeated() -> None:
    page = referral_sheet_html(pd.DataFrame([service(address="6839 Drolet, Tapachula")]), "en")
    assert "6839 Drolet, Tapachula, Mexico" in page


@pytest.mark.parametrize("precision", ["country_wide", "city"])  # the latter: older files
def test_countrywide_service_says_so(precision: str) -> None:
    row = service(location_precision=precision, address="", city="", lon=float("nan"),
                  lat=float("nan"), distance_km=float("nan"))
    page = referral_sheet_html(pd.DataFrame([row]), "es")
    assert "México" in page and "Atiende en todo el país" in page


def test_confidential_source_note_and_address_never_reach_the_sheet() -> None:
    """Only the source page's URL is printed, never the note after it."""
    row = service(location_precision="confidential", address="Calle Secreta 99",
                  source="https://example.org/shelter — near Dundas & Ossington, Barrio Medina")
    page = referral_sheet_html(pd.DataFrame([row]), "en")
    assert "Calle Secreta" not in page and "Dundas" not in page and "Medina" not in page
    assert '<a href="https://example.org/shelter">' in page


def test_languages_by_name_in_every_language() -> None:
    row = service(languages=["es", "mam", "xx"])
    assert "Spanish, Mam, xx" in referral_sheet_html(pd.DataFrame([row]), "en")
    assert "Espagnol, Mam, xx" in referral_sheet_html(pd.DataFrame([row]), "fr")


def test_sheet_says_what_was_searched_in_words() -> None:
    state = SearchState(place="tapachula", lat=14.90541, lon=-92.25891, radius_km=50, age=15,
                        services=("shelter", "legal_assistance"), languages=("mam",),
                        populations=("trafficking_survivors",))
    searched = Searched.from_state(state, "Tapachula, Chiapas (México)")
    page = referral_sheet_html(pd.DataFrame([service()]), "es", searched=searched)
    for text in ("Búsqueda realizada", "Tapachula, Chiapas (México) (a menos de 50 km)",
                 "15 años", "Albergue, Asistencia jurídica", "Mam"):
        assert text in page, text
    # The child's situation is not written on a sheet handed to a service.
    assert "trata" not in page and "trafficking" not in page


def test_searched_coordinates_are_rounded_to_about_a_kilometre() -> None:
    state = SearchState(place="14.905412, -92.258913", lat=14.905412, lon=-92.258913)
    searched = Searched.from_state(state)
    assert searched.place == "14.91, -92.26"
    page = referral_sheet_html(pd.DataFrame([service()]), "en", searched=searched)
    assert "14.91, -92.26 (within 50 km)" in page and "14.9054" not in page


def test_nothing_searched_reads_as_any() -> None:
    page = referral_sheet_html(pd.DataFrame([service()]), "en", searched=Searched())
    for text in ("No place chosen", "Any age", "Any service"):
        assert text in page


@pytest.mark.parametrize(("row", "expected"), [
    ({"verified_on": "2026-06-01", "source_date": "2025-01-01"},
     "Verified by the network on Jun 1, 2026"),
    ({"verified_on": "2024-06-01"},
     "Verified by the network on Jun 1, 2024 (over 12 months old: check before referring)"),
    ({"verified_on": "", "source_date": "2026-01-01"},
     "Not yet verified by the network; source dated Jan 1, 2026"),
    ({"last_verified": "2025-02-03"}, "Not yet verified by the network; source dated "
     "Feb 3, 2025 (over 12 months old: check before referring)"),
    ({}, "Not yet verified by the network; source undated"),
])
def test_a_source_date_is_never_called_a_verification(row: dict[str, str],
                                                        expected: str) -> None:
    """The sheet words verification as `rcm_map.core.freshness` does (map, cards, workbook);
    an old file's ``last_verified`` is read as the source date it always was."""
    sheet = build_sheet(pd.DataFrame([{**service(source_date=""), **row}]), "en",
                        generated_on=dt.date(2026, 12, 1))
    label = SHEET_LABELS["en"]["verification"]
    (entry,) = [e for e in sheet.services[0].entries if e.label == label]
    assert [i.text for i in entry.items] == [expected]


def test_sheet_prints_the_verification_line() -> None:
    page = referral_sheet_html(pd.DataFrame([service(last_verified="2025-01-01")]), "fr")
    assert "Pas encore vérifié par le réseau ; source datée du 1 janv. 2025" in page
    assert "Vérifié le" not in page


def test_every_phone_is_its_own_link() -> None:
    sheet = build_sheet(pd.DataFrame([service(phones=["+52 962 1", "800 123 4567"])]), "en")
    phones = next(e for e in sheet.services[0].entries if e.label == "Phone")
    assert [(i.text, i.href) for i in phones.items] == [
        ("+52 962 1", "tel:+529621"), ("800 123 4567", "tel:8001234567")]
