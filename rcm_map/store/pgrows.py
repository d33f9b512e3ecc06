"""Rows of the PostGIS `services` table and back: what one service is stored as.

Belongs here: the column values of one service (`row_of`, filters derived from its
public view), turning selected rows back into features, stored services and reports,
and the one multi-row upsert. No connection handling and no search: `postgis` owns
transactions, `pgsearch` the search SQL.

May import `core`, `registry` and `store.records` / `store.diffing` (never
`store.postgis`, which imports this module).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rcm_map.core import schema
from rcm_map.registry.model import mask_of
from rcm_map.store.diffing import canonical_feature, public_feature, search_text_of
from rcm_map.store.records import Feature, Report, StoredService

SERVICE_COLUMNS = (
    "id", "country", "admin1", "name", "props", "geog", "public_geog", "public_lon",
    "public_lat", "service_bits", "population_bits", "age_min", "age_max", "languages",
    "source_date", "verified_on", "search_text", "version", "updated_by",
)
SELECT_STORED = ("SELECT props, ST_X(geog::geometry) AS lon, ST_Y(geog::geometry) AS lat, "
                 "version, updated_at, updated_by FROM services")


def row_of(feature: Feature, version: int, user: str) -> dict[str, Any]:
    """The column values of one service (filters derived from its public view)."""
    true = canonical_feature(feature)
    pub = public_feature(true)
    props = pub["properties"]
    point = true["geometry"]["coordinates"] if true["geometry"] else None
    ppoint = pub["geometry"]["coordinates"] if pub["geometry"] else None
    source_date, verified_on = props.get("source_date") or None, props.get("verified_on") or None
    return {
        "id": props["id"], "country": props["country"], "admin1": props.get("admin1") or "",
        "name": props["name"], "props": true["properties"],
        "geog": _wkt(point), "public_geog": _wkt(ppoint),
        "public_lon": ppoint[0] if ppoint else None, "public_lat": ppoint[1] if ppoint else None,
        "service_bits": mask_of(props["service_types"], schema.SERVICE_TYPES),
        "population_bits": mask_of(props["populations"], schema.POPULATIONS),
        "age_min": props.get("age_min"), "age_max": props.get("age_max"),
        "languages": list(props.get("languages") or []),
        "source_date": dt.date.fromisoformat(source_date) if source_date else None,
        "verified_on": dt.date.fromisoformat(verified_on) if verified_on else None,
        "search_text": search_text_of(props), "version": version, "updated_by": user,
    }


def _wkt(point: list[float] | None) -> str | None:
    return None if point is None else f"SRID=4326;POINT({point[0]!r} {point[1]!r})"


def upsert(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Insert or replace services given as `row_of` dicts."""
    from psycopg.types.json import Jsonb

    cols = ", ".join(SERVICE_COLUMNS)
    values = ", ".join(f"%({c})s" for c in SERVICE_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in SERVICE_COLUMNS if c != "id")
    # Only fixed fragments of this module are joined; values are bound parameters.
    sql = (f"INSERT INTO services ({cols}, updated_at) VALUES ({values}, now()) "  # noqa: S608
           f"ON CONFLICT (id) DO UPDATE SET {updates}, updated_at = now()")
    with conn.cursor() as cur:
        cur.executemany(sql, [{**r, "props": Jsonb(r["props"])} for r in rows])


def ordered(props: dict[str, Any]) -> dict[str, Any]:
    """Stored JSON properties in schema field order (jsonb does not keep key order)."""
    return {name: props.get(name, schema.empty_value(name)) for name in schema.FIELD_NAMES}


def stored_of(row: dict[str, Any]) -> StoredService:
    """A `SELECT_STORED` row as a StoredService (true point and properties)."""
    geometry = (None if row["lon"] is None
                else {"type": "Point", "coordinates": [row["lon"], row["lat"]]})
    feature = {"type": "Feature", "geometry": geometry, "properties": ordered(row["props"])}
    return StoredService(feature, int(row["version"]), iso(row["updated_at"]),
                         row["updated_by"])


def feature_of(value: Any) -> Feature | None:
    """A history column (jsonb feature or NULL) as a feature."""
    if value is None:
        return None
    return {"type": "Feature", "geometry": value.get("geometry"),
            "properties": ordered(value["properties"])}


def iso(value: Any) -> str:
    """A timestamp column as ISO 8601 text ('' for NULL)."""
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else str(value or "")


def report_of(row: dict[str, Any]) -> Report:
    """A `reports` row as a Report."""
    return Report(int(row["report_id"]), row["service_id"], row["country"], row["kind"],
                  row["comment"], iso(row["created_at"]), row["status"], row["resolved_by"],
                  iso(row["resolved_at"]), row["resolution_note"])
