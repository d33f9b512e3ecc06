"""Result cards: where a service is, its order, badge, languages and escaping."""

from __future__ import annotations

import datetime as dt

import pytest

from rcm_map.core.i18n import Translator
from rcm_map.registry import load_registry
from rcm_map.render import cards
from rcm_map.search.query import Query, search

TAPACHULA = (14.90541, -92.25891)
TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def located(small_path):
    """small.geojson searched from Tapachula, 50 km."""
    return search(load_registry(small_path), Query(near=TAPACHULA, radius_km=50)).located


def by_id(frame, service_id):
    return frame.set_index("id").loc[service_id].to_dict() | {"id": service_id}


def test_city_centre_entries_say_so_instead_of_a_distance(located):
    row = by_id(located, "mex-tap-shelter")
    assert cards.where_text(row, Translator("en")) == (
        "in Tapachula (city centre; exact site not known)")
    far = by_id(located, "gtm-tecun-casa")  # another city, 28 km away: its distance too
    assert cards.where_text(far, Translator("es")).endswith("· a 27,7 km")


def test_exact_sites_show_distance_and_confidential_only_a_band(located):
    tr = Translator("en")
    assert cards.where_text(by_id(located, "mex-tap-dif"), tr) == "0.4 km away"  # 0.442 km
    secret = cards.where_text(by_id(located, "mex-tap-secret"), tr)
    assert secret.startswith("Confidential location") and "km" in secret
    assert str(by_id(located, "mex-tap-secret")["distance_km"])[:3] not in secret


def test_exact_sites_first_then_city_entries_by_city_and_relevance(located):
    ordered = cards.order_results(located, ("shelter",))
    ids = list(ordered["id"])
    assert ids[0] == "mex-tap-dif"  # the only street address
    assert ids.index("mex-tap-shelter") < ids.index("gtm-tecun-casa")  # nearer city first
    assert sorted(ids) == sorted(located["id"])  # nothing lost or added


def test_relevance_counts_requested_types_main_type_double():
    row = {"service_types": ["shelter", "health"], "phones": ["1"], "hours": "24h"}
    assert cards.relevance(row, ("shelter",)) == (2, 1, 1)
    assert cards.relevance(row, ("health",)) == (1, 1, 1)


@pytest.mark.parametrize(("row", "kind", "text"), [
    ({"verified_on": "2026-06-01", "verified_by": "OIM"}, "verified",
     "Verified by the network on Jun 1, 2026"),
    ({"verified_on": "2025-06-01"}, "stale",
     "Verified by the network on Jun 1, 2025 (over 12 months old: check before referring)"),
    ({"source_date": "2026-03-01"}, "unverified",
     "Not yet verified by the network; source dated Mar 1, 2026"),
    ({"source_date": "2025-03-01"}, "unverified",
     "Not yet verified by the network; source dated Mar 1, 2025 (over 12 months old"),
    ({"last_verified": "2025-03-01"}, "unverified", "source dated Mar 1, 2025"),
    ({}, "unverified", "Not yet verified by the network; source undated"),
])
def test_badge_separates_verification_from_source_date(row, kind, text):
    """The badge says what the map popup and the referral sheet say (core.freshness)."""
    badge = cards.verification(row, Translator("en"), TODAY)
    assert badge.kind == kind
    assert text in badge.text


def test_card_has_tel_links_languages_by_name_and_escapes_everything():
    row = {"id": "x", "name": "<img src=x onerror=alert(1)> {{ 7*6 }}",
           "service_types": ["shelter"], "phones": ["+52 962 123 4567"],
           "languages": ["es", "mam"], "hours": "24 h", "referral": "Call first",
           "location_precision": "address", "distance_km": 1.25, "age_min": 12,
           "age_max": 17, "address": "Calle 1", "city": "Tapachula"}
    html = cards.card_html(row, Translator("es"), TODAY)
    assert '<a href="tel:+529621234567">+52 962 123 4567</a>' in html
    assert "Español, Mam" in html
    assert "&lt;img src=x onerror=alert(1)&gt; {{ 7*6 }}" in html
    assert "<img" not in html
    assert "12-17 años" in html and "24 h" in html and "Call first" in html
    assert "Calle 1, Tapachula" in html


def test_confidential_card_never_shows_the_street():
    row = {"id": "s", "name": "Casa", "location_precision": "confidential",
           "address": "Calle Secreta 9", "city": "Tapachula", "distance_band": "0_5"}
    assert "Secreta" not in cards.card_html(row, Translator("en"), TODAY)


def test_countrywide_and_province_wide_entries():
    tr = Translator("en")
    assert cards.where_text({"country": "HND", "admin1": ""}, tr) == "Whole country: Honduras"
    assert cards.where_text({"country": "CAN", "admin1": "CA-BC"}, tr) == "Only in CA-BC"


def test_help_lines_box_links_phones_and_escapes_everything():
    rows = [{"id": "l1\" onmouseover=\"x", "name": "<script>alert(1)</script>",
             "country": "MEX", "admin1": "", "phones": ["800 000 0001", "javascript:alert(1)"],
             "hours": "<b>24 h</b>"},
            {"id": "l2", "name": "Línea sin teléfono", "country": "GTM", "admin1": "",
             "phones": [], "hours": ""}]
    html = cards.lines_html(rows, Translator("es"))
    assert html.count("<li ") == 2 and 'data-rcm-kind="lines"' in html
    assert '<a href="tel:8000000001">800 000 0001</a>' in html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
    assert "<script" not in html and "<b>" not in html and 'onmouseover="x' not in html
    assert "Todo el país: México" in html and "sin teléfono en el registro" in html
    empty = cards.lines_html([], Translator("fr"))
    assert "Aucune ligne d&#x27;aide n&#x27;est enregistrée pour ce lieu." in empty
