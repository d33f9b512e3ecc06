"""Great-circle distances and latitude/longitude validation (stand-ins: `rcm_map.standin`)."""

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
