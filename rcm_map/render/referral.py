"""Referral sheet: what was searched and the chosen services, ready to hand over.

`build_sheet` turns search results into a `Sheet` (plain text and links, in the
user's language); `referral_sheet_html` renders it as one standalone HTML page
and `rcm_map.render.referral_pdf` as a PDF, so both show exactly the same content.

What the sheet holds: the searched place, age and needs in words (never a name
or any other data about the child), each chosen service with every contact and
the street address the registry holds, languages by name, the date, whether the
network verified the entry (worded by `rcm_map.core.freshness`, as on the map and the
cards), and the "verify before referral" notice. Ages and distances are worded by
`rcm_map.render.formatting`.

Safety: rows go through `public_rows` first, so a confidential service's
address never reaches a sheet even if a caller passes a private frame. Every
value is escaped with `rcm_map.core.safety.escape_html`, so registry text such as
``{{ 7*191 }}`` or ``<script>`` is printed literally, never run or evaluated. The page's
only script is the print button's, pinned by hash in its Content-Security-Policy.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rcm_map.core.freshness import freshness_text
from rcm_map.core.i18n import Translator
from rcm_map.core.safety import (
    escape_html,
    mailto_href,
    public_properties,
    safe_url,
    source_links,
    tel_href,
)
from rcm_map.core.schema import COUNTRIES, NOTIFIES_AUTHORITIES, SERVICE_TYPES
from rcm_map.render.formatting import (
    address_text,
    age_text,
    catalogue_section,
    cell_list,
    cell_text,
    distance_text,
)

SHEET_LABELS: dict[str, dict[str, str]] = catalogue_section("sheet.")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Item:
    """One piece of text on the sheet, a link when `href` is set."""

    text: str
    href: str = ""
    note: bool = False  # shown as a remark (italic), e.g. the confidential notice


@dataclass(frozen=True)
class Entry:
    """A labelled value: one or more items (``lines`` puts each on its own line)."""

    label: str
    items: tuple[Item, ...]
    lines: bool = False


@dataclass(frozen=True)
class ServiceBlock:
    """One chosen service."""

    name: str
    organization: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Searched:
    """What the caseworker searched for, in codes; never who it was for."""

    place: str = ""
    radius_km: float | None = None
    age: int | None = None
    age_band: str | None = None
    services: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @classmethod
    def from_state(cls, state: Any, place: str | None = None) -> Searched:
        """From a `rcm_map.search.urlstate.SearchState`; `place` is the chosen place's name."""
        point = getattr(state, "point", None)
        name = (place or "").strip() or str(getattr(state, "place", "") or "").strip()
        if point is not None and (not name or _looks_like_coordinates(name)):
            name = f"{point[0]:.2f}, {point[1]:.2f}"  # ~1 km: the sheet needs no more
        return cls(place=name, radius_km=state.radius_km if point is not None else None,
                   age=state.age, age_band=state.age_band,
                   services=tuple(state.services), languages=tuple(state.languages))


@dataclass(frozen=True)
class Sheet:
    """Everything a referral sheet shows, in one language."""

    lang: str
    texts: Mapping[str, str]
    generated_on: str
    searched: tuple[Entry, ...]
    services: tuple[ServiceBlock, ...]


def _looks_like_coordinates(text: str) -> bool:
    return all(c.isdigit() or c in " ,.-+" for c in text)


def sheet_labels(lang: str, labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """The sheet's strings for `lang` (English if unknown), `labels` overriding."""
    out = dict(SHEET_LABELS.get(lang, SHEET_LABELS["en"]))
    out.update(labels or {})
    return out


def public_rows(results: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as dicts, each through `rcm_map.core.safety.public_properties`: what a
    confidential service withholds (address, description, source note) is gone."""
    return [public_properties(row) for row in results.to_dict("records")]


def _vocab(vocab: Mapping[str, Mapping[str, str]], code: str, lang: str) -> str:
    names = vocab.get(code)
    return (names.get(lang) or names["en"]) if names else code


def _is_countrywide(row: Mapping[str, Any]) -> bool:
    """A row with lon/lat columns but no point: serves a whole country."""
    if cell_text(row.get("location_precision")) == "country_wide":
        return True
    return "lon" in row and not cell_text(row.get("lon"))


def _address(row: Mapping[str, Any], texts: Mapping[str, str], lang: str) -> Entry:
    """Street address the registry holds, city and country; a confidential one withheld."""
    precision = cell_text(row.get("location_precision"))
    address = cell_text(row.get("address"))
    country = _vocab(COUNTRIES, cell_text(row.get("country")), lang)
    where = ", ".join(t for t in (address_text(row), country) if t)
    items = [Item(where)] if where else []
    if precision == "confidential":
        items.append(Item(texts["confidential"], note=True))
    elif _is_countrywide(row):
        items.append(Item(texts["countrywide"], note=True))
    elif not address:
        items.append(Item(texts["city_only"], note=True))
    return Entry(texts["address"], tuple(items), lines=True)


def _contacts(row: Mapping[str, Any], texts: Mapping[str, str]) -> list[Entry]:
    """Every phone, the e-mail, the website and the source page, as links where safe."""
    out = []
    phones = tuple(Item(p, tel_href(p)) for p in cell_list(row.get("phones")))
    if phones:
        out.append(Entry(texts["phone"], phones))
    email = cell_text(row.get("email"))
    if email:
        out.append(Entry(texts["email"], (Item(email, mailto_href(email)),)))
    website = safe_url(row.get("website"))
    if website:
        out.append(Entry(texts["website"], (Item(website, website),)))
    return out


def source_url(value: Any) -> str:
    """The first web address of a ``source`` value ("https://... — note"), never its note."""
    links = source_links(value).split()
    return safe_url(links[0]) if links else ""


def service_block(row: Mapping[str, Any], tr: Translator, texts: Mapping[str, str],
                  today: dt.date) -> ServiceBlock:
    """One service's entries, empty values left out."""
    lang = tr.lang
    notifies = cell_text(row.get("notifies_authorities"))
    types = ", ".join(_vocab(SERVICE_TYPES, c, lang) for c in cell_list(row.get("service_types")))
    before = [
        (texts["services"], types),
        (texts["distance"], distance_text(row, tr)),
        # No limits in the registry means none is known, so the sheet says nothing.
        (texts["ages"], age_text(row.get("age_min"), row.get("age_max"), tr, open_range="")),
    ]
    after = [
        (texts["hours"], cell_text(row.get("hours"))),
        (texts["referral"], cell_text(row.get("referral"))),
        (texts["languages"], ", ".join(tr.language(c) for c in cell_list(
            row.get("languages")))),
        (texts["cost"], cell_text(row.get("cost"))),
        (texts["notifies"], _vocab(NOTIFIES_AUTHORITIES, notifies, lang) if notifies else ""),
        (texts["verification"], freshness_text(row, tr, today)),
    ]
    source = source_url(row.get("source"))
    entries = [Entry(k, (Item(v),)) for k, v in before if v]
    entries += [_address(row, texts, lang), *_contacts(row, texts)]
    entries += [Entry(k, (Item(v),)) for k, v in after if v]
    if source:
        entries.append(Entry(texts["source"], (Item(source, source),)))
    return ServiceBlock(cell_text(row.get("name")), cell_text(row.get("organization")),
                        tuple(e for e in entries if e.items))


def searched_entries(searched: Searched, tr: Translator,
                     texts: Mapping[str, str]) -> tuple[Entry, ...]:
    """The search in words: place and radius, age, needs, languages."""
    place = searched.place or texts["place_none"]
    if searched.place and searched.radius_km is not None:
        place = texts["place_radius"].format(place=searched.place,
                                             km=f"{searched.radius_km:g}")
    if searched.age is not None:
        age = texts["age_years"].format(age=searched.age)
    elif searched.age_band:
        age = texts["age_band"].format(band=searched.age_band)
    else:
        age = texts["age_any"]
    needs = ", ".join(tr.label("service_types", c) for c in searched.services)
    entries = [Entry(texts["place"], (Item(place),)), Entry(texts["age"], (Item(age),)),
               Entry(texts["needs"], (Item(needs or texts["needs_any"]),))]
    if searched.languages:
        names = ", ".join(tr.language(c) for c in searched.languages)
        entries.append(Entry(texts["languages"], (Item(names),)))
    return tuple(entries)


def build_sheet(results: pd.DataFrame, lang: str = "es", searched: Searched | None = None,
                generated_on: dt.date | None = None,
                labels: Mapping[str, str] | None = None) -> Sheet:
    """The sheet's content for the chosen services (the frame is not modified).

    Parameters
    ----------
    results
        The chosen services, one row each, in display order: the columns of a
        search result (see `rcm_map.render.mapping`); missing columns count as empty.
    lang
        ``es``, ``en`` or ``fr``.
    searched
        What was searched; None prints "no place chosen" and "any".
    generated_on
        Date printed on the sheet; today when None.
    labels
        Overrides for `SHEET_LABELS` in that language.
    """
    tr = Translator(lang)
    texts = sheet_labels(tr.lang, labels)
    day = generated_on or dt.date.today()
    blocks = tuple(service_block(row, tr, texts, day) for row in public_rows(results))
    return Sheet(lang=tr.lang, texts=texts, generated_on=day.isoformat(),
                 searched=searched_entries(searched or Searched(), tr, texts),
                 services=blocks)


# --------------------------------------------------------------------------- HTML

_CSS = """
body { font: 11pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #000; margin: 1.5em; }
h1 { font-size: 16pt; margin: 0 0 0.2em; }
.meta { color: #333; margin: 0 0 0.8em; }
.notice { border: 2px solid #000; padding: 0.5em 0.8em; margin: 0 0 0.6em; font-weight: bold; }
.privacy { font-style: italic; margin: 0.4em 0 1em; }
.searched { margin: 0 0 0.6em; }
.service { border-top: 1px solid #777; padding: 0.6em 0; page-break-inside: avoid;
  break-inside: avoid; }
h2 { font-size: 13pt; margin: 0; }
.org { margin: 0 0 0.3em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 0.8em; margin: 0; }
dt { color: #333; }
dd { margin: 0; overflow-wrap: anywhere; unicode-bidi: isolate; }
dd > span, dd > a, h2, .org { unicode-bidi: isolate; }
.note { font-style: italic; }
a { color: #000; }
#print { font: inherit; padding: 0.4em 1.2em; margin: 0 0 1em; cursor: pointer; }
@page { margin: 1.5cm; }
@media print { body { margin: 0; } #print { display: none; } }
"""

PRINT_SCRIPT = ('document.getElementById("print").addEventListener("click",'
                "function(){window.print();});")
"""The page's only script; the Content-Security-Policy allows it by its hash alone."""

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(PRINT_SCRIPT.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src 'unsafe-inline'; "
                           f"script-src 'sha256-{_SCRIPT_HASH}'")


def _item_html(item: Item) -> str:
    text = escape_html(item.text)
    if item.href:
        return f'<a href="{escape_html(item.href)}">{text}</a>'
    return f'<span class="note">{text}</span>' if item.note else f"<span>{text}</span>"


def _entries_html(entries: Sequence[Entry]) -> str:
    return "".join(
        f"<dt>{escape_html(e.label)}</dt><dd>"
        + ("<br>" if e.lines else ", ").join(_item_html(i) for i in e.items) + "</dd>"
        for e in entries)


def _block_html(block: ServiceBlock) -> str:
    org = f'<p class="org">{escape_html(block.organization)}</p>' if block.organization else ""
    return (f'<section class="service"><h2>{escape_html(block.name)}</h2>{org}'
            f"<dl>{_entries_html(block.entries)}</dl></section>")


def sheet_html(sheet: Sheet) -> str:
    """A `Sheet` as a complete HTML document (UTF-8, no external resources)."""
    texts = sheet.texts
    body = "".join(_block_html(b) for b in sheet.services) or (
        f"<p>{escape_html(texts['empty'])}</p>")
    return "".join([
        "<!DOCTYPE html>\n",
        f'<html lang="{escape_html(sheet.lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        f"<title>{escape_html(texts['title'])}</title><style>{_CSS}</style></head><body>",
        f'<button type="button" id="print">{escape_html(texts["print"])}</button>',
        f"<h1>{escape_html(texts['title'])}</h1>",
        f'<p class="meta">{escape_html(texts["generated"])} {escape_html(sheet.generated_on)}</p>',
        f'<p class="notice">{escape_html(texts["verify"])}</p>',
        f'<h2>{escape_html(texts["searched"])}</h2>',
        f'<dl class="searched">{_entries_html(sheet.searched)}</dl>',
        f'<p class="privacy">{escape_html(texts["privacy"])}</p>',
        body,
        f"<script>{PRINT_SCRIPT}</script>",
        "</body></html>\n",
    ])


def referral_sheet_html(
    results: pd.DataFrame,
    lang: str = "es",
    labels: Mapping[str, str] | None = None,
    generated_on: dt.date | None = None,
    searched: Searched | None = None,
) -> str:
    """A standalone, printable HTML page listing the chosen services.

    See `build_sheet` for the parameters; the page has a print button (hidden in
    print) and no other script, image or external resource.
    """
    return sheet_html(build_sheet(results, lang, searched, generated_on, labels))
