"""Great-circle distances and the public point of confidential locations."""

from __future__ import annotations

import math

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


def validate_lat_lon(lat: float, lon: float) -> tuple[float, float]:
    """Return (lat, lon) as floats or raise ValueError quoting the bad values."""
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise ValueError(
            f"Expected numeric latitude and longitude, instead got: {(lat, lon)!r}."
        ) from None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        raise ValueError(f"Expected finite latitude and longitude, instead got: {(lat, lon)!r}.")
    if not -90 <= lat_f <= 90:
        raise ValueError(f"Latitude must be between -90 and 90, instead got: {lat!r}.")
    if not -180 <= lon_f <= 180:
        raise ValueError(f"Longitude must be between -180 and 180, instead got: {lon!r}.")
    return lat_f, lon_f


def parse_lat_lon(text: str) -> tuple[float, float]:
    """Parse "LAT,LON" (as typed by a user or in --near) into validated floats."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"Expected 'LAT,LON' such as '14.9,-92.26', instead got: {text!r}.")
    return validate_lat_lon(*parts)  # type: ignore[arg-type]


PUBLIC_GRID_DEG = 0.1
PUBLIC_MIN_KM = 5.0


def public_point(lon: float, lat: float) -> tuple[float, float]:
    """The point shown for a confidential location: (lon, lat).

    The centre of the nearest cell of a fixed 0.1-degree grid that lies at least
    PUBLIC_MIN_KM from the true site. It is deterministic (searches from many
    places always see the same point, so they cannot triangulate) and never
    closer than 5 km, nor usually farther than about 12 km, from the site.
    """
    col = math.floor(lon / PUBLIC_GRID_DEG)
    row = math.floor(lat / PUBLIC_GRID_DEG)
    best: tuple[float, float, float] | None = None
    for dr in range(-3, 4):
        for dc in range(-3, 4):
            c_lon = round((col + dc + 0.5) * PUBLIC_GRID_DEG, 5)
            c_lat = round((row + dr + 0.5) * PUBLIC_GRID_DEG, 5)
            if not (-90 <= c_lat <= 90):
                continue
            c_lon = (c_lon + 180) % 360 - 180
            d = haversine_km(lat, lon, c_lat, c_lon)
            if d >= PUBLIC_MIN_KM and (best is None or d < best[0]):
                best = (d, c_lon, c_lat)
    if best is None:  # only near the poles, where grid cells shrink to nothing
        return (round(lon, 0), round(lat, 0) - 1 if lat > 0 else round(lat, 0) + 1)
    return best[1], best[2]
