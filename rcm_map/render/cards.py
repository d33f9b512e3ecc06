"""Result cards: what a caseworker reads about each service, as escaped HTML (pure).

One card per located result: name, types, where (a distance, or "in Tapachula
(city centre; exact site not known)" for services only placed at a city centre),
phones as ``tel:`` links, hours, how to refer, languages by name, ages and a
verification badge. Ages, distances and addresses are worded by
`rcm_map.render.formatting` and the badge by `rcm_map.core.freshness`, as on the map
and the referral sheet. Every registry value goes through `html.escape`, so a name
holding a tag or ``{{ ... }}`` shows literally; links are built only by
`rcm_map.core.safety.tel_href` / `safe_url` / `mailto_href`.

Order (`order_results`): services with a street address first, by distance;
then services placed at a city centre or confidential, city by city (nearest
city first) and inside a city by relevance to the search, then name.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rcm_map.core.freshness import freshness, freshness_text
from rcm_map.core.i18n import Translator
from rcm_map.core.safety import mailto_href, safe_url, tel_href
from rcm_map.render.formatting import (
    address_text,
    age_text,
    cell_list,
    cell_text,
    distance_text,
    is_missing,
)

# --------------------------------------------------------------------------- badge


@dataclass(frozen=True)
class Badge:
    """Verification state of one service (``verified``, ``stale`` or ``unverified``,
    `rcm_map.core.freshness.Freshness.state`) and its sentence (`freshness_text`)."""

    kind: str
    text: str


def verification(row: Mapping[str, Any], tr: Translator, today: dt.date) -> Badge:
    """The verification badge of a service, worded as on the map and the sheet.

    A date the network checked the entry (``verified_on``) is a verification; a
    source's own date (``source_date``) is not. Either date older than 12 months
    reads as stale.
    """
    return Badge(freshness(row, today).state, freshness_text(row, tr, today))


# --------------------------------------------------------------------------- texts


def where_text(row: Mapping[str, Any], tr: Translator) -> str:
    """Distance of an exact site; for a city-centre point, the city and (when the
    city is not the one searched) its distance; for a confidential one, a band;
    for a service without a place, the country or province it covers."""
    precision = cell_text(row.get("location_precision")) or "address"
    km = None if is_missing(row.get("distance_km")) else float(row["distance_km"])
    if km is None and is_missing(row.get("lat")):
        province = cell_text(row.get("admin1"))
        if province:
            return tr.t("card.province_wide", province=province)
        country = tr.label("country", cell_text(row.get("country")))
        return tr.t("card.countrywide", country=country)
    if precision == "confidential":
        band = distance_text(row, tr)  # only ever a band for a confidential service
        return tr.t("card.confidential", band=band) if band else tr.t("card.confidential_only")
    if precision == "city":
        city = cell_text(row.get("city")) or tr.t("card.unknown_city")
        text = tr.t("card.in_city", city=city)
        if km is not None and km >= 2:
            text += " · " + tr.t("card.km_away", km=tr.km(km))
        return text
    return tr.t("card.km_away", km=tr.km(km)) if km is not None else ""


def language_names(codes: Sequence[str], tr: Translator) -> str:
    """'Spanish, English' (in the interface language) for ['es', 'en']."""
    return ", ".join(tr.language(code) for code in codes)


# --------------------------------------------------------------------------- order


def relevance(row: Mapping[str, Any], wanted_types: Sequence[str]) -> tuple[int, int, int]:
    """Higher is better: requested types it offers (its main type counting
    double), then how many ways to reach it, then whether it has hours."""
    types = cell_list(row.get("service_types"))
    matched = sum(1 for t in types if t in wanted_types) + (
        1 if types and types[0] in wanted_types else 0)
    contacts = len(cell_list(row.get("phones"))) + bool(cell_text(row.get("email"))) + bool(
        cell_text(row.get("website")))
    return matched, contacts, int(bool(cell_text(row.get("hours"))))


def order_results(located: pd.DataFrame, wanted_types: Sequence[str] = ()) -> pd.DataFrame:
    """Exact sites by distance, then city-centre and confidential entries: nearest
    city first, by relevance inside a city, then by name. Input is not modified."""
    if located.empty or "distance_km" not in located.columns:
        return located
    order = [i for i, _ in _ordered(located.to_dict("records"), wanted_types)]
    return located.iloc[order].reset_index(drop=True)


def ordered_records(located: pd.DataFrame,
                    wanted_types: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The rows of `order_results` as dicts (one conversion, for the cards)."""
    records = located.to_dict("records")
    if located.empty or "distance_km" not in located.columns:
        return records
    return [row for _, row in _ordered(records, wanted_types)]


def _ordered(records: list[dict[str, Any]],
             wanted_types: Sequence[str]) -> list[tuple[int, dict[str, Any]]]:
    def key(pair: tuple[int, Mapping[str, Any]]) -> tuple[Any, ...]:
        _, row = pair
        value: Any = row.get("distance_km")
        km = math.inf if is_missing(value) else float(value)
        exact = (cell_text(row.get("location_precision")) or "address") == "address"
        if exact:
            return (0, km, 0, 0, 0, "")
        score = relevance(row, wanted_types)
        # Points of one city centre share a distance: round so one city is one group.
        return (1, round(km, 1), -score[0], -score[1], -score[2], cell_text(row.get("name")))

    return sorted(enumerate(records), key=key)


# --------------------------------------------------------------------------- html


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _link(text: str, href: str | None, external: bool = False) -> str:
    if not href:
        return _esc(text)
    extra = ' target="_blank" rel="noopener noreferrer"' if external else ""
    return f'<a href="{_esc(href)}"{extra}>{_esc(text)}</a>'


def _line(label: str, value_html: str) -> str:
    if not value_html:
        return ""
    return (f'<div class="rcm-card-line"><span class="rcm-card-label">{_esc(label)}:</span> '
            f'{value_html}</div>')


def card_html(row: Mapping[str, Any], tr: Translator, today: dt.date, kind: str = "result") -> str:
    """One service as an HTML fragment (every value escaped). `kind` names the list
    it belongs to (``result``, ``beyond``, ``countrywide``) for styling and tests."""
    badge = verification(row, tr, today)
    types = ", ".join(tr.labels("service_types", cell_list(row.get("service_types"))))
    phones = " · ".join(_link(p, tel_href(p)) for p in cell_list(row.get("phones")))
    email = cell_text(row.get("email"))
    website = safe_url(row.get("website"))
    contact = " · ".join(filter(None, (
        phones, _link(email, mailto_href(email)) if email else "",
        _link(website, website, external=True) if website else "")))
    confidential = cell_text(row.get("location_precision")) == "confidential"
    org = cell_text(row.get("organization"))
    name = cell_text(row.get("name"))
    lines = "".join((
        _line(tr.t("card.contact"), contact),
        # A street address only: a city-centre point's city is in the "where" line.
        _line(tr.t("card.address"), _esc(address_text(row)))
        if cell_text(row.get("address")) and not confidential else "",
        _line(tr.t("card.hours"), _esc(cell_text(row.get("hours")))),
        _line(tr.t("card.referral"), _esc(cell_text(row.get("referral")))),
        _line(tr.t("card.languages"), _esc(language_names(cell_list(row.get("languages")), tr))),
        _line(tr.t("card.ages"), _esc(age_text(row.get("age_min"), row.get("age_max"), tr))),
    ))
    return (
        f'<div class="rcm-card" data-rcm-kind="{_esc(kind)}" '
        f'data-rcm-id="{_esc(cell_text(row.get("id")))}">'
        f'<div class="rcm-card-head"><strong class="rcm-card-name">{_esc(name)}</strong>'
        f'<span class="rcm-badge rcm-badge-{badge.kind}">{_esc(badge.text)}</span></div>'
        + (f'<div class="rcm-card-org">{_esc(org)}</div>' if org and org != name else "")
        + f'<div class="rcm-card-types">{_esc(types)}</div>'
        f'<div class="rcm-card-where">{_esc(where_text(row, tr))}</div>'
        f"{lines}</div>"
    )


def lines_html(rows: Sequence[Mapping[str, Any]], tr: Translator) -> str:
    """The help lines that apply where the child is (`rcm_map.search.lines`), as one
    compact list: name, where it applies, phones as ``tel:`` links, hours."""
    items = []
    for row in rows:
        phones = " · ".join(_link(p, tel_href(p)) for p in cell_list(row.get("phones")))
        hours = cell_text(row.get("hours"))
        parts = [f'<strong>{_esc(cell_text(row.get("name")))}</strong>',
                 f'<span class="rcm-line-where">{_esc(where_text(row, tr))}</span>']
        parts.append(phones or _esc(tr.t("lines.no_phone")))
        if hours:
            parts.append(_esc(hours))
        items.append(f'<li data-rcm-id="{_esc(cell_text(row.get("id")))}">'
                     + " — ".join(parts) + "</li>")
    body = (f'<ul>{"".join(items)}</ul>' if items
            else f'<p>{_esc(tr.t("lines.none"))}</p>')
    return (f'<div class="rcm-lines" data-rcm-kind="lines"><div class="rcm-lines-title">'
            f'{_esc(tr.t("lines.title"))}</div>{body}</div>')


CARD_CSS = """
.rcm-card{overflow-wrap:anywhere;font-size:0.92rem;line-height:1.35}
.rcm-card-head{display:flex;flex-wrap:wrap;gap:0.25rem 0.5rem;align-items:baseline}
.rcm-card-name{font-size:1rem}
.rcm-card-org,.rcm-card-types{color:#444}
.rcm-card-where{font-weight:600;margin:0.15rem 0}
.rcm-card-label{color:#555}
.rcm-lines{overflow-wrap:anywhere;font-size:0.92rem;line-height:1.35;
  border-left:4px solid #1b5e9b;padding:0.2rem 0.6rem;background:#f1f6fb}
.rcm-lines-title{font-weight:600}
.rcm-lines ul{margin:0.2rem 0 0 1rem;padding:0}
.rcm-line-where{color:#444}
.rcm-badge{font-size:0.78rem;border-radius:0.6rem;padding:0 0.45rem;border:1px solid}
.rcm-badge-verified{background:#e3f4ea;border-color:#1b7f3b;color:#14532d}
.rcm-badge-unverified{background:#f4f4f4;border-color:#888;color:#333}
.rcm-badge-stale{background:#fff4e0;border-color:#b45309;color:#7c2d12}
"""


def style_tag(extra_css: str = "") -> str:
    """The cards' stylesheet as a ``<style>`` element (plus `extra_css`)."""
    return f"<style>{CARD_CSS}{extra_css}</style>"
