"""Seed an empty PostGIS registry fast: every service in one COPY (issue 13).

`PostGISStore.apply_update` writes row by row with a history entry per service:
right for a focal point's few hundred changes, far too slow for a million
services. `bulk_seed` computes the table's columns column-wise from the same
frame the file engine builds (`frame_from_features`, `Registry.from_frame` for the
public points and bitmasks), streams them as CSV through ``COPY ... FROM STDIN``
in chunks, nearby services next to each other (`spatial_order`), builds the
indexes once at the end (whatever the migrations defined), records one
``baseline`` change and vacuums, so index-only scans work at once.

Usage: ``bulk_seed(store, service_rows(features))``. The features must already be
valid (``rcm-map validate``); the seeded rows are what `row_of` computes for each
(tests/store/test_pgbulk.py checks that).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from rcm_map.core import schema
from rcm_map.core.text import fold
from rcm_map.registry.model import Registry, frame_from_features
from rcm_map.store.base import Feature, StoreError
from rcm_map.store.pgpool import connect_once

COLUMNS = ("id", "country", "admin1", "name", "props", "geog", "public_geog", "public_lon",
           "public_lat", "service_bits", "population_bits", "age_min", "age_max", "languages",
           "source_date", "verified_on", "search_text", "version", "updated_by")
NULL = r"\N"
INDEX_MEMORY = "512MB"  # per index build, once, while seeding
SEARCH_COLUMNS = ("name", "organization", "city", "description", "address", "referral")



def _points(lon: np.ndarray, lat: np.ndarray) -> pd.Series:
    """EWKT points, None where there is no point."""
    text = pd.Series([f"SRID=4326;POINT({x!r} {y!r})" for x, y in zip(
        lon.tolist(), lat.tolist(), strict=True)], dtype=object)
    return text.where(~np.isnan(lon), None)


def _search_text(frame: pd.DataFrame) -> list[str]:
    """`base.search_text_of` of every row: each column folded once per distinct value
    (most repeat), the non-empty parts joined; folding them joined gives the same."""
    parts = []
    for name in SEARCH_COLUMNS:
        column = frame[name].fillna("").astype(str)
        distinct = pd.unique(column)
        folded = dict(zip(distinct, map(fold, distinct), strict=True))
        parts.append(column.map(folded).tolist())
    return [" ".join(p for p in row if p) for row in zip(*parts, strict=True)]


def _text_array(lists: pd.Series) -> list[str]:
    """PostgreSQL array literals of code lists (codes are plain identifiers)."""
    return ["{" + ",".join(f'"{c}"' for c in codes) + "}" for codes in lists.tolist()]


def service_rows(features: list[Feature], user: str = "seed") -> pd.DataFrame:
    """The `services` columns of valid features, computed column by column."""
    true = frame_from_features(features)
    public = Registry.from_frame(true)
    props = true.drop(columns=true.geometry.name)[list(schema.FIELD_NAMES)]
    located = true.geometry.notna().to_numpy()
    lon = np.full(len(true), np.nan)
    lat = np.full(len(true), np.nan)
    lon[located] = true.geometry[located].x.to_numpy()
    lat[located] = true.geometry[located].y.to_numpy()
    source_date = props["source_date"].replace("", None)
    verified_on = props["verified_on"].replace("", None)
    return pd.DataFrame({
        "id": props["id"], "country": props["country"], "admin1": props["admin1"],
        "name": props["name"],
        "props": props.to_json(orient="records", lines=True, force_ascii=False)
        .splitlines(),
        "geog": _points(lon, lat), "public_geog": _points(public.lon, public.lat),
        "public_lon": public.lon, "public_lat": public.lat,  # NaN is written as NULL
        "service_bits": public.service_bits.astype(np.int64),
        "population_bits": public.population_bits.astype(np.int64),
        "age_min": props["age_min"], "age_max": props["age_max"],
        "languages": _text_array(props["languages"]),
        "source_date": source_date, "verified_on": verified_on,
        "search_text": _search_text(public.frame),
        "version": 1, "updated_by": user,
    }, columns=list(COLUMNS))


def spatial_order(rows: pd.DataFrame) -> np.ndarray:
    """Row positions sorted by grid cell of the public point (0.1 degree, ~11 km),
    services without a point last.

    Written in this order, neighbours share table pages: a nearest-k search, which
    checks the filters on each candidate's row, then reads a few pages instead of
    one page per candidate scattered over the table (at a million services most of
    the query's time went there).
    """
    lat = np.floor(rows["public_lat"].to_numpy(dtype=float) * 10)
    lon = np.floor(rows["public_lon"].to_numpy(dtype=float) * 10)
    return np.lexsort((lon, lat, np.isnan(lat)))


def _csv_chunks(rows: pd.DataFrame, chunk: int) -> Iterator[bytes]:
    for start in range(0, len(rows), chunk):
        part = rows.iloc[start:start + chunk]
        yield part.to_csv(header=False, index=False, na_rep=NULL).encode("utf-8")


def bulk_seed(store: Any, rows: pd.DataFrame, user: str = "seed",
              chunk: int = 100_000) -> int:
    """COPY `rows` (`service_rows`) into an EMPTY store in one transaction; return the
    change id. Raises StoreError when the store already holds services (use country
    updates then)."""
    cols = ", ".join(COLUMNS)
    with store._tx() as conn:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM services) AS any").fetchone()["any"]:
            raise StoreError("bulk seed: the database already holds services; seed only an "
                             "empty database, or apply country updates")
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                               "'services' AND indexname <> 'services_pkey'").fetchall()
        for index in indexes:  # building an index once beats updating it per row
            conn.execute(f'DROP INDEX "{index["indexname"]}"')
        with conn.cursor().copy(f"COPY services ({cols}) FROM STDIN "  # noqa: S608 - fixed names
                                f"WITH (FORMAT csv, NULL '{NULL}')") as copy:
            for data in _csv_chunks(rows.iloc[spatial_order(rows)], chunk):
                copy.write(data)
        # Index builds sort in memory when they may (this transaction only).
        conn.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
        for index in indexes:
            conn.execute(index["indexdef"])
        change = conn.execute(
            "INSERT INTO changes (username, action, country, summary) "
            "VALUES (%s, 'baseline', '', %s) RETURNING change_id",
            (user, f"seeded {len(rows):,} services by COPY")).fetchone()["change_id"]
    with connect_once(store.url, store.pool_settings) as conn:  # VACUUM: no transaction
        conn.execute("VACUUM ANALYZE services")
    return int(change)
