"""Seed an empty PostGIS registry fast: every service in one COPY (issue 13).

`PostGISStore.apply_update` writes row by row with a history entry per service:
right for a focal point's few hundred changes, far too slow for a million
services. `service_rows` computes the table's columns column-wise from the same
frame the file engine builds (`frame_from_features`, `public_view` for the
stand-in points, `list_bits` for the bitmasks): the JSON of the properties
assembled by Arrow from each column's distinct values, the search text folded
over one joined string (`fold_many`), points as hex EWKB built in numpy.
`bulk_seed` streams them as CSV written by Arrow through ``COPY ... FROM STDIN``
(``FREEZE``: the table is emptied in the same transaction, so rows are written
frozen and pages all-visible, as a vacuum would leave them), nearby services
next to each other (`spatial_order`), builds the indexes once at the end
(whatever the migrations defined), records one ``baseline`` change, then VACUUM
ANALYZE (quick on frozen pages; the planner gets its statistics).

Usage: ``bulk_seed(store, service_rows(features))``. The features must already be
valid (``rcm-map validate``); the seeded rows are what `row_of` computes for each
(tests/store/test_pgbulk.py checks that).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from json.encoder import encode_basestring as _json_str
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from rcm_map.core import schema
from rcm_map.core.text import _SPACE, fold
from rcm_map.registry.model import frame_from_features, list_bits, public_view
from rcm_map.store.base import Feature, StoreError
from rcm_map.store.pgpool import connect_once

COLUMNS = ("id", "country", "admin1", "name", "props", "geog", "public_geog", "public_lon",
           "public_lat", "service_bits", "population_bits", "age_min", "age_max", "languages",
           "source_date", "verified_on", "search_text", "version", "updated_by")
INDEX_MEMORY = "512MB"  # per index build, once, while seeding
SEARCH_COLUMNS = ("name", "organization", "city", "description", "address", "referral")
_SEP = "\x00"  # joins many texts into one (validation refuses control characters)
_PUNCTUATION = "".join(chr(c) for c in range(128) if _SPACE.fullmatch(chr(c)))
_ASCII_FOLD = bytes.maketrans(  # A-Z lowered; the ASCII characters fold spaces, spaced
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _PUNCTUATION.encode(),
    b"abcdefghijklmnopqrstuvwxyz" + b" " * len(_PUNCTUATION))
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_EWKB = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])
_HEX = np.frombuffer(b"0123456789ABCDEF", dtype="S1")


def _points(lon: np.ndarray, lat: np.ndarray) -> pa.Array:
    """Hex EWKB points (SRID 4326), null where there is no point: built in numpy,
    where one EWKT string per row took ~2 s per million."""
    rec = np.zeros(len(lon), dtype=_EWKB)
    rec["order"], rec["type"], rec["srid"] = 1, 0x20000001, 4326  # little-endian Point + SRID
    rec["x"], rec["y"] = lon, lat
    raw = rec.view(np.uint8).reshape(len(lon), _EWKB.itemsize)
    text = np.empty((len(lon), 2 * _EWKB.itemsize), dtype="S1")
    text[:, 0::2], text[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    hexes = text.view(f"S{2 * _EWKB.itemsize}").ravel()
    return pa.array(hexes, pa.binary(), mask=np.isnan(lon)).cast(pa.string())


def fold_many(texts: list[str]) -> list[str]:
    """`rcm_map.core.text.fold` of every text, over one joined string.

    fold is, character by character, NFKD without combining marks then casefold
    (both act per character once the marks are gone), then every run of spaces and
    punctuation becomes one space. So each distinct run of non-ASCII characters is
    folded once, ASCII letters are lowered and ASCII punctuation spaced by one bytes
    translation, and `str.split` (the same whitespace as the regex's) collapses the
    spaces: same output as fold (tests/unit/test_pgbulk_columns.py), ~5x faster.
    """
    joined = _SEP.join(texts)
    if not texts or joined.count(_SEP) != len(texts) - 1:
        return [fold(t) for t in texts]  # a separator inside a text: fold one by one
    runs: dict[str, str] = {}

    def run_of(match: re.Match[str]) -> str:
        run = match.group()
        if run not in runs:
            runs[run] = _SPACE.sub(" ", "".join(
                _drop_combining(unicodedata.normalize("NFKD", c)).casefold() for c in run))
        return runs[run]

    folded = _NON_ASCII_RUN.sub(run_of, joined).encode("utf-8").translate(_ASCII_FOLD)
    return [" ".join(t.split()) for t in folded.decode("utf-8").split(_SEP)]


def _drop_combining(text: str) -> str:
    return "".join(c for c in text if c.isascii() or not unicodedata.combining(c))


def _search_text(frame: pd.DataFrame) -> list[str]:
    """`base.search_text_of` of every row (the six public text columns joined, folded)."""
    parts = [frame[name].fillna("").astype(str).tolist() for name in SEARCH_COLUMNS]
    return fold_many([" ".join(row) for row in zip(*parts, strict=True)])


def _json_column(values: pd.Series) -> np.ndarray:
    """JSON text of each value of a column, each distinct value encoded once."""
    if isinstance(values.dtype, pd.Int64Dtype):
        na = values.isna().to_numpy()
        text = values.fillna(0).to_numpy(dtype=np.int64).astype(str).astype(object)
        text[na] = "null"
        return text
    cells = values.tolist()
    if cells and isinstance(cells[0], list):
        seen: dict[tuple[Any, ...], str] = {}
        out = np.empty(len(cells), dtype=object)
        for i, cell in enumerate(cells):
            key = tuple(cell)
            found = seen.get(key)
            if found is None:
                found = seen[key] = json.dumps(cell, ensure_ascii=False)
            out[i] = found
        return out
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    encoded = np.array([_json_str(v) if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                        for v in uniques], dtype=object)
    return encoded[codes]


def _json_objects(props: pd.DataFrame) -> pa.Array:
    """One JSON object per row of `props` (its columns as keys), assembled column-wise
    by Arrow: `DataFrame.to_json` spent ~17 s per million rows."""
    pieces: list[Any] = []
    for k, name in enumerate(props.columns):
        pieces.append(("{" if k == 0 else ",") + json.dumps(name) + ":")
        pieces.append(pa.array(_json_column(props[name]), pa.string()))
    pieces.append("}")
    return pc.binary_join_element_wise(*pieces, "")


def _text_array(lists: pd.Series) -> list[str]:
    """PostgreSQL array literals of code lists (codes are plain identifiers)."""
    seen: dict[tuple[str, ...], str] = {}
    return [seen.setdefault(tuple(codes), "{" + ",".join(f'"{c}"' for c in codes) + "}")
            for codes in lists.tolist()]


def service_rows(features: list[Feature], user: str = "seed") -> pd.DataFrame:
    """The `services` columns of valid features, computed column by column."""
    true = frame_from_features(features)
    public = public_view(true)  # stand-ins: the file engine's own function
    props = pd.DataFrame(true.drop(columns=true.geometry.name))[list(schema.FIELD_NAMES)]
    lon, lat = _lon_lat(true.geometry)
    public_lon, public_lat = _lon_lat(public.geometry)
    return pd.DataFrame({
        "id": props["id"], "country": props["country"], "admin1": props["admin1"],
        "name": props["name"],
        "props": pd.array(_json_objects(props), dtype=pd.ArrowDtype(pa.string())),
        "geog": pd.array(_points(lon, lat), dtype=pd.ArrowDtype(pa.string())),
        "public_geog": pd.array(_points(public_lon, public_lat),
                                dtype=pd.ArrowDtype(pa.string())),
        "public_lon": public_lon, "public_lat": public_lat,  # NaN is written as NULL
        "service_bits": list_bits(public["service_types"], schema.SERVICE_TYPES,
                                  np.uint32).astype(np.int64),
        "population_bits": list_bits(public["populations"], schema.POPULATIONS,
                                     np.uint16).astype(np.int64),
        "age_min": props["age_min"], "age_max": props["age_max"],
        "languages": _text_array(props["languages"]),
        "source_date": props["source_date"].replace("", None),
        "verified_on": props["verified_on"].replace("", None),
        "search_text": _search_text(public),
        "version": 1, "updated_by": user,
    }, columns=list(COLUMNS))


def _lon_lat(geometry: Any) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of a geometry column, NaN where there is no point."""
    located = (geometry.notna() & ~geometry.is_empty).to_numpy()
    lon = np.full(len(geometry), np.nan)
    lat = np.full(len(geometry), np.nan)
    lon[located] = geometry[located].x.to_numpy()
    lat[located] = geometry[located].y.to_numpy()
    return lon, lat


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


def _csv_chunks(rows: pd.DataFrame, chunk: int) -> Iterator[pa.Buffer]:
    """CSV of the rows, by Arrow's writer: strings quoted (an empty one is ``""``),
    nulls and NaN as nothing (COPY's NULL in CSV), floats in shortest round-trip form."""
    table = pa.Table.from_pandas(rows, preserve_index=False)
    options = pa_csv.WriteOptions(include_header=False)
    for start in range(0, len(rows), chunk):
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table.slice(start, chunk), sink, options)
        yield sink.getvalue()


def bulk_seed(store: Any, rows: pd.DataFrame, user: str = "seed",
              chunk: int = 50_000) -> int:
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
        # Emptied in this transaction, the table takes COPY ... FREEZE: rows written
        # frozen and pages marked all-visible, so no vacuum pass rewrites them after.
        conn.execute("TRUNCATE services")
        with conn.cursor().copy(f"COPY services ({cols}) FROM STDIN "  # noqa: S608 - fixed names
                                "WITH (FORMAT csv, FREEZE)") as copy:
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
