"""Seed an empty PostGIS registry fast: every service in one COPY (issue 13).

`PostGISStore.apply_update` writes row by row with a history entry per service:
right for a focal point's few hundred changes, far too slow for a million
services. `service_rows` computes the table's columns column-wise from the
registry's validated frame (`frame_from_features`; `public_view` for the stand-in
points, `list_bits` for the bitmasks, as the file engine): the JSON of the
properties and COPY's text-format lines assembled by Arrow kernels over whole
columns, the search text folded over one joined string (`fold_many`), points as
hex EWKB built in numpy.

`bulk_seed_frame` prepares those rows slice by slice in worker processes while the
server parses the slices already sent through ``COPY ... FROM STDIN`` (``FREEZE``:
the table is emptied in the same transaction, so rows are written frozen and pages
all-visible, as a vacuum would leave them), nearby services next to each other
(`spatial_order`); fills `service_filters` (migration 0005) in one statement with
its row trigger off for the transaction; builds every index once at the end
(whatever the migrations defined); records one ``baseline`` change; then ANALYZE.

Usage: ``bulk_seed_frame(store, frame)`` (or ``bulk_seed(store, service_rows(features))``,
one process). The features must already be valid (``rcm-map validate``); the seeded
rows are what `row_of` computes for each (tests/store/test_pgbulk.py checks that).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import re
import time
import unicodedata
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from rcm_map.core import schema
from rcm_map.core.text import _SPACE, fold
from rcm_map.registry.model import frame_from_features, list_bits, public_view
from rcm_map.store.base import Feature, StoreError
from rcm_map.store.pgpool import connect_once

COLUMNS = ("id", "country", "admin1", "name", "props", "geog", "public_geog", "public_lon",
           "public_lat", "service_bits", "population_bits", "age_min", "age_max", "languages",
           "source_date", "verified_on", "search_text", "version", "updated_by")
FILTER_COLUMNS = ("id", "public_geog", "country", "admin1", "service_bits", "population_bits",
                  "age_min", "age_max", "languages", "verified_on", "search_text")
_SYNC_TRIGGER = "services_filters_sync"  # migration 0005
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


# JSON string escapes of the characters validation lets through (others: `_json_texts`).
_JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))
_NEEDS_ESCAPE = r'[\x00-\x1f\\"]'
_OTHER_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def _json_texts(values: pa.Array) -> pa.Array:
    """JSON string literal of each (non-null) string, escaped by Arrow kernels: a
    backslash, a quote, tab, newline and carriage return (the only characters below
    U+0020 validation accepts; any other falls back to `json.dumps`). Most columns
    hold none of them: one scan finds that, and nothing is replaced."""
    if pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py():
        if pc.any(pc.match_substring_regex(values, _OTHER_CONTROL)).as_py():
            return pa.array([json.dumps(v, ensure_ascii=False) for v in values.to_pylist()],
                            pa.string())
        for raw, escaped in _JSON_ESCAPES:
            values = pc.replace_substring(values, raw, escaped)
    return pc.binary_join_element_wise('"', values, '"', "")


def _string_lists(values: pd.Series) -> pa.ListArray:
    """A list column (Python lists, or an Arrow list column) as an Arrow list array."""
    if isinstance(values.dtype, pd.ArrowDtype):
        lists = pa.chunked_array(values.array.__arrow_array__()).combine_chunks()
        return lists.cast(pa.list_(pa.string()))
    return pa.array(values.tolist(), pa.list_(pa.string()))


def _is_list_column(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.ArrowDtype):
        return bool(pa.types.is_list(values.dtype.pyarrow_dtype)
                    or pa.types.is_large_list(values.dtype.pyarrow_dtype))
    return values.dtype == object and len(values) > 0 and isinstance(values.iloc[0], list)


def _json_column(values: pd.Series) -> pa.Array:
    """JSON text of each value of a column (strings, Int64 with NA, lists of strings),
    built by Arrow kernels."""
    if isinstance(values.dtype, pd.Int64Dtype):
        ints = pa.array(values.to_numpy(dtype="float64", na_value=np.nan),
                        mask=values.isna().to_numpy()).cast(pa.int64())
        return pc.fill_null(pc.cast(ints, pa.string()), "null")
    if _is_list_column(values):
        lists = _string_lists(values)
        quoted = pa.ListArray.from_arrays(lists.offsets, _json_texts(lists.flatten()))
        return pc.binary_join_element_wise("[", pc.binary_join(quoted, ","), "]", "")
    texts = pa.array(values.astype(str).tolist() if values.dtype == object else values,
                     pa.string())
    return _json_texts(texts)


def _json_objects(props: pd.DataFrame) -> pa.Array:
    """One JSON object per row of `props` (its columns as keys), assembled column-wise
    by Arrow: `DataFrame.to_json` spent ~17 s per million rows, one `json` call per
    distinct value ~3 s."""
    pieces: list[Any] = []
    for k, name in enumerate(props.columns):
        pieces.append(("{" if k == 0 else ",") + json.dumps(name) + ":")
        pieces.append(_json_column(props[name]))
    pieces.append("}")
    return pc.binary_join_element_wise(*pieces, "")


def _text_array(lists: pd.Series) -> pa.Array:
    """PostgreSQL array literals of code lists (codes are plain identifiers)."""
    codes = _string_lists(lists)
    quoted = pc.binary_join_element_wise('"', codes.flatten(), '"', "")
    joined = pc.binary_join(pa.ListArray.from_arrays(codes.offsets, quoted), ",")
    return pc.binary_join_element_wise("{", joined, "}", "")


def service_rows(source: list[Feature] | pd.DataFrame, user: str = "seed") -> pd.DataFrame:
    """The `services` columns of valid features, computed column by column.

    `source` is the features, or the frame `frame_from_features` made of them (the
    registry's validated frame: nothing is normalised twice).
    """
    true = (source if isinstance(source, pd.DataFrame) else frame_from_features(source)
            ).reset_index(drop=True)
    public = public_view(true)  # stand-ins: the file engine's own function
    props = pd.DataFrame(true.drop(columns=true.geometry.name))[list(schema.FIELD_NAMES)]
    lon, lat = _lon_lat(true.geometry)
    public_lon, public_lat = _lon_lat(public.geometry)

    def text(values: pa.Array) -> pd.api.extensions.ExtensionArray:
        return pd.array(values, dtype=pd.ArrowDtype(pa.string()))

    return pd.DataFrame({
        "id": props["id"], "country": props["country"], "admin1": props["admin1"],
        "name": props["name"], "props": text(_json_objects(props)),
        "geog": text(_points(lon, lat)), "public_geog": text(_points(public_lon, public_lat)),
        "public_lon": public_lon, "public_lat": public_lat,  # NaN is written as NULL
        "service_bits": list_bits(public["service_types"], schema.SERVICE_TYPES,
                                  np.uint32).astype(np.int64),
        "population_bits": list_bits(public["populations"], schema.POPULATIONS,
                                     np.uint16).astype(np.int64),
        "age_min": props["age_min"], "age_max": props["age_max"],
        "languages": text(_text_array(props["languages"])),
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


def spatial_order(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Row positions sorted by grid cell of the point (0.1 degree, ~11 km), services
    without a point last.

    Written in this order, neighbours share table pages: a nearest-k search joins its
    k winners back to `services`, and reads a few pages instead of one per winner.
    """
    cell_lat, cell_lon = np.floor(lat * 10), np.floor(lon * 10)
    return np.lexsort((cell_lon, cell_lat, np.isnan(cell_lat)))


_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_NEEDS_COPY_ESCAPE = r"[\\\t\n\r]"


def _copy_text(rows: pd.DataFrame) -> bytes:
    """The rows in COPY's text format (tab-separated, ``\\N`` for NULL and NaN,
    backslash escapes), each line assembled by Arrow kernels over whole columns: no
    CSV quoting to write, and the server's cheapest input to parse."""
    table = pa.Table.from_pandas(rows, preserve_index=False)
    pieces: list[Any] = []
    for k, column in enumerate(table.columns):
        values = column.combine_chunks()
        if pa.types.is_floating(values.type):
            values = pc.if_else(pc.is_nan(values), None, values)
        if not pa.types.is_string(values.type):
            values = pc.cast(values, pa.string())  # numbers; large strings (pandas')
        if pc.any(pc.match_substring_regex(values, _NEEDS_COPY_ESCAPE)).as_py():
            for raw, escaped in _COPY_ESCAPES:
                values = pc.replace_substring(values, raw, escaped)
        pieces += ["\t" if k else "", pc.fill_null(values, "\\N")]
    lines = pc.binary_join_element_wise(*pieces, "\n", "")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    _, offsets, data = lines.buffers()  # the lines end to end: the data buffer
    ends = np.frombuffer(offsets, dtype=np.int32)[[lines.offset, lines.offset + len(lines)]]
    return data[int(ends[0]):int(ends[1])].to_pybytes()


def bulk_seed(store: Any, rows: pd.DataFrame, user: str = "seed",
              chunk: int = 50_000) -> int:
    """COPY `rows` (`service_rows`) into an EMPTY store in one transaction; return the
    change id. Raises StoreError when the store already holds services (use country
    updates then)."""
    rows = rows.iloc[spatial_order(rows["public_lon"].to_numpy(dtype=float),
                                   rows["public_lat"].to_numpy(dtype=float))]
    return _seed(store, (_copy_text(rows.iloc[i:i + chunk]) for i in range(0, len(rows), chunk)),
                 len(rows), user)


def _prepare(part: pd.DataFrame | pa.Table, user: str) -> tuple[bytes, float]:
    """COPY input of one slice of a validated frame (run in a worker process), and
    the CPU seconds it took. A slice sent to a worker is an Arrow table (`_to_arrow`)."""
    cpu = time.process_time()
    frame = _from_arrow(part) if isinstance(part, pa.Table) else part
    return _copy_text(service_rows(frame, user)), time.process_time() - cpu


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table (the point as lon/lat columns): sent to a worker
    as a few buffers, where a pickled frame slice costs a Python object per cell at
    both ends."""
    lon, lat = _lon_lat(frame.geometry)
    table = pa.Table.from_pandas(pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                                 preserve_index=False)
    return table.append_column("__lon", pa.array(lon)).append_column("__lat", pa.array(lat))


def _from_arrow(table: pa.Table) -> gpd.GeoDataFrame:
    """`_to_arrow` undone: the same columns and dtypes (list fields as Arrow lists)."""
    def dtype(kind: pa.DataType) -> Any:
        if pa.types.is_integer(kind):
            return pd.Int64Dtype()
        return pd.ArrowDtype(kind) if pa.types.is_list(kind) else None

    lon = table.column("__lon").to_numpy()
    lat = table.column("__lat").to_numpy()
    frame = table.drop_columns(["__lon", "__lat"]).to_pandas(types_mapper=dtype)
    located = ~np.isnan(lon)
    geoms = np.full(len(frame), None, dtype=object)
    geoms[located] = shapely.points(lon[located], lat[located])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def bulk_seed_frame(store: Any, frame: pd.DataFrame, user: str = "seed", *,
                    workers: int = 2, chunk: int = 25_000,
                    phases: dict[str, float] | None = None) -> int:
    """`bulk_seed` of a registry's validated frame (`frame_from_features`), its rows
    prepared slice by slice in `workers` processes while the server parses the
    slices already sent (the preparation is most of the CPU).

    Rows are written in the order of the TRUE points' grid cells (a confidential
    service's stand-in lies in the same area; computing every stand-in first would
    take that work out of the workers). The workers are started by a fork server,
    never forked from this process: its threads (the connection pool's, Arrow's)
    could hold a lock at the fork, and a child would wait on it forever (seen at
    1M services).
    """
    phases = {} if phases is None else phases
    lon, lat = _lon_lat(frame.geometry)
    order = spatial_order(lon, lat)
    parts = (frame.iloc[order[i:i + chunk]] for i in range(0, len(frame), chunk))
    if workers <= 1 or len(frame) <= chunk:
        prepared = (_prepare(part, user) for part in parts)
        return _seed(store, _counted(prepared, phases), len(frame), user, phases)
    table = _to_arrow(frame)
    tables = (table.take(order[i:i + chunk]) for i in range(0, len(frame), chunk))
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("forkserver")) as pool:
        try:
            return _seed(store, _counted(_in_order(pool, tables, user, 2 * workers), phases),
                         len(frame), user, phases)
        finally:
            pool.shutdown(cancel_futures=True)


def _counted(prepared: Iterator[tuple[bytes, float]], phases: dict[str, float]
             ) -> Iterator[bytes]:
    """The COPY input of each slice; the CPU seconds preparing them added up in
    ``phases["prepare_cpu"]``."""
    phases["prepare_cpu"] = 0.0
    for data, cpu in prepared:
        phases["prepare_cpu"] += cpu
        yield data


def _in_order(pool: ProcessPoolExecutor, parts: Iterator[pa.Table], user: str,
              ahead: int) -> Iterator[tuple[bytes, float]]:
    """The prepared slices in order, at most `ahead` slices sent ahead to the pool
    (memory stays bounded however large the frame)."""
    pending: deque[Future[tuple[bytes, float]]] = deque()
    for part in parts:
        pending.append(pool.submit(_prepare, part, user))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _seed(store: Any, chunks: Iterator[bytes], count: int, user: str,
          phases: dict[str, float] | None = None) -> int:
    """COPY the CSV chunks into the empty store in one transaction (see `bulk_seed`);
    the wall seconds of each step are added to `phases` when given."""
    cols = ", ".join(COLUMNS)
    phases = {} if phases is None else phases
    clock = [time.perf_counter()]

    def done(step: str) -> None:
        now = time.perf_counter()
        phases[step] = phases.get(step, 0.0) + now - clock[0]
        clock[0] = now

    with store._tx() as conn:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM services) AS any").fetchone()["any"]:
            raise StoreError("bulk seed: the database already holds services; seed only an "
                             "empty database, or apply country updates")
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                               "('services', 'service_filters') AND indexname NOT LIKE "
                               "'%%_pkey'").fetchall()
        for index in indexes:  # building an index once beats updating it per row
            conn.execute(f'DROP INDEX "{index["indexname"]}"')
        # Emptied in this transaction, the table takes COPY ... FREEZE: rows written
        # frozen and pages marked all-visible, so no vacuum pass rewrites them after
        # (a trigger empties service_filters with it).
        conn.execute("TRUNCATE services")
        # service_filters is filled in one statement below, not row by row by the
        # trigger (ALTER TABLE is transactional: other writers never see it off).
        conn.execute(f"ALTER TABLE services DISABLE TRIGGER {_SYNC_TRIGGER}")
        with conn.cursor().copy(f"COPY services ({cols}) FROM STDIN "  # noqa: S608 - fixed names
                                "WITH (FORMAT text, FREEZE)") as copy:
            for data in chunks:
                copy.write(data)
        done("copy")
        conn.execute(f"INSERT INTO service_filters SELECT {', '.join(FILTER_COLUMNS)} "  # noqa: S608
                     "FROM services WHERE public_geog IS NOT NULL")
        conn.execute(f"ALTER TABLE services ENABLE TRIGGER {_SYNC_TRIGGER}")
        done("service_filters")
        # Index builds sort in memory when they may (this transaction only).
        conn.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
        for index in indexes:
            conn.execute(index["indexdef"])
        change = conn.execute(
            "INSERT INTO changes (username, action, country, summary) "
            "VALUES (%s, 'baseline', '', %s) RETURNING change_id",
            (user, f"seeded {count:,} services by COPY")).fetchone()["change_id"]
        done("indexes")
    done("commit")
    with connect_once(store.url, store.pool_settings) as conn:  # VACUUM: no transaction
        # Statistics for the planner. No VACUUM: COPY FREEZE left `services` frozen
        # and all-visible, and no search reads `service_filters` by an index-only
        # scan (autovacuum sets its visibility map later).
        conn.execute("ANALYZE services, service_filters")
    done("analyze")
    return int(change)
