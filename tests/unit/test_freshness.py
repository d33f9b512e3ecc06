"""One wording for "verified" versus "only a dated source", with a stale mark."""

from __future__ import annotations

import datetime as dt

import pytest

from rcm_map.core.freshness import STALE_AFTER_DAYS, freshness, freshness_text
from rcm_map.core.i18n import Translator

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(("props", "lang", "expected"), [
    ({"source_date": "2026-06-01"}, "en",
     "Not yet verified by the network; source dated Jun 1, 2026"),
    ({"source_date": "2024-03-18"}, "en",
     "Not yet verified by the network; source dated Mar 18, 2024 (over 12 months old: "
     "check before referring)"),
    ({"source_date": ""}, "en", "Not yet verified by the network; source undated"),
    ({"source_date": "2020-01-01", "verified_on": "2026-11-02", "verified_by": "ana"}, "en",
     "Verified by the network on Nov 2, 2026"),
    ({"verified_on": "2025-06-01"}, "es",
     "Verificado por la red el 1 jun 2025 (hace más de 12 meses: confirme antes de derivar)"),
    ({"source_date": "2026-06-01"}, "fr",
     "Pas encore vérifié par le réseau ; source datée du 1 juin 2026"),
])
def test_wording(props: dict, lang: str, expected: str) -> None:
    assert freshness_text(props, lang, today=TODAY) == expected


def test_a_source_date_is_never_called_a_verification() -> None:
    for lang in ("es", "en", "fr"):
        tr = Translator(lang)
        text = freshness_text({"source_date": "2026-11-30"}, tr, today=TODAY)
        assert text != tr.t("freshness.verified", date="2026-11-30")
        assert text.startswith(tr.t("freshness.unverified", date="x").split(";")[0])


def test_stale_after_twelve_months_exactly() -> None:
    edge = TODAY - dt.timedelta(days=STALE_AFTER_DAYS)
    assert not freshness({"verified_on": edge.isoformat()}, TODAY).stale
    assert freshness({"verified_on": (edge - dt.timedelta(days=1)).isoformat()}, TODAY).stale


def test_garbage_and_missing_values_read_as_undated() -> None:
    for value in (None, float("nan"), "2024-13-01", "2024", 5):
        status = freshness({"source_date": value, "verified_on": value}, TODAY)
        assert (status.verified, status.date, status.stale) == (False, None, False)


def test_state_codes_for_badges() -> None:
    assert freshness({"verified_on": "2026-11-01"}, TODAY).state == "verified"
    assert freshness({"verified_on": "2024-11-01"}, TODAY).state == "stale"
    assert freshness({"source_date": "2026-11-01"}, TODAY).state == "unverified"


def test_verified_by_only_with_a_verification() -> None:
    assert freshness({"verified_by": "ana"}, TODAY).verified_by == ""
    assert freshness({"verified_on": "2026-01-05", "verified_by": "ana"}, TODAY).verified_by \
        == "ana"
