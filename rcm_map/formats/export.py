"""Serialise services: CSV for spreadsheets, RFC 7946 GeoJSON for GIS and re-import.

Inputs are frames as returned by `query.search` (schema fields plus `lon`, `lat`
and optionally `distance_km`, `distance_band`) or a registry GeoDataFrame.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from rcm_map.core import schema
from rcm_map.core.files import atomic_write_bytes
from rcm_map.core.safety import neutralize_csv_cell
from rcm_map.registry.model import plain_lists

CSV_COORDS = ("lon", "lat")
CSV_DISTANCE = ("distance_km", "distance_band")
LIST_SEPARATOR = ";"
def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _as_frame(services: pd.DataFrame) -> pd.DataFrame:
    """Add lon/lat columns from a geometry column when needed; Python lists in list fields."""
    services = plain_lists(services)  # a Registry frame holds Arrow lists
    if "lon" in services.columns and "lat" in services.columns:
        return services
    out = pd.DataFrame(services.drop(columns="geometry"))
    geoms = services.geometry
    located = geoms.notna() & ~geoms.is_empty
    out["lon"] = [g.x if ok else None for g, ok in zip(geoms, located, strict=True)]
    out["lat"] = [g.y if ok else None for g, ok in zip(geoms, located, strict=True)]
    return out


def _coordinate(value: Any) -> float | None:
    return None if _is_missing(value) else round(float(value), 6)


def _public_distance(row: pd.Series) -> tuple[Any, str]:
    """Confidential services show only a distance band, never the exact distance."""
    band = row.get("distance_band", "") or ""
    if row.get("location_precision") == "confidential":
        return "", band
    km = row.get("distance_km")
    return ("" if _is_missing(km) else round(float(km), 3)), band


def csv_columns(frame: pd.DataFrame) -> list[str]:
    cols = [*schema.FIELD_NAMES, *CSV_COORDS]
    if "distance_km" in frame.columns:
        cols += list(CSV_DISTANCE)
    return cols


def to_csv_bytes(services: pd.DataFrame) -> bytes:
    """CSV, UTF-8 with BOM (so Excel shows accents), lists joined with ';'."""
    frame = _as_frame(services)
    columns = csv_columns(frame)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for _, row in frame.iterrows():
        out: list[Any] = []
        distance = _public_distance(row) if "distance_km" in columns else ("", "")
        for col in columns:
            if col in CSV_COORDS:
                value: Any = _coordinate(row.get(col))
                out.append("" if value is None else value)
            elif col == "distance_km":
                out.append(distance[0])
            elif col == "distance_band":
                out.append(neutralize_csv_cell(distance[1]))
            elif col in ("age_min", "age_max"):
                value = row.get(col)
                out.append("" if _is_missing(value) else int(value))
            elif col in schema.LIST_FIELDS:
                items = row.get(col) or []
                out.append(neutralize_csv_cell(LIST_SEPARATOR.join(str(v) for v in items)))
            else:
                value = row.get(col)
                out.append("" if _is_missing(value) else neutralize_csv_cell(str(value)))
        writer.writerow(out)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def feature_of(row: pd.Series | dict[str, Any]) -> dict[str, Any]:
    """One RFC 7946 Feature from a result row (schema fields, lon/lat, distance)."""
    props: dict[str, Any] = {}
    for name in schema.FIELD_NAMES:
        value: Any = row.get(name)
        if name in schema.LIST_FIELDS:
            props[name] = [str(v) for v in (value if isinstance(value, (list, tuple)) else [])]
        elif name in ("age_min", "age_max"):
            props[name] = None if _is_missing(value) else int(value)
        else:
            props[name] = "" if _is_missing(value) else str(value)
    if "distance_km" in row:
        km, band = _public_distance(pd.Series(row) if isinstance(row, dict) else row)
        props["distance_km"] = None if km == "" else km
        if band:
            props["distance_band"] = band
    lon, lat = _coordinate(row.get("lon")), _coordinate(row.get("lat"))
    geometry = None if lon is None or lat is None else {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def to_geojson_dict(services: pd.DataFrame) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection (no `crs` member; WGS84 lon/lat)."""
    frame = _as_frame(services)
    return {"type": "FeatureCollection",
            "features": [feature_of(row) for _, row in frame.iterrows()]}


def geojson_bytes(features: Iterable[dict[str, Any]], sort: bool = True) -> bytes:
    """Deterministic GeoJSON text: one feature per line, optionally sorted by id."""
    items = list(features)
    if sort:
        items.sort(key=lambda f: str(f.get("properties", {}).get("id", "")))
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in items]
    body = ",\n".join(lines)
    return ('{"type":"FeatureCollection","features":[\n' + body + "\n]}\n").encode("utf-8")


def to_geojson_bytes(services: pd.DataFrame) -> bytes:
    """GeoJSON of a result frame, in the frame's order."""
    return geojson_bytes(to_geojson_dict(services)["features"], sort=False)


def write_geojson(features_or_frame: Iterable[dict[str, Any]] | pd.DataFrame,
                  path: str | Path) -> None:
    """Write a registry file atomically, sorted by id (the on-disk registry format)."""
    if isinstance(features_or_frame, pd.DataFrame):
        features = to_geojson_dict(features_or_frame)["features"]
    else:
        features = list(features_or_frame)
    atomic_write_bytes(path, geojson_bytes(features, sort=True))
