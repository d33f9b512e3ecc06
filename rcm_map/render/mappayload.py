"""What the results map sends to the browser: one compact record per service, the
marker palette and the interface strings.

Expected columns of ``results`` (a pandas or GeoPandas frame, one row per service)
--------------------------------------------------------------------------------
``id``, ``name``, ``organization``, ``service_types`` (list of codes; the first is
the primary type that picks the marker), ``age_min``, ``age_max``, ``phones``
(list), ``email``, ``website``, ``hours``, ``referral``, ``eligibility``, ``source_date``,
``verified_on``, ``verified_by``,
``location_precision`` (``address`` | ``city`` | ``confidential``), ``address``,
``city``, ``lon``, ``lat`` (or a point ``geometry``), optional ``distance_km`` and
``distance_band``. Missing columns are treated as empty; rows without a valid
position (country-wide services) are not drawn.

Ages and distances are worded by `rcm_map.render.formatting` and the verification
line by `rcm_map.core.freshness`, so a popup reads like the result card and the
referral sheet. Values are plain text here; `rcm_map.render.maplayer` escapes them
and ``markers.js`` only ever puts them in DOM text nodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from rcm_map.core.freshness import freshness_text
from rcm_map.core.geo import lat_lon_problem
from rcm_map.core.i18n import Translator
from rcm_map.core.safety import mailto_href, public_point, safe_url, tel_href
from rcm_map.core.schema import SERVICE_TYPES
from rcm_map.render.formatting import (
    address_text,
    age_text,
    catalogue_section,
    cell_list,
    cell_text,
    distance_text,
    is_missing,
)

# Colour-blind-safe colours (Okabe & Ito 2008) by family of service; the glyph
# tells types of one family apart, so colour is never the only cue. `text` is the
# glyph colour with enough contrast on `color`. Glyphs are in DejaVu Sans, Segoe UI
# Symbol and Noto Sans Symbols.
_BLUE, _ORANGE, _PURPLE, _GREEN = "#0072B2", "#E69F00", "#CC79A7", "#009E73"
_SKY, _VERMILLION, _YELLOW, _BLACK = "#56B4E9", "#D55E00", "#F0E442", "#000000"
MARKER_PALETTE: dict[str, dict[str, str]] = {
    "child_protection_authority": {"color": _BLUE, "text": "#ffffff", "glyph": "★"},
    "migration_authority": {"color": _BLUE, "text": "#ffffff", "glyph": "◆"},
    "migration_holding": {"color": _BLUE, "text": "#ffffff", "glyph": "▣"},
    "consular_assistance": {"color": _BLUE, "text": "#ffffff", "glyph": "⚐"},
    "documentation": {"color": _BLUE, "text": "#ffffff", "glyph": "▤"},
    "shelter": {"color": _ORANGE, "text": "#000000", "glyph": "⌂"},
    "food_basic_needs": {"color": _ORANGE, "text": "#000000", "glyph": "♨"},
    "return_reception": {"color": _ORANGE, "text": "#000000", "glyph": "↩"},
    "legal_assistance": {"color": _PURPLE, "text": "#000000", "glyph": "⚖"},
    "asylum_refugee": {"color": _PURPLE, "text": "#000000", "glyph": "☂"},
    "health": {"color": _GREEN, "text": "#000000", "glyph": "✚"},
    "psychosocial": {"color": _GREEN, "text": "#000000", "glyph": "♥"},
    "family_tracing_reunification": {"color": _SKY, "text": "#000000", "glyph": "∞"},
    "anti_trafficking": {"color": _VERMILLION, "text": "#ffffff", "glyph": "⚠"},
    "education": {"color": _YELLOW, "text": "#000000", "glyph": "✎"},
    "hotline": {"color": _BLACK, "text": "#ffffff", "glyph": "☎"},
    "_other": {"color": "#999999", "text": "#000000", "glyph": "•"},
}

# UI strings the map shows, from the app's catalogues. The UI may pass its own via `labels`.
DEFAULT_LABELS: dict[str, dict[str, str]] = catalogue_section("popup.")

PAYLOAD_COLUMNS = (
    "id", "name", "organization", "service_types", "age_min", "age_max", "phones", "email",
    "website", "hours", "referral", "eligibility", "source_date", "last_verified",
    "verified_on", "verified_by", "location_precision", "address", "city",
    "lon", "lat", "distance_km", "distance_band",
)
_DATE_COLUMNS = ("source_date", "last_verified", "verified_on")  # what `freshness_text` reads


def map_labels(lang: str, labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """The UI strings for `lang`, with `labels` overriding any of them."""
    base = dict(DEFAULT_LABELS.get(lang, DEFAULT_LABELS["en"]))
    base.update(labels or {})
    return base


def type_config(lang: str, labels: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Colour, glyph, text colour and translated label of every service type."""
    out = {}
    for code, style in MARKER_PALETTE.items():
        names = SERVICE_TYPES.get(code)
        name = (names.get(lang) or names["en"]) if names else labels["other"]
        out[code] = {**style, "label": labels.get(f"type:{code}", name)}
    return out


def legend_codes(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Primary service types present in `records`, in palette order (or `_other`)."""
    present = {(r.get("t") or ["_other"])[0] for r in records}
    present = {c if c in MARKER_PALETTE else "_other" for c in present}
    return [c for c in MARKER_PALETTE if c in present]


def _on_public_grid(lon: float, lat: float) -> bool:
    """True when (lon, lat) is a 0.1-degree cell centre, as public points are."""
    return all(abs(v * 10 - 0.5 - round(v * 10 - 0.5)) < 1e-6 for v in (lon, lat))


def _coordinates(row: Mapping[str, Any]) -> tuple[float, float] | None:
    """(lon, lat) of a row, from lon/lat columns or a point geometry; None when it has
    no position on Earth (`rcm_map.core.geo.lat_lon_problem`)."""
    lon: Any = row.get("lon")
    lat: Any = row.get("lat")
    if is_missing(lon) or is_missing(lat):
        geom = row.get("geometry")
        if geom is None or getattr(geom, "is_empty", True) or geom.geom_type != "Point":
            return None
        lon, lat = geom.x, geom.y
    if lat_lon_problem(lat, lon) is not None:
        return None
    return float(lon), float(lat)


def service_record(row: Mapping[str, Any], tr: Translator, verification: str | None = None
                   ) -> dict | None:
    """The compact record the browser needs for one service, or None if unplaced.

    ``v`` is `rcm_map.core.freshness.freshness_text`: whether the network verified the
    entry or only a dated source supports it (`verification` passes it precomputed).

    Confidential rows never carry ``address``, and their distance is a band. If a
    confidential row is not on the public grid (the engine should already have
    moved it), it is moved here with `rcm_map.core.safety.public_point`.
    """
    where = _coordinates(row)
    if where is None:
        return None
    precision = cell_text(row.get("location_precision")) or "address"
    confidential = precision == "confidential"
    lon, lat = where
    if confidential and not _on_public_grid(lon, lat):
        lon, lat = public_point(lon, lat, cell_text(row.get("country")) or None,
                                cell_text(row.get("admin1")) or None)
    phones = [[p, tel_href(p)] for p in cell_list(row.get("phones"))]
    email = cell_text(row.get("email"))
    record = {
        "i": cell_text(row.get("id")), "n": cell_text(row.get("name")),
        "o": cell_text(row.get("organization")), "t": cell_list(row.get("service_types")),
        # No limits in the registry means none is known: the popup says nothing.
        "a": age_text(row.get("age_min"), row.get("age_max"), tr, open_range=""),
        "p": phones, "e": [email, mailto_href(email)] if email else None,
        "w": safe_url(row.get("website")), "h": cell_text(row.get("hours")),
        "r": cell_text(row.get("referral")), "g": cell_text(row.get("eligibility")),
        "v": verification if verification is not None else freshness_text(row, tr),
        "q": precision, "ad": address_text(row),  # a confidential one's city at most
        "d": distance_text(row, tr),
        "x": round(lon, 5), "y": round(lat, 5),
    }
    return {k: v for k, v in record.items() if v not in ("", None, [])}


def services_payload(results: pd.DataFrame, lang: str = "es") -> list[dict[str, Any]]:
    """Compact records of every placed service in `results` (input is not modified)."""
    # Column lists + zip: ~4x faster than DataFrame.to_dict("records") on the
    # Arrow-backed columns a Registry holds, and only the columns popups use.
    columns = [c for c in PAYLOAD_COLUMNS if c in results.columns]
    if "geometry" in results.columns and "lon" not in results.columns:
        columns.append("geometry")
    values = [results[c].tolist() for c in columns]
    tr = Translator(lang)
    memo: dict[tuple[str, ...], str] = {}  # a few hundred distinct dates in any result

    def record(row: dict[str, Any]) -> dict | None:
        key = tuple(str(row.get(c, "")) for c in _DATE_COLUMNS)
        if key not in memo:
            memo[key] = freshness_text(row, tr)
        return service_record(row, tr, memo[key])

    records = (record(dict(zip(columns, row, strict=True))) for row in zip(*values, strict=True))
    return [r for r in records if r is not None]
