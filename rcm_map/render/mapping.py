"""Build the folium map of search results: fast, offline and injection-proof.

No Streamlit here (the UI passes the map to ``streamlit_folium.st_folium``).

Why not one ``folium.Marker`` + ``Popup`` per service:
it costs ~1.6 s per 1,000 markers, folium writes popup text raw into HTML and JS
template literals, and folium re-parses element output as Jinja template source,
so registry text such as ``{{ 7*191 }}`` is evaluated on the server.
Instead one `ServiceLayer` element embeds the results as ONE JSON array made by
`rcm_map.core.safety.json_for_script` (every ``<``, ``{``, ``}``, ``%``, backtick, ``$``
... inside strings is a ``\\uXXXX`` escape) and our own script
(``rcm_map/js/markers.js``) builds markers, popups (DOM text nodes only), the
legend, the search point and radius, and the admin-1 boundaries in the browser.

Offline: the map's ``default_js`` / ``default_css`` are replaced by the files the
app serves itself (`rcm_map.render.assets`); `assert_offline` proves no element left a
CDN URL. With ``tiles=None`` (the default) the boundaries are the base map.

Expected columns of ``results`` (a pandas or GeoPandas frame, one row per service)
--------------------------------------------------------------------------------
``id``, ``name``, ``organization``, ``service_types`` (list of codes; the first is
the primary type that picks the marker), ``age_min``, ``age_max``, ``phones``
(list), ``email``, ``website``, ``hours``, ``referral``, ``eligibility``, ``source_date``,
``verified_on``, ``verified_by``,
``location_precision`` (``address`` | ``city`` | ``confidential``), ``address``,
``city``, ``lon``, ``lat`` (or a point ``geometry``), optional ``distance_km`` and
``distance_band``. Missing columns are treated as empty; rows without coordinates
(country-wide services) are not drawn.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from rcm_map.core.freshness import freshness_text
from rcm_map.core.geo import validate_lat_lon
from rcm_map.core.i18n import FALLBACK_LANGUAGE, Translator, catalogue
from rcm_map.core.safety import (
    DISTANCE_BANDS,
    distance_band,
    distance_band_label,
    json_for_script,
    mailto_href,
    public_point,
    safe_url,
    tel_href,
)
from rcm_map.core.schema import LANGUAGES_UI, SERVICE_TYPES
from rcm_map.core.tiles import validate_template
from rcm_map.render import assets
from rcm_map.render.formatting import cell_list, cell_text
from rcm_map.render.formatting import is_missing as _missing
from rcm_map.render.placelabels import place_labels

JS_DIR = Path(__file__).resolve().parent / "js"

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

# UI strings the map shows. The UI may pass its own catalogue via `labels`.
def catalogue_section(prefix: str) -> dict[str, dict[str, str]]:
    """Strings under `prefix` in each language's catalogue (Spanish where one has none)."""
    return {lang: {key.removeprefix(prefix): text for key, text in catalogue(lang).items()
                   if key.startswith(prefix)} for lang in LANGUAGES_UI}


# UI strings the map shows, from the app's catalogues. The UI may pass its own via `labels`.
DEFAULT_LABELS: dict[str, dict[str, str]] = catalogue_section("popup.")

CLUSTER_MIN = 40  # cluster when at least this many markers (dense); fewer stay visible
MAX_FIT_ZOOM = 11  # most points are city centres: closer than a city would suggest precision
MAX_ZOOM = 18
BOUNDARY_TOLERANCE_DEG = 0.01  # ~1 km: enough for an admin-1 outline on screen
SIMPLIFY_FRACTION = 0.003  # of a unit's bbox diagonal: coarser for huge units
_BAND_CODES = {code for code, _ in DISTANCE_BANDS}


class ServiceLayer(MacroElement):
    """Everything the map draws from data, as one JSON payload plus our script.

    Jinja sees the payload and the script only as *output* of ``{{ ... }}``; branca
    then re-parses that output as a template, which is harmless because the JSON
    has no ``{``, ``}`` or ``%`` inside strings and ``markers.js`` / ``markers.css``
    contain no ``{{``, ``{%`` or ``{#`` (tests check both).
    """

    _template = Template(
        "{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}\n"
        "{% macro script(this, kwargs) %}\n{{ this.js }}\n"
        "rcmRender({{ this._parent.get_name() }}, {{ this.payload }});\n{% endmacro %}"
    )
    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, payload: Mapping[str, Any], boundaries: Mapping[str, Any] | None = None,
                 land: Mapping[str, Any] | None = None):
        super().__init__()
        self._name = "RcmServiceLayer"
        config = dict(payload["config"])
        config.pop("boundaries", None)
        config_json = json_for_script(config)
        # The outlines are the bulk of the payload and the same on every rerun:
        # their escaped JSON is cached per feature (see `_feature_json`).
        outlines = "null" if boundaries is None else _boundaries_json(boundaries)
        around = "null" if land is None else _boundaries_json(land)
        self.payload = (f'{{"config":{config_json[:-1]},"boundaries":{outlines},'
                        f'"land":{around}}},'
                        f'"services":{json_for_script(payload["services"])}}}')
        self.js = read_asset("markers.js")
        self.css = read_asset("markers.css")

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # branca's returns None too
        """Add our header and script to the page as plain text.

        branca's `MacroElement.render` wraps each macro's output in a new
        `Element`, i.e. compiles the *output* as a Jinja template again: a second
        parse of the whole JSON payload (~30 ms per rerun at 200 services) and the
        mechanism that evaluates registry text such as ``{{ 7*191 }}`` on the
        server. Our output is final text, so it skips that.
        streamlit-folium calls the macros directly and is unaffected.
        """
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("ServiceLayer must be added to a map inside a Figure.")
        module = self._template.module
        figure.header.add_child(RawText(module.header(self, kwargs)), name=self.get_name())
        figure.script.add_child(RawText(module.script(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class RawText(Element):
    """Text that goes into the page exactly as given: never parsed as a template."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


_FEATURE_JSON: OrderedDict[int, tuple[Mapping[str, Any], str]] = OrderedDict()
_FEATURE_JSON_LOCK = threading.Lock()
_FEATURE_JSON_MAX = 4096


def _feature_json(feature: Mapping[str, Any]) -> str:
    """`json_for_script(feature)`, remembered for features seen before (same object).

    Boundary features come from `boundaries_payload`, which the app caches and
    never mutates, so the object identity is a safe key; the entry keeps the
    object alive, so an id is never reused while it is cached.
    """
    key = id(feature)
    with _FEATURE_JSON_LOCK:
        hit = _FEATURE_JSON.get(key)
        if hit is not None and hit[0] is feature:
            _FEATURE_JSON.move_to_end(key)
            return hit[1]
    text = json_for_script(feature)
    with _FEATURE_JSON_LOCK:
        _FEATURE_JSON[key] = (feature, text)
        while len(_FEATURE_JSON) > _FEATURE_JSON_MAX:
            _FEATURE_JSON.popitem(last=False)
    return text


def _boundaries_json(payload: Mapping[str, Any]) -> str:
    """A FeatureCollection's escaped JSON, assembled from per-feature JSON."""
    features = ",".join(_feature_json(f) for f in payload.get("features", []))
    return f'{{"type":"FeatureCollection","features":[{features}]}}'


@functools.lru_cache(maxsize=8)
def read_asset(name: str) -> str:
    """Text of one of our own browser files in ``rcm_map/js/``."""
    return (JS_DIR / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- values


def age_text(lo: Any, hi: Any, years: str) -> str:
    """'12-17 años', '12+ años', '0-17 años' or ''."""
    lo_s = "" if _missing(lo) else str(int(lo))
    hi_s = "" if _missing(hi) else str(int(hi))
    if lo_s and hi_s:
        return f"{lo_s}-{hi_s} {years}"
    if lo_s:
        return f"{lo_s}+ {years}"
    if hi_s:
        return f"0-{hi_s} {years}"
    return ""


def _km_text(km: float, lang: str) -> str:
    """'3.2 km' (en) or '3,2 km' (es, fr)."""
    text = f"{km:.1f}" if km < 100 else f"{km:.0f}"
    return (text if lang == "en" else text.replace(".", ",")) + " km"


def distance_text(row: Mapping[str, Any], confidential: bool, lang: str) -> str:
    """Exact distance, or only a band for confidential services."""
    band, km = row.get("distance_band"), row.get("distance_km")
    if confidential:
        if not _missing(band):
            return distance_band_label(band, lang) if band in _BAND_CODES else str(band)
        if km is not None and not _missing(km):
            return distance_band_label(distance_band(float(km)), lang)
        return ""
    return "" if km is None or _missing(km) else _km_text(float(km), lang)


def _on_public_grid(lon: float, lat: float) -> bool:
    """True when (lon, lat) is a 0.1-degree cell centre, as public points are."""
    return all(abs(v * 10 - 0.5 - round(v * 10 - 0.5)) < 1e-6 for v in (lon, lat))


def _coordinates(row: Mapping[str, Any]) -> tuple[float, float] | None:
    """(lon, lat) of a row, from lon/lat columns or a point geometry, or None."""
    lon: Any = row.get("lon")
    lat: Any = row.get("lat")
    if _missing(lon) or _missing(lat):
        geom = row.get("geometry")
        if geom is None or getattr(geom, "is_empty", True) or geom.geom_type != "Point":
            return None
        lon, lat = geom.x, geom.y
    lon, lat = float(lon), float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    return lon, lat


# --------------------------------------------------------------------------- payload


def service_record(row: Mapping[str, Any], lang: str, labels: Mapping[str, str],
                   verification: str | None = None) -> dict | None:
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
    # Never the street address of a confidential service: its city at most.
    parts = (cell_text(row.get("city")),) if confidential else (
        cell_text(row.get("address")), cell_text(row.get("city")))
    address = ", ".join(t for t in parts if t)
    record = {
        "i": cell_text(row.get("id")), "n": cell_text(row.get("name")),
        "o": cell_text(row.get("organization")), "t": cell_list(row.get("service_types")),
        "a": age_text(row.get("age_min"), row.get("age_max"), labels["years"]),
        "p": phones, "e": [email, mailto_href(email)] if email else None,
        "w": safe_url(row.get("website")), "h": cell_text(row.get("hours")),
        "r": cell_text(row.get("referral")), "g": cell_text(row.get("eligibility")),
        "v": verification if verification is not None else freshness_text(row, lang),
        "q": precision, "ad": address,
        "d": distance_text(row, confidential, lang),
        "x": round(lon, 5), "y": round(lat, 5),
    }
    return {k: v for k, v in record.items() if v not in ("", None, [])}


def services_payload(
    results: pd.DataFrame, lang: str = "es", labels: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Compact records of every placed service in `results` (input is not modified)."""
    texts = map_labels(lang, labels)
    # Column lists + zip: ~4x faster than DataFrame.to_dict("records") on the
    # Arrow-backed columns a Registry holds, and only the columns popups use.
    columns = [c for c in PAYLOAD_COLUMNS if c in results.columns]
    if "geometry" in results.columns and "lon" not in results.columns:
        columns.append("geometry")
    values = [results[c].tolist() for c in columns]
    tr = Translator(lang)
    memo: dict[tuple[Any, ...], str] = {}  # a few hundred distinct dates in any result

    def record(row: dict[str, Any]) -> dict | None:
        key = tuple(str(row.get(c, "")) for c in ("source_date", "verified_on", "verified_by"))
        if key not in memo:
            memo[key] = freshness_text(row, tr)
        return service_record(row, lang, texts, memo[key])

    records = (record(dict(zip(columns, row, strict=True))) for row in zip(*values, strict=True))
    return [r for r in records if r is not None]


PAYLOAD_COLUMNS = (
    "id", "name", "organization", "service_types", "age_min", "age_max", "phones", "email",
    "website", "hours", "referral", "eligibility", "source_date", "verified_on", "verified_by",
    "location_precision", "address", "city",
    "lon", "lat", "distance_km", "distance_band",
)


def map_labels(lang: str, labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """The UI strings for `lang`, with `labels` overriding any of them."""
    base = dict(DEFAULT_LABELS.get(lang, DEFAULT_LABELS[FALLBACK_LANGUAGE]))
    base.update(labels or {})
    return base


def type_config(lang: str, labels: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Colour, glyph, text colour and translated label of every service type."""
    tr = Translator(lang)
    out = {}
    for code, style in MARKER_PALETTE.items():
        name = tr.label("service_types", code) if code in SERVICE_TYPES else labels["other"]
        out[code] = {**style, "label": labels.get(f"type:{code}", name)}
    return out


def boundaries_payload(
    boundaries: Any, lang: str = "es", tolerance: float = BOUNDARY_TOLERANCE_DEG
) -> dict[str, Any]:
    """Simplified admin-1 boundaries as a GeoJSON FeatureCollection dict.

    Only ``code`` and ``name`` properties are kept (folium would embed every
    column). Each unit is simplified to `tolerance` degrees or 0.3 % of its
    bounding-box diagonal, whichever is larger (Canada's territories would
    otherwise outweigh all of Central America), rounded to 3 decimals (~100 m),
    and carries its ``bbox`` so `build_map` can send only units near the view.
    The code comes from ``admin1_code``/``code``/``admin1``, the name from
    ``name_<lang>`` or ``name``. Cache the result in the UI.
    """
    gdf = boundaries.to_crs(4326) if boundaries.crs is not None else boundaries
    code_col = next((c for c in ("admin1_code", "code", "admin1") if c in gdf), None)
    name_col = next((c for c in (f"name_{lang}", "name") if c in gdf), None)
    geoms = gdf.geometry.to_numpy()
    boxes = shapely.bounds(geoms)
    diag = np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    tolerances = np.maximum(tolerance, np.nan_to_num(diag) * SIMPLIFY_FRACTION)
    simple = shapely.simplify(geoms, tolerances, preserve_topology=True)
    simple = shapely.transform(simple, lambda xy: np.round(xy, 3))
    features = []
    for idx, geom in enumerate(simple):
        if geom is None or geom.is_empty:
            continue
        props = {
            "code": cell_text(gdf[code_col].iloc[idx]) if code_col else "",
            "name": cell_text(gdf[name_col].iloc[idx]) if name_col else "",
        }
        features.append({"type": "Feature", "properties": props,
                         "bbox": [round(float(v), 3) for v in boxes[idx]],
                         "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": features}


def boundaries_near(
    payload: Mapping[str, Any], bounds: list[list[float]] | None, margin_deg: float = 8.0
) -> dict[str, Any]:
    """Only the features whose bbox meets `bounds` grown by `margin_deg` degrees.

    Keeps the map payload bounded, whatever the registry size, while leaving
    context to pan into.
    """
    if bounds is None:
        return dict(payload)
    (south, west), (north, east) = bounds
    keep = [
        f for f in payload.get("features", [])
        if "bbox" not in f or (
            f["bbox"][0] <= east + margin_deg and f["bbox"][2] >= west - margin_deg
            and f["bbox"][1] <= north + margin_deg and f["bbox"][3] >= south - margin_deg
        )
    ]
    return {"type": "FeatureCollection", "features": keep}


def _bounds(
    records: Sequence[Mapping[str, Any]], center: tuple[float, float] | None,
    radius_km: float | None,
) -> list[list[float]] | None:
    """[[south, west], [north, east]] around the results and the search area."""
    lats = [r["y"] for r in records]
    lons = [r["x"] for r in records]
    if center is not None:
        lat, lon = center
        lats.append(lat)
        lons.append(lon)
        if radius_km and not records:
            dlat = radius_km / 111.2
            dlon = dlat / max(math.cos(math.radians(lat)), 0.05)
            lats += [lat - dlat, lat + dlat]
            lons += [lon - dlon, lon + dlon]
    if not lats:
        return None
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


# --------------------------------------------------------------------------- map


def build_map(
    results: pd.DataFrame,
    *,
    center: tuple[float, float] | None = None,
    radius_km: float | None = None,
    boundaries: Any = None,
    lang: str = "es",
    labels: Mapping[str, str] | None = None,
    selected_id: str | None = None,
    tiles: str | None = None,
    tile_attribution: str | None = None,
    cluster_min: int = CLUSTER_MIN,
    legend_collapsed: bool = False,
    gazetteer: Any = None,
    land: Mapping[str, Any] | None = None,
) -> folium.Map:
    """Build the results map.

    Parameters
    ----------
    results
        Services to draw (columns in the module docstring). Not modified.
    center
        Search point as ``(lat, lon)``; drawn with the radius circle.
    radius_km
        Search radius in km, drawn around `center`.
    boundaries
        Admin-1 boundaries: a GeoDataFrame, or the dict `boundaries_payload`
        returns (cache that one). Drawn as a layer; the base map when no tiles.
    lang
        ``es``, ``en`` or ``fr``: language of the popup and legend labels.
    labels
        Overrides for `DEFAULT_LABELS` (UI strings, and ``type:<code>`` labels).
    selected_id
        Id of a service whose marker is highlighted, zoomed to and opened.
    tiles
        None (default, offline: no tiles), ``"OpenStreetMap"``, or a deployment's
        tile URL template (`rcm_map.core.tiles`) with `tile_attribution`.
    tile_attribution
        Credit line of the tile provider; required with a URL template.
    cluster_min
        Cluster markers when there are at least this many.
    legend_collapsed
        Start with the legend folded (small screens).
    gazetteer
        A `rcm_map.gazetteer.Gazetteer`: its place names are drawn as labels by
        zoom level (`rcm_map.render.placelabels`), so an offline map says where it is.
    land
        Land around the eight countries (`rcm_map.core.boundaries.neighbour_land`),
        drawn under the outlines so neighbours do not read as sea.

    Returns
    -------
    folium.Map
        A map whose only script and stylesheet URLs are the app's own
        ``/app/static/vendor/...`` files (see `assert_offline`).
    """
    if tiles not in (None, "OpenStreetMap"):
        try:
            tiles = validate_template(str(tiles))
        except ValueError as err:
            raise ValueError(f"Expected tiles None, 'OpenStreetMap' or a tile URL template, "
                             f"instead got: {tiles!r}.") from err
        if not tile_attribution:
            raise ValueError(f"Expected an attribution with tiles {tiles!r}, "
                             f"instead got: {tile_attribution!r}.")
    if center is not None:
        center = _validate_center(center)
    texts = map_labels(lang, labels)
    records = services_payload(results, lang, texts)
    bounds = _bounds(records, center, radius_km)
    m = folium.Map(
        location=_middle(bounds) if bounds else [15.0, -90.0],
        zoom_start=5, tiles=tiles, attr=tile_attribution, control_scale=True,
        prefer_canvas=False,
    )
    m.default_js = assets.js_urls()
    m.default_css = assets.css_urls()
    if boundaries is not None and not isinstance(boundaries, Mapping):
        boundaries = boundaries_payload(boundaries, lang)
    if boundaries is not None:
        boundaries = boundaries_near(boundaries, bounds)
    config = {
        "labels": texts, "types": type_config(lang, texts),
        "legend": _legend_codes(records), "legend_collapsed": legend_collapsed,
        "search": _search_config(center, radius_km),
        "selected": selected_id, "bounds": bounds, "cluster_min": cluster_min,
        "max_fit_zoom": MAX_FIT_ZOOM, "max_zoom": MAX_ZOOM, "tiles": tiles is not None,
        "places": place_labels(gazetteer, bounds) if gazetteer is not None else [],
    }
    if land is not None:
        land = boundaries_near(land, bounds)
    ServiceLayer({"config": config, "services": records}, boundaries, land).add_to(m)
    return m


def _validate_center(center: Sequence[float]) -> tuple[float, float]:
    """Check a (lat, lon) pair, quoting the bad value like folium does."""
    try:
        lat, lon = center
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"Expected two (lat, lon) values for center, instead got: {center!r}."
        ) from err
    return validate_lat_lon(lat, lon)


def _middle(bounds: list[list[float]]) -> list[float]:
    (south, west), (north, east) = bounds
    return [(south + north) / 2, (west + east) / 2]


def _search_config(center: tuple[float, float] | None, radius_km: float | None) -> dict | None:
    if center is None:
        return None
    radius_m = float(radius_km) * 1000 if radius_km and radius_km > 0 else None
    return {"lat": center[0], "lon": center[1], "radius_m": radius_m}


def _legend_codes(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Primary service types present, in palette order (or `_other`)."""
    present = {(r.get("t") or ["_other"])[0] for r in records}
    present = {c if c in MARKER_PALETTE else "_other" for c in present}
    return [c for c in MARKER_PALETTE if c in present]


# --------------------------------------------------------------------------- checks


def render_html(m: folium.Map) -> str:
    """The standalone HTML page of the map (what ``m.save`` writes)."""
    return m.get_root().render()


def map_payload_bytes(m: folium.Map) -> int:
    """Size in bytes (UTF-8) of the map's standalone HTML, for the benchmark."""
    return len(render_html(m).encode("utf-8"))


_EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)"""
    r"""|@import\s+(?:url\()?\s*["']?((?:https?:)?//[^"')\s]+)""",
    re.IGNORECASE,
)


def external_urls(html: str) -> list[str]:
    """Absolute (http, https or protocol-relative) URLs of scripts, links, images,
    frames and CSS imports in `html`."""
    return [a or b for a, b in _EXTERNAL.findall(html)]


def element_asset_urls(m: folium.Map) -> list[str]:
    """Every ``default_js`` / ``default_css`` URL of `m` and its children
    (what streamlit-folium loads into its iframe)."""
    urls: list[str] = []
    stack: list[Any] = [m]
    while stack:
        elem = stack.pop()
        urls += [u for _, u in getattr(elem, "default_js", [])]
        urls += [u for _, u in getattr(elem, "default_css", [])]
        stack += list(getattr(elem, "_children", {}).values())
    return urls


def assert_offline(m: folium.Map) -> None:
    """Raise AssertionError if the map would load any script or style from the web.

    Checks the rendered HTML and every element's asset list; tile URLs (online
    tiles are opt-in) are not assets and are not checked.
    """
    remote = [u for u in element_asset_urls(m) if not u.startswith("/")]
    remote += external_urls(render_html(m))
    if remote:
        raise AssertionError(f"Map loads remote assets: {sorted(set(remote))!r}")
