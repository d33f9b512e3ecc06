"""Build the folium map of search results: fast, offline and injection-proof.

No Streamlit here (the UI passes the map to ``streamlit_folium.st_folium``).
The map is assembled from three parts, one module each:

* `rcm_map.render.mappayload`: the compact record of each service (popup text worded
  by `rcm_map.render.formatting` and `rcm_map.core.freshness`), the marker palette and
  the interface strings; the expected columns of ``results`` are listed there;
* `rcm_map.render.outlines`: the admin-1 outlines (`boundaries_payload`, which the UI
  caches, and `boundaries_near`);
* `rcm_map.render.maplayer`: `ServiceLayer`, the one element that embeds everything as
  ONE escaped JSON payload drawn by our own ``js/markers.js`` (why not folium markers
  and popups: see there).

Offline: the map's ``default_js`` / ``default_css`` are replaced by the files the
app serves itself (`rcm_map.render.assets`); `assert_offline` proves no element left a
CDN URL. With ``tiles=None`` (the default) the boundaries are the base map.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import pandas as pd

from rcm_map.core.geo import validate_lat_lon
from rcm_map.core.tiles import validate_template
from rcm_map.render import assets
from rcm_map.render.maplayer import ServiceLayer, ServiceMarkers
from rcm_map.render.mappayload import legend_codes, map_labels, services_payload, type_config
from rcm_map.render.outlines import boundaries_near, boundaries_payload
from rcm_map.render.placelabels import place_labels

CLUSTER_MIN = 40  # cluster when at least this many markers (dense); fewer stay visible
MAX_FIT_ZOOM = 11  # most points are city centres: closer than a city would suggest precision
MAX_ZOOM = 18


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


@dataclass(frozen=True)
class MapOptions:
    """What `build_map` and `build_map_parts` draw besides the results (keyword
    arguments of both; an unknown one is a TypeError, as for any function).

    Attributes
    ----------
    center
        Search point as ``(lat, lon)``; drawn with the radius circle.
    radius_km
        Search radius in km, drawn around `center`.
    boundaries
        Admin-1 boundaries: a GeoDataFrame, or the dict
        `rcm_map.render.outlines.boundaries_payload` returns (cache that one). Drawn
        as a layer; the base map when no tiles.
    lang
        ``es``, ``en`` or ``fr``: language of the popup and legend labels.
    labels
        Overrides for `rcm_map.render.mappayload.DEFAULT_LABELS` (UI strings, and
        ``type:<code>`` labels).
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
    place_name
        Name of the searched place, written beside the search point at every zoom
        (a border town is often too small for the place labels).
    """

    center: tuple[float, float] | None = None
    radius_km: float | None = None
    boundaries: Any = None
    lang: str = "es"
    labels: Mapping[str, str] | None = None
    selected_id: str | None = None
    tiles: str | None = None
    tile_attribution: str | None = None
    cluster_min: int = CLUSTER_MIN
    legend_collapsed: bool = False
    gazetteer: Any = None
    land: Mapping[str, Any] | None = None
    place_name: str | None = None


def build_map(results: pd.DataFrame, **options: Any) -> folium.Map:
    """Build the results map: `results` (columns in `rcm_map.render.mappayload`; not
    modified) drawn with the `MapOptions` given as keyword arguments.

    Returns a map whose only script and stylesheet URLs are the app's own
    ``/app/static/vendor/...`` files (see `assert_offline`).
    """
    opts = MapOptions(**options)
    tiles = _checked_tiles(opts.tiles, opts.tile_attribution)
    records, config, area, parts = _prepare(results, opts, tiles, area_from_results=True)
    outlines, around = config.pop("boundaries"), config.pop("land")
    m = _base_map(area, tiles, opts.tile_attribution)
    ServiceLayer({"config": {**config, **parts}, "services": records},
                 outlines, around).add_to(m)
    return m


def build_map_parts(results: pd.DataFrame,
                    **options: Any) -> tuple[folium.Map, folium.FeatureGroup]:
    """The results map in two parts, for an app that redraws only what changed.

    Same arguments as `build_map`. The map (search point and radius, outlines,
    land, place names) depends only on the search area, the language and the
    tiles, never on the results: its text is the same while only the filters or
    the selected service change. The services, their legend, the fit to them and
    the selection are a `folium.FeatureGroup` to hand to streamlit-folium as
    ``feature_group_to_add``, which swaps it inside the same map frame.
    """
    opts = MapOptions(**options)
    tiles = _checked_tiles(opts.tiles, opts.tile_attribution)
    records, config, area, parts = _prepare(results, opts, tiles, area_from_results=False)
    outlines, around = config.pop("boundaries"), config.pop("land")
    m = _base_map(area, tiles, opts.tile_attribution)
    ServiceLayer({"config": config}, outlines, around).add_to(m)
    group = folium.FeatureGroup(name="services", control=False)
    ServiceMarkers({"labels": config["labels"], **parts}, records).add_to(group)
    return m, group


def _prepare(
    results: pd.DataFrame, opts: MapOptions, tiles: str | None, *, area_from_results: bool,
) -> tuple[list[dict[str, Any]], dict[str, Any], list[list[float]] | None, dict[str, Any]]:
    """(records, the map's config, the area it shows, the services' config).

    The area is the results' bounds with the search point (`area_from_results`) or
    the search point and radius alone; outlines, land and place names are cut to it.
    """
    center = None if opts.center is None else _validate_center(opts.center)
    lang, boundaries, radius_km = opts.lang, opts.boundaries, opts.radius_km
    texts = map_labels(lang, opts.labels)
    records = services_payload(results, lang)
    fitted = _bounds(records, center, radius_km)
    area = fitted if area_from_results else _bounds([], center, radius_km)
    if boundaries is not None and not isinstance(boundaries, Mapping):
        boundaries = boundaries_payload(boundaries, lang)
    config = {
        "labels": texts, "bounds": area,
        "search": _search_config(center, radius_km, opts.place_name),
        "max_fit_zoom": MAX_FIT_ZOOM, "max_zoom": MAX_ZOOM, "tiles": tiles is not None,
        "places": [] if opts.gazetteer is None else _place_labels(opts.gazetteer, area),
        "boundaries": None if boundaries is None else boundaries_near(boundaries, area),
        "land": None if opts.land is None else boundaries_near(opts.land, area),
    }
    parts = {
        "types": type_config(lang, texts), "legend": legend_codes(records),
        "legend_collapsed": opts.legend_collapsed, "selected": opts.selected_id,
        "bounds": fitted, "cluster_min": opts.cluster_min, "max_fit_zoom": MAX_FIT_ZOOM,
    }
    return records, config, area, parts


@functools.lru_cache(maxsize=64)
def _labels_for(gazetteer: Any, area: tuple[tuple[float, ...], ...] | None) -> list[list[Any]]:
    return place_labels(gazetteer, area)


def _place_labels(gazetteer: Any, area: list[list[float]] | None) -> list[list[Any]]:
    """`place_labels`, the same list object for the same gazetteer and area (so its
    escaped JSON is made once per search area, not on every filter change). Never
    mutated."""
    return _labels_for(gazetteer, None if area is None else tuple(map(tuple, area)))


def _checked_tiles(tiles: str | None, tile_attribution: str | None) -> str | None:
    """None, "OpenStreetMap" or a valid tile URL template (with its attribution)."""
    if tiles in (None, "OpenStreetMap"):
        return tiles
    try:
        tiles = validate_template(str(tiles))
    except ValueError as err:
        raise ValueError(f"Expected tiles None, 'OpenStreetMap' or a tile URL template, "
                         f"instead got: {tiles!r}.") from err
    if not tile_attribution:
        raise ValueError(f"Expected an attribution with tiles {tiles!r}, "
                         f"instead got: {tile_attribution!r}.")
    return tiles


def _base_map(area: list[list[float]] | None, tiles: str | None,
              tile_attribution: str | None) -> folium.Map:
    m = folium.Map(
        location=_middle(area) if area else [15.0, -90.0],
        zoom_start=5, tiles=tiles, attr=tile_attribution, control_scale=True,
        prefer_canvas=False,
    )
    m.default_js = assets.js_urls()
    m.default_css = assets.css_urls()
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
    """The centre of [[south, west], [north, east]] as [lat, lon]."""
    (south, west), (north, east) = bounds
    return [(south + north) / 2, (west + east) / 2]


def _search_config(center: tuple[float, float] | None, radius_km: float | None,
                   name: str | None = None) -> dict | None:
    """The search point, its place's name and the radius (in metres) the script
    draws, or None."""
    if center is None:
        return None
    radius_m = float(radius_km) * 1000 if radius_km and radius_km > 0 else None
    search: dict[str, Any] = {"lat": center[0], "lon": center[1], "radius_m": radius_m}
    if name:
        search["name"] = name
    return search


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
