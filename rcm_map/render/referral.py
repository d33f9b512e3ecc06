"""Printable referral sheet: the chosen services with their contacts, one HTML page.

Standalone (inline print CSS, no scripts, no external resources), in the user's
language, with a "verify before referral" notice and no data about the child.
Built with plain string joins, never a template engine, and every value goes
through `rcm_map.core.safety.escape_html` (issues 5 and 9): registry text such as
``{{ 7*191 }}`` or ``<script>`` is printed literally.

Expected columns of ``results``: those listed in `rcm_map.render.mapping` (``id``,
``name``, ``organization``, ``service_types``, ``age_min``, ``age_max``,
``phones``, ``email``, ``website``, ``hours``, ``referral``, ``languages``,
``cost``, ``notifies_authorities``, ``location_precision``, ``address``,
``city``, ``country``, ``last_verified``, optional ``distance_km`` /
``distance_band``). Missing columns are treated as empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from rcm_map.core.safety import escape_html, mailto_href, safe_url, tel_href
from rcm_map.core.schema import COUNTRIES, NOTIFIES_AUTHORITIES, SERVICE_TYPES
from rcm_map.render.mapping import age_text, catalogue_section, cell_list, cell_text, distance_text

SHEET_LABELS: dict[str, dict[str, str]] = catalogue_section("sheet.")

_CSS = """
body { font: 11pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #000; margin: 1.5em; }
h1 { font-size: 16pt; margin: 0 0 0.2em; }
.meta { color: #333; margin: 0 0 0.8em; }
.notice { border: 2px solid #000; padding: 0.5em 0.8em; margin: 0 0 0.6em; font-weight: bold; }
.privacy { font-style: italic; margin: 0 0 1em; }
.service { border-top: 1px solid #777; padding: 0.6em 0; page-break-inside: avoid;
  break-inside: avoid; }
.service h2 { font-size: 13pt; margin: 0; }
.org { margin: 0 0 0.3em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 0.8em; margin: 0; }
dt { color: #333; }
dd { margin: 0; overflow-wrap: anywhere; unicode-bidi: isolate; }
dd > span, dd > a, h2, .org { unicode-bidi: isolate; }
.confidential { font-style: italic; }
a { color: #000; }
@page { margin: 1.5cm; }
@media print { body { margin: 0; } }
"""


def sheet_labels(lang: str, labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """The sheet's strings for `lang` (English if unknown), `labels` overriding."""
    out = dict(SHEET_LABELS.get(lang, SHEET_LABELS["en"]))
    out.update(labels or {})
    return out


def _vocab(vocab: Mapping[str, Mapping[str, str]], code: str, lang: str) -> str:
    names = vocab.get(code)
    return (names.get(lang) or names["en"]) if names else code


def _link(text: str, href: str) -> str:
    """An <a> when `href` is non-empty, else the plain escaped text."""
    if not href:
        return f"<span>{escape_html(text)}</span>"
    return f'<a href="{escape_html(href)}">{escape_html(text)}</a>'


def _contact_rows(row: Mapping[str, Any], texts: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, HTML) rows for phones, e-mail and website."""
    rows = []
    phones = [_link(p, tel_href(p)) for p in cell_list(row.get("phones"))]
    if phones:
        rows.append((texts["phone"], ", ".join(phones)))
    email = cell_text(row.get("email"))
    if email:
        rows.append((texts["email"], _link(email, mailto_href(email))))
    website = safe_url(row.get("website"))
    if website:
        rows.append((texts["website"], _link(website, website)))
    return rows


def _place_row(row: Mapping[str, Any], texts: Mapping[str, str], lang: str) -> tuple[str, str]:
    """Address row; a confidential service shows only the notice and its city."""
    precision = cell_text(row.get("location_precision"))
    city = cell_text(row.get("city"))
    country = _vocab(COUNTRIES, cell_text(row.get("country")), lang)
    where = ", ".join(escape_html(t) for t in (city, country) if t)
    if precision == "confidential":
        note = f'<span class="confidential">{escape_html(texts["confidential"])}</span>'
        return texts["address"], f"{where}<br>{note}" if where else note
    address = escape_html(cell_text(row.get("address")))
    if precision == "city" or not address:
        extra = f' ({escape_html(texts["city_only"])})' if precision == "city" else ""
        return texts["address"], where + extra
    return texts["address"], f"{address}, {where}" if where else address


def _service_rows(
    row: Mapping[str, Any], texts: Mapping[str, str], lang: str
) -> list[tuple[str, str]]:
    """(label, HTML) rows of one service, empty values left out."""
    confidential = cell_text(row.get("location_precision")) == "confidential"
    types = ", ".join(_vocab(SERVICE_TYPES, c, lang) for c in cell_list(row.get("service_types")))
    notifies = cell_text(row.get("notifies_authorities"))
    plain = [
        (texts["services"], types),
        (texts["distance"], distance_text(row, confidential, lang)),
        (texts["ages"], age_text(row.get("age_min"), row.get("age_max"), texts["years"])),
    ]
    rows = [(k, escape_html(v)) for k, v in plain]
    rows.append(_place_row(row, texts, lang))
    rows += _contact_rows(row, texts)
    more = [
        (texts["hours"], cell_text(row.get("hours"))),
        (texts["referral"], cell_text(row.get("referral"))),
        (texts["languages"], ", ".join(cell_list(row.get("languages")))),
        (texts["cost"], cell_text(row.get("cost"))),
        (texts["notifies"], _vocab(NOTIFIES_AUTHORITIES, notifies, lang) if notifies else ""),
        (texts["last_verified"], cell_text(row.get("last_verified"))),
    ]
    rows += [(k, escape_html(v)) for k, v in more]
    return [(k, v) for k, v in rows if v]


def _service_html(row: Mapping[str, Any], texts: Mapping[str, str], lang: str) -> str:
    """One service as a <section>."""
    items = "".join(
        f"<dt>{escape_html(label)}</dt><dd>{value}</dd>"
        for label, value in _service_rows(row, texts, lang)
    )
    org = cell_text(row.get("organization"))
    org_html = f'<p class="org">{escape_html(org)}</p>' if org else ""
    return (f'<section class="service"><h2>{escape_html(cell_text(row.get("name")))}</h2>'
            f"{org_html}<dl>{items}</dl></section>")


def referral_sheet_html(
    results: pd.DataFrame,
    lang: str = "es",
    labels: Mapping[str, str] | None = None,
    generated_on: dt.date | str | None = None,
) -> str:
    """A standalone, printable HTML page listing the chosen services.

    Parameters
    ----------
    results
        The chosen services, one row each, in display order (not modified).
    lang
        ``es``, ``en`` or ``fr``.
    labels
        Overrides for `SHEET_LABELS` in that language.
    generated_on
        Date printed on the sheet; today when None.

    Returns
    -------
    str
        A complete HTML document (UTF-8), no scripts and no external resources.
    """
    texts = sheet_labels(lang, labels)
    day = generated_on if generated_on is not None else dt.date.today()
    day_text = day.isoformat() if isinstance(day, dt.date) else str(day)
    records = results.to_dict("records")
    body = "".join(_service_html(r, texts, lang) for r in records) or (
        f"<p>{escape_html(texts['empty'])}</p>"
    )
    return "".join([
        "<!DOCTYPE html>\n",
        f'<html lang="{escape_html(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        f"<title>{escape_html(texts['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape_html(texts['title'])}</h1>",
        f'<p class="meta">{escape_html(texts["generated"])} {escape_html(day_text)}</p>',
        f'<p class="notice">{escape_html(texts["verify"])}</p>',
        f'<p class="privacy">{escape_html(texts["privacy"])}</p>',
        body,
        "</body></html>\n",
    ])
