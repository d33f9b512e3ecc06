"""Great-circle distances and latitude/longitude validation (stand-ins: `rcm_map.standin`)."""

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
