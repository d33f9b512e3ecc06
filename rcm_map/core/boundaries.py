"""Country (admin-0) and province/state (admin-1) boundaries: lookups by point.

The polygons are Natural Earth 1:10m (public domain, see data/README.md), whose
land borders are off by 1-2 km in places: Ciudad Hidalgo (Chiapas) tests as
Guatemala, Gatineau as Ontario, Corinto (Nicaragua) falls in the sea. Every
lookup that decides whether a point belongs to a unit therefore takes a
tolerance in kilometres, measured on the ground (local equirectangular
projection around the point, exact to well under 1% at these distances), never
in degrees.

Pure module: no Streamlit. GeoPandas is imported only by the two functions that
return GeoDataFrames, so the point lookups stay cheap to import.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import shape

from rcm_map.core.polygonindex import PolygonIndex

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "admin_boundaries"
ADMIN0_PATH = DATA_DIR / "admin0.geojson"
ADMIN1_PATH = DATA_DIR / "admin1.geojson"
NEIGHBOURS_PATH = DATA_DIR / "neighbours.geojson"  # scripts/build_neighbours.py

DEFAULT_TOLERANCE_KM = 5.0


@dataclass(frozen=True)
class Admin1Unit:
    """One province, state, department, region or comarca."""

    code: str  # ISO 3166-2, e.g. "MX-CHP"
    country: str  # ISO 3166-1 alpha-3
    name: str
    name_es: str
    type_en: str


@lru_cache(maxsize=8)
def _features(path: str) -> tuple[dict[str, Any], ...]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: expected a GeoJSON FeatureCollection")
    return tuple(data["features"])


@lru_cache(maxsize=2)
def neighbour_land(path: str | Path | None = None) -> dict[str, Any]:
    """The land around the eight countries (Natural Earth 1:50m countries, clipped and
    simplified) as a FeatureCollection whose features carry their ``bbox``, so the
    offline map draws Belize or Cuba as land, not sea. Read-only: cached."""
    features = []
    for feature in _features(_path(path, NEIGHBOURS_PATH)):
        bbox = [round(float(v), 3) for v in shapely.bounds(shape(feature["geometry"]))]
        features.append({**feature, "bbox": bbox})
    return {"type": "FeatureCollection", "features": features}


def _path(path: str | Path | None, default: Path) -> str:
    return str(Path(path) if path is not None else default)


@lru_cache(maxsize=8)
def _frame(path: str) -> gpd.GeoDataFrame:
    import geopandas as gpd  # heavy import (~0.5 s): only for callers that want frames

    return gpd.GeoDataFrame.from_features(list(_features(path)), crs="EPSG:4326")


def load_admin0(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Countries as a GeoDataFrame (columns country_iso3, name, name_es, geometry).

    Parameters
    ----------
    path : str or Path, optional
        GeoJSON file; defaults to ``data/admin_boundaries/admin0.geojson``.

    Returns
    -------
    geopandas.GeoDataFrame
        Cached per path: treat it as read-only (copy before changing it).
    """
    return _frame(_path(path, ADMIN0_PATH))


def load_admin1(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Admin-1 units as a GeoDataFrame (country_iso3, admin1_code, name, name_es, type_en).

    Parameters
    ----------
    path : str or Path, optional
        GeoJSON file; defaults to ``data/admin_boundaries/admin1.geojson``.

    Returns
    -------
    geopandas.GeoDataFrame
        Cached per path: treat it as read-only (copy before changing it).
    """
    return _frame(_path(path, ADMIN1_PATH))


@lru_cache(maxsize=8)
def _units(path: str) -> tuple[Admin1Unit, ...]:
    units = []
    for feat in _features(path):
        p = feat["properties"]
        units.append(Admin1Unit(p["admin1_code"], p["country_iso3"], p["name"],
                                p.get("name_es") or p["name"], p.get("type_en") or ""))
    return tuple(sorted(units, key=lambda u: u.code))


def admin1_units(country: str | None = None, path: str | Path | None = None) -> list[Admin1Unit]:
    """List admin-1 units, optionally of one country, sorted by code.

    Parameters
    ----------
    country : str, optional
        ISO 3166-1 alpha-3 code such as ``"MEX"``.
    path : str or Path, optional
        Admin-1 GeoJSON file; defaults to the bundled one.

    Returns
    -------
    list of Admin1Unit
    """
    units = _units(_path(path, ADMIN1_PATH))
    return [u for u in units if country is None or u.country == country]


@lru_cache(maxsize=8)
def _index(path: str, key: str) -> PolygonIndex:
    feats = _features(path)
    keys = [f["properties"][key] for f in feats]
    geoms = [shape(f["geometry"]) for f in feats]
    return PolygonIndex(keys, geoms)


def _country_index() -> PolygonIndex:
    return _index(str(ADMIN0_PATH), "country_iso3")


def _admin1_index() -> PolygonIndex:
    return _index(str(ADMIN1_PATH), "admin1_code")


def _as_float_array(values: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected numbers, instead got: {values!r}") from exc
    return arr


def _within(
    index: PolygonIndex, lons: Any, lats: Any, codes: Sequence[str], tolerance_km: float
) -> np.ndarray:
    xs, ys = _as_float_array(lons, "lons"), _as_float_array(lats, "lats")
    codes = list(codes)
    if not len(xs) == len(ys) == len(codes):
        raise ValueError(
            f"lons, lats and codes must have the same length, instead got: "
            f"{len(xs)}, {len(ys)}, {len(codes)}"
        )
    target = np.array([index.key_index.get(c, -1) for c in codes], dtype=np.int64)
    finite = np.isfinite(xs) & np.isfinite(ys) & (target >= 0)
    result = np.zeros(len(xs), dtype=bool)
    todo = np.flatnonzero(finite)
    if len(todo) == 0:
        return result
    for code in np.unique(target[todo]).tolist():  # each point against its own polygon only
        points = todo[target[todo] == code]
        result[points] = shapely.contains_xy(index.geoms[code], xs[points], ys[points])
    rest = todo[~result[todo]]
    if len(rest) and tolerance_km > 0:
        near, polygon, _ = index.near_pairs(xs[rest], ys[rest], tolerance_km)
        result[rest[near[polygon == target[rest[near]]]]] = True
    return result


def points_in_country(
    lons: Any, lats: Any, iso3s: Sequence[str], tolerance_km: float = DEFAULT_TOLERANCE_KM
) -> np.ndarray:
    """Vectorised `point_in_country`: one boolean per point.

    Parameters
    ----------
    lons, lats : array-like of float
        WGS 84 coordinates in degrees.
    iso3s : sequence of str
        Declared country of each point (ISO 3166-1 alpha-3). Unknown codes give False.
    tolerance_km : float, default 5.0
        A point outside its country but within this ground distance of its border
        counts as inside (the 1:10m borders are off by 1-2 km).

    Returns
    -------
    numpy.ndarray of bool
        NaN or infinite coordinates give False.
    """
    return _within(_country_index(), lons, lats, iso3s, tolerance_km)


def country_codes() -> tuple[str, ...]:
    """The ISO3 codes of the bundled countries, in the order `countries_containing` numbers them."""
    return tuple(_country_index().keys)


def countries_containing(lons: Any, lats: Any) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (point index, index into `country_codes()`) of every country whose polygon
    contains the point: what `points_in_country(..., tolerance_km=0)` tests, for every
    country at once (finite coordinates only)."""
    xs, ys = _as_float_array(lons, "lons"), _as_float_array(lats, "lats")
    return _country_index().containing(xs, ys)


def admin1_codes() -> tuple[str, ...]:
    """The ISO 3166-2 codes of the bundled admin-1 units, in the order
    `admin1s_containing` numbers them."""
    return tuple(_admin1_index().keys)


def admin1s_containing(lons: Any, lats: Any) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (point index, index into `admin1_codes()`) of every admin-1 unit whose
    polygon contains the point (`points_in_admin1(..., tolerance_km=0)` for every unit)."""
    xs, ys = _as_float_array(lons, "lons"), _as_float_array(lats, "lats")
    return _admin1_index().containing(xs, ys)


def point_in_country(
    lon: float, lat: float, iso3: str, tolerance_km: float = DEFAULT_TOLERANCE_KM
) -> bool:
    """Whether (lon, lat) lies in country `iso3` or within `tolerance_km` of it.

    Parameters
    ----------
    lon, lat : float
        WGS 84 degrees. A swapped pair that stays in range lands elsewhere and gives False.
    iso3 : str
        ISO 3166-1 alpha-3 code, one of the eight countries; anything else gives False.
    tolerance_km : float, default 5.0
        Ground distance allowed outside the polygon.

    Returns
    -------
    bool
    """
    return bool(points_in_country([lon], [lat], [iso3], tolerance_km)[0])


def near_outline(lons: Any, lats: Any, distance_km: float) -> np.ndarray:
    """Whether each point lies within `distance_km` of any country outline (coast or border).

    Ground distance in a local equirectangular frame, like every lookup here. The
    bundled polygons hold only the eight countries, so a coast and a land border
    with a ninth country look alike: both count.
    """
    xs, ys = _as_float_array(lons, "lons"), _as_float_array(lats, "lats")
    result = np.zeros(len(xs), dtype=bool)
    result[_country_index().near_pairs(xs, ys, distance_km)[0]] = True
    return result


def points_in_admin1(
    lons: Any, lats: Any, codes: Sequence[str], tolerance_km: float = DEFAULT_TOLERANCE_KM
) -> np.ndarray:
    """Vectorised `point_in_admin1`: one boolean per point (unknown codes give False)."""
    return _within(_admin1_index(), lons, lats, codes, tolerance_km)


def point_in_admin1(
    lon: float, lat: float, code: str, tolerance_km: float = DEFAULT_TOLERANCE_KM
) -> bool:
    """Whether (lon, lat) lies in admin-1 unit `code` (ISO 3166-2) or within tolerance.

    Parameters
    ----------
    lon, lat : float
        WGS 84 degrees.
    code : str
        ISO 3166-2 code as in `admin1_units`, e.g. ``"GT-SM"``.
    tolerance_km : float, default 5.0

    Returns
    -------
    bool
    """
    return bool(points_in_admin1([lon], [lat], [code], tolerance_km)[0])


def _lookup(index: PolygonIndex, lon: float, lat: float, tolerance_km: float) -> list[str]:
    xs, ys = _as_float_array([lon], "lon"), _as_float_array([lat], "lat")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        return []
    _, geoms = index.containing(xs, ys)
    inside = sorted(index.keys[g] for g in geoms)
    near = sorted(
        (dist, index.keys[g]) for (_, g), dist in index.near(xs, ys, tolerance_km).items()
        if index.keys[g] not in inside
    )
    return inside + [key for _, key in near]


def country_at(lon: float, lat: float, tolerance_km: float = 3.0) -> list[str]:
    """Countries at a point: the containing one first, then others within tolerance.

    Parameters
    ----------
    lon, lat : float
        WGS 84 degrees.
    tolerance_km : float, default 3.0
        Also report countries whose border is this close (nearest first). Use 0 for a
        strict point-in-polygon answer.

    Returns
    -------
    list of str
        ISO3 codes; empty at sea or outside the eight countries.

    Examples
    --------
    Ciudad Hidalgo (Chiapas) sits on the Suchiate, which the 1:10m line misplaces:

    >>> country_at(-92.1497, 14.6806)
    ['GTM', 'MEX']
    """
    return _lookup(_country_index(), lon, lat, tolerance_km)


def admin1_near(lon: float, lat: float, tolerance_km: float = 25.0) -> list[str]:
    """Admin-1 units (ISO 3166-2 codes) containing the point or within
    `tolerance_km` of it: where a province-wide service applies."""
    return _lookup(_admin1_index(), lon, lat, tolerance_km)


def admin1_at(
    lon: float, lat: float, tolerance_km: float = 0.0, country: str | None = None
) -> str | None:
    """The admin-1 unit (ISO 3166-2 code) at a point, or None.

    Parameters
    ----------
    lon, lat : float
        WGS 84 degrees.
    tolerance_km : float, default 0.0
        When no unit contains the point (coast, small island), take the nearest unit
        within this distance.
    country : str, optional
        Only consider units of this ISO3 country (useful near borders).

    Returns
    -------
    str or None
    """
    codes = _lookup(_admin1_index(), lon, lat, tolerance_km)
    if country is not None:
        allowed = {u.code for u in admin1_units(country)}
        codes = [c for c in codes if c in allowed]
    return codes[0] if codes else None
