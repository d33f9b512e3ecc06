"""How old an entry's information is, worded in ONE place for every screen, sheet and export.

A registry entry carries two different dates (issue 16):

* ``source_date`` — the date of the newest public page it was compiled from. It
  says how old the public information is; nobody has confirmed anything.
* ``verified_on`` (+ ``verified_by``) — the day a focal point confirmed the entry
  with the organisation itself.

The map popup, the result cards, the referral sheet (HTML and PDF), the Excel
workbook and the verification queue all call `freshness_text` (the cards' badge
colour is `Freshness.state`), so no screen can call a source date a verification.
Either date older than `STALE_AFTER_DAYS` gets a stale mark. Dates are written
ISO 8601 (2025-03-01) in every language: unambiguous on a printed sheet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rcm_map.core.i18n import Translator
from rcm_map.core.schema import LEGACY_FIELDS

STALE_AFTER_DAYS = 365  # "after 12 months": check again before referring a child


@dataclass(frozen=True)
class Freshness:
    """The verification status of one entry."""

    verified: bool  # a focal point confirmed it with the organisation
    date: dt.date | None  # `verified_on` when verified, else `source_date` (None: undated)
    stale: bool  # `date` is more than STALE_AFTER_DAYS before today
    verified_by: str = ""

    @property
    def state(self) -> str:
        """A stable code for styling a badge: ``verified``, ``stale`` or ``unverified``."""
        if not self.verified:
            return "unverified"
        return "stale" if self.stale else "verified"


def _date(value: Any) -> dt.date | None:
    """An ISO date cell as a date; anything else (empty, NaN, garbage) as None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or len(value.strip()) != 10:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


_SOURCE_DATE_NAMES = ("source_date",
                      *(old for old, new in LEGACY_FIELDS.items() if new == "source_date"))


def _source_date(props: Mapping[str, Any]) -> dt.date | None:
    """``source_date``, or its legacy name (``last_verified``) in rows from old files."""
    for name in _SOURCE_DATE_NAMES:
        day = _date(props.get(name))
        if day is not None:
            return day
    return None


def freshness(props: Mapping[str, Any], today: dt.date | None = None) -> Freshness:
    """The status of an entry from its ``verified_on``, ``verified_by`` and ``source_date``.

    An entry with no date at all is not stale: it is "undated", which the wording says.
    """
    today = today or dt.date.today()
    verified_on = _date(props.get("verified_on"))
    day = verified_on or _source_date(props)
    stale = day is not None and (today - day).days > STALE_AFTER_DAYS
    by = props.get("verified_by") if verified_on else ""
    return Freshness(verified_on is not None, day, stale, by if isinstance(by, str) else "")


def freshness_text(props: Mapping[str, Any], lang: str | Translator,
                   today: dt.date | None = None) -> str:
    """One sentence saying whether the network verified the entry, and when.

    Parameters
    ----------
    props : mapping
        A service's properties or result row (``verified_on``, ``source_date``...).
    lang : str or Translator
        The reader's language.

    Returns
    -------
    str
        e.g. "Not yet verified by the network; source dated 2024-03-18 — over 12
        months old: check before referring" or "Verified by the network on 2026-11-02".
    """
    tr = lang if isinstance(lang, Translator) else Translator(lang)
    status = freshness(props, today)
    if status.verified:
        text = tr.t("freshness.verified", date=tr.date(status.date) if status.date else "")
    elif status.date is not None:
        text = tr.t("freshness.unverified", date=tr.date(status.date))
    else:
        text = tr.t("freshness.unverified_undated")
    return tr.t("freshness.stale", text=text) if status.stale else text
