"""Great-circle distances and the public point of confidential locations."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi = p2 - p1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_km_many(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Distances in km from one point to arrays of points (vectorised haversine)."""
    p1 = math.radians(lat)
    p2 = np.radians(lats)
    dphi = p2 - p1
    dlmb = np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


class CoordinateProblem(NamedTuple):
    """Why a latitude/longitude pair is not a position: the field, its value, a sentence."""

    field: str  # "latitude" or "longitude"
    value: Any
    message: str


def lat_lon_problem(lat: Any, lon: Any, *, numbers_only: bool = False
                    ) -> CoordinateProblem | None:
    """The first problem of a (lat, lon) pair, or None when it is a position on Earth.

    Every latitude/longitude check of the project goes through here (URL state, map
    centre, clicks, search, registry files, HSDS imports), so the messages agree.

    Parameters
    ----------
    lat, lon
        The values to check, latitude first.
    numbers_only
        True for values that must already be numbers (JSON, HSDS): text such as
        "14.9" and booleans are then refused. False reads text as a number
        (URLs, forms, the command line).
    """
    values: dict[str, float] = {}
    for name, value in (("latitude", lat), ("longitude", lon)):
        if isinstance(value, bool) or (numbers_only and not isinstance(value, (int, float))):
            return CoordinateProblem(name, value,
                                     f"Expected a number for {name}, instead got: {_shown(value)}.")
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float: out of range below
            number = math.inf if value > 0 else -math.inf
        except (TypeError, ValueError):
            return CoordinateProblem(name, value,
                                     f"Expected a number for {name}, instead got: {_shown(value)}.")
        if math.isnan(number) or (math.isinf(number) and not isinstance(value, int)):
            return CoordinateProblem(
                name, value, f"Expected a finite number for {name}, instead got: {_shown(value)}.")
        values[name] = number
    for name, limit in (("latitude", 90), ("longitude", 180)):
        if not -limit <= values[name] <= limit:
            value = lat if name == "latitude" else lon
            swapped = abs(values["latitude"]) <= 180 and abs(values["longitude"]) <= 90
            hint = " (are latitude and longitude swapped?)" if swapped else ""
            return CoordinateProblem(name, value, f"{name.capitalize()} must be between "
                                     f"-{limit} and {limit}, instead got: {_shown(value)}{hint}.")
    return None


def _shown(value: Any, limit: int = 40) -> str:
    """The repr of a bad value, cut to `limit` characters (a coordinate may have 4,000 digits)."""
    try:
        text = repr(value)
    except ValueError:  # an integer over Python's 4,300-digit str() limit
        return "a very large integer"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate_lat_lon(lat: Any, lon: Any, *, numbers_only: bool = False) -> tuple[float, float]:
    """Return (lat, lon) as floats or raise ValueError quoting the bad value.

    See `lat_lon_problem` for the checks and `numbers_only`.
    """
    problem = lat_lon_problem(lat, lon, numbers_only=numbers_only)
    if problem is not None:
        raise ValueError(problem.message)
    return float(lat), float(lon)


def parse_lat_lon(text: str) -> tuple[float, float]:
    """Parse "LAT,LON" (as typed by a user or in --near) into validated floats."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"Expected 'LAT,LON' such as '14.9,-92.26', instead got: {text!r}.")
    return validate_lat_lon(*parts)  # type: ignore[arg-type]


PUBLIC_GRID_DEG = 0.1
PUBLIC_MIN_KM = 5.0


def public_point(
    lon: float, lat: float, *, min_km: float = PUBLIC_MIN_KM, grid_deg: float = PUBLIC_GRID_DEG
) -> tuple[float, float]:
    """Deterministic public stand-in for a confidential site, at least `min_km` away.

    The public point is the centre of a `grid_deg` grid cell: of all cell centres at
    least `min_km` (great-circle) from the true site, the nearest one; ties are
    broken by (lon, lat) so the answer never depends on iteration order. The same
    site always gives the same point (no randomness to average out over reloads),
    the point is never closer than `min_km`, and every site in a region of about
    one grid cell (~11 x 11 km at 0.1 degree near the equator) maps to the same
    point, so the point does not reveal where in that region the site is.

    Parameters
    ----------
    lon, lat
        True coordinates in degrees (WGS 84).
    min_km
        Minimum distance from the true site, km.
    grid_deg
        Grid spacing in degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` of the public point, rounded to 6 decimals.

    Raises
    ------
    ValueError
        When the coordinates are not finite or out of range.
    """
    if not (
        isinstance(lon, (int, float)) and isinstance(lat, (int, float))
        and math.isfinite(lon) and math.isfinite(lat)
        and -180 <= lon <= 180 and -90 <= lat <= 90
    ):
        raise ValueError(f"Expected lon in [-180, 180] and lat in [-90, 90], "
                         f"instead got: {(lon, lat)!r}.")
    best: tuple[float, float, float] | None = None
    for clon, clat in _grid_centres_around(lon, lat, min_km, grid_deg):
        d = haversine_km(lat, lon, clat, clon)
        if d >= min_km and (best is None or (d, clon, clat) < best):
            best = (d, clon, clat)
    if best is None:  # only conceivable at the poles
        raise ValueError(f"No public point found near {(lon, lat)!r}.")
    return round(_wrap_lon(best[1]), 6), round(best[2], 6)


def _grid_centres_around(
    lon: float, lat: float, min_km: float, grid_deg: float
) -> list[tuple[float, float]]:
    """Cell centres in a window wide enough to hold one at >= `min_km`."""
    km_per_deg = math.pi * EARTH_RADIUS_KM / 180
    reach_deg = (min_km + 2 * grid_deg * km_per_deg) / km_per_deg
    n_lat = math.ceil(reach_deg / grid_deg) + 1
    coslat = max(math.cos(math.radians(lat)), 0.05)
    n_lon = min(math.ceil(reach_deg / coslat / grid_deg) + 1, int(360 / grid_deg))
    i0, j0 = math.floor(lon / grid_deg), math.floor(lat / grid_deg)
    centres = []
    for j in range(j0 - n_lat, j0 + n_lat + 1):
        clat = (j + 0.5) * grid_deg
        if not -90 < clat < 90:
            continue
        for i in range(i0 - n_lon, i0 + n_lon + 1):
            centres.append(((i + 0.5) * grid_deg, clat))
    return centres


def _wrap_lon(lon: float) -> float:
    """Longitude wrapped into [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0
