"""A columnar cache of the loaded public registry, so a large registry starts fast.

Reading, validating and indexing a GeoJSON registry of 1,000,000 services takes
0.6-0.76 times as long as the standard library's ``json.load`` of the file (three
runs on the shared benchmark machine: 15.2 s vs 25.1 s, 19.7 s vs 29.8 s, 25.0 s vs
32.9 s; 1.7-1.8 GB peak where ``json.load`` takes 5.5 GB;
`rcm_map.registry.fastscan`); loading
this cache takes a couple of seconds (bench/README.md). The cache
is an Arrow IPC (Feather v2) file, uncompressed and memory-mapped, in a ``.cache``
folder beside the registry (gitignored), named after the registry's SHA-256, the
schema version (`rcm_map.core.schema.SCHEMA_VERSION`) and the package version, so it
is rebuilt, and the file validated again, whenever one of them changes. (Parquet
was measured first: decoding 1M rows of zstd Parquet took 1.3-3 s on the benchmark
machine, the memory map next to nothing; the file is larger, about 0.7 KB per
service.)

It holds the *public* registry only (confidential services already at their
public point, without street address) plus the arrays the query engine filters
on (coordinates, bitmasks, verified dates), so nothing has to be recomputed.

Hashing a large file costs about a second, so the hash is remembered in a small
sidecar next to the cache together with the file's size, mtime_ns and inode (as
git's index does) and recomputed only when those change. Both files are written
atomically; a cache that cannot be written (read-only folder) or read is simply
rebuilt from the GeoJSON, never trusted half-way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

import rcm_map
from rcm_map.core import boundaries, schema
from rcm_map.core.files import atomic_write_bytes, atomic_write_with
from rcm_map.core.schema import Issue
from rcm_map.registry import fastscan
from rcm_map.registry.model import (
    LIST_TYPE,
    MAX_REGISTRY_BYTES,
    Registry,
    RegistryError,
    registry_frame,
)

log = logging.getLogger(__name__)

CACHE_DIR_NAME = ".cache"
SUFFIX = ".arrow"
FORMAT = "rcm_map-registry-cache/3"
META_KEY = b"rcm_map"
# Columns of the cache that are engine arrays, not frame columns.
ARRAY_COLUMNS = ("lon", "lat", "_service_bits", "_population_bits", "_verified")
_HASH_CHUNK = 1 << 20


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """SHA-256 of what decides a cache's content: cache format, schema and package versions.

    Explicit versions, not a hash of source code: an unrelated edit costs no rebuild of
    a million services, and a change to validation must bump `schema.SCHEMA_VERSION`
    (tests/unit/test_schema_version.py holds that rule). The boundary files count too:
    confidential stand-ins are chosen inside them (`rcm_map.core.standin`).
    """
    key = f"{FORMAT}|schema-{schema.SCHEMA_VERSION}|rcm_map-{rcm_map.__version__}"
    digest = hashlib.sha256(key.encode())
    for path in (boundaries.ADMIN0_PATH, boundaries.ADMIN1_PATH):  # stand-ins keep to them
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_dir(source: Path) -> Path:
    """The folder holding the caches of `source`: ``.cache`` beside it."""
    return source.parent / CACHE_DIR_NAME


def cache_path(source: Path, digest: str) -> Path:
    """Cache file of `source` when its content has SHA-256 `digest`."""
    return cache_dir(source) / f"{source.name}-{digest[:16]}-{engine_fingerprint()[:8]}{SUFFIX}"


def _stat_key(source: Path) -> dict[str, int]:
    st = source.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}


def _sidecar(source: Path) -> Path:
    return cache_dir(source) / f"{source.name}.stat.json"


def known_digest(source: Path) -> str | None:
    """The SHA-256 recorded for `source`, if its size, mtime and inode are unchanged."""
    try:
        recorded = json.loads(_sidecar(source).read_text(encoding="utf-8"))
        current = _stat_key(source)
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or any(recorded.get(k) != v for k, v in current.items()):
        return None
    digest = recorded.get("sha256")
    return digest if isinstance(digest, str) and len(digest) == 64 else None


def file_digest(source: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(source, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _remember_digest(source: Path, stat: dict[str, int], digest: str) -> None:
    body = json.dumps({**stat, "sha256": digest}).encode()
    atomic_write_bytes(_sidecar(source), body)


# --------------------------------------------------------------------------- table


def registry_to_table(registry: Registry, digest: str) -> pa.Table:
    """The public frame and the engine arrays as one Arrow table (with our metadata)."""
    frame = pd.DataFrame(registry.frame.drop(columns=registry.frame.geometry.name))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    verified = pa.array(registry.verified, type=pa.date32(), from_pandas=True)
    for name, values in (("lon", pa.array(registry.lon)), ("lat", pa.array(registry.lat)),
                         ("_service_bits", pa.array(registry.service_bits)),
                         ("_population_bits", pa.array(registry.population_bits)),
                         ("_verified", verified)):
        table = table.append_column(name, values)
    meta = {"format": FORMAT, "sha256": digest, "engine": engine_fingerprint(),
            "rows": len(registry)}
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()})


def table_meta(table: pa.Table | pa.Schema) -> dict[str, Any]:
    """Our metadata of a cache table or schema ({} when absent or unreadable)."""
    schema_ = table.schema if isinstance(table, pa.Table) else table
    raw = (schema_.metadata or {}).get(META_KEY)
    try:
        meta = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _types(arrow_type: pa.DataType) -> Any:
    # Arrow lists stay Arrow (zero copy): turning 4 list columns of 1,000,000 rows
    # into Python lists costs seconds. Cells still read as Python lists.
    return pd.ArrowDtype(LIST_TYPE) if pa.types.is_list(arrow_type) else None


def registry_from_table(table: pa.Table, geometry: np.ndarray | None = None) -> Registry:
    """Rebuild the public `Registry` from a cache table, computing nothing per row
    (but the points, unless `geometry` holds them already).

    Columns are combined into one chunk each: with chunked string columns pandas 3
    takes ~90 ms for an ``iloc`` of 200 rows, 0.6 ms once combined (measured at
    1,000,000 rows; combining takes ~0.16 s once, at load).
    """
    table = table.combine_chunks()
    for name in schema.LIST_FIELDS:  # one list type, whatever the writer named its items
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table.column(name).cast(LIST_TYPE))
    frame = table.drop_columns(list(ARRAY_COLUMNS)).to_pandas(types_mapper=_types)
    for name in ("age_min", "age_max"):
        frame[name] = frame[name].astype("Int64")
    lon = table.column("lon").to_numpy()
    lat = table.column("lat").to_numpy()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Shapely holds the GIL while the Arrow and numpy work below mostly does not.
        points = pool.submit(_points, lon, lat) if geometry is None else None
        arrays = _engine_arrays(table, frame)
        geometry = points.result() if points is not None else geometry
    gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
    return Registry(frame=gdf, lon=lon, lat=lat, **arrays)


def _engine_arrays(table: pa.Table, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The query engine's arrays of a cache table (see `Registry`)."""
    verified = table.column("_verified").to_numpy(zero_copy_only=False)
    return dict(
        age_min=frame["age_min"].astype("Float64").fillna(-np.inf).to_numpy(float),
        age_max=frame["age_max"].astype("Float64").fillna(np.inf).to_numpy(float),
        service_bits=table.column("_service_bits").to_numpy().astype(np.uint32, copy=False),
        population_bits=table.column("_population_bits").to_numpy().astype(np.uint16,
                                                                             copy=False),
        country=_objects(table.column("country")),
        admin1=_objects(table.column("admin1")),
        verified=verified.astype("datetime64[D]"),
    )


def _points(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Point geometries, None where unlocated (about a second per million)."""
    geoms = np.full(len(lon), None, dtype=object)
    located = ~np.isnan(lon)
    geoms[located] = shapely.points(lon[located], lat[located])
    return geoms


def _objects(column: pa.ChunkedArray) -> np.ndarray:
    """A low-cardinality string column as an object array, one Python string per
    distinct value (1M country codes in ms instead of a quarter second)."""
    encoded = column.combine_chunks().dictionary_encode()
    values = np.array(encoded.dictionary.to_pylist() + [None], dtype=object)
    indices = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy()
    return values[indices]


def is_public(registry: Registry) -> bool:
    """True when no confidential service keeps a street address or an off-grid point."""
    conf = (registry.frame["location_precision"] == "confidential").to_numpy()
    if not conf.any():
        return True
    if (registry.frame["address"].iloc[np.flatnonzero(conf)] != "").any():
        return False
    coords = np.concatenate([registry.lon[conf], registry.lat[conf]])
    coords = coords[~np.isnan(coords)] * 10 - 0.5  # public points are 0.1-degree cell centres
    return bool(np.all(np.abs(coords - np.round(coords)) < 1e-6))


# --------------------------------------------------------------------------- files


def read_cache(target: Path, digest: str, geometry: np.ndarray | None = None
               ) -> Registry | None:
    """The registry in cache file `target`, or None if missing, foreign or damaged.

    `geometry`: the points of the public registry when known (just built), so they
    are not made again.
    """
    try:
        reader = pa.ipc.open_file(pa.memory_map(str(target)))
        meta = table_meta(reader.schema)
        if meta.get("sha256") != digest or meta.get("engine") != engine_fingerprint():
            return None
        table = reader.read_all()  # zero copy: the columns point into the mapped file
    except (OSError, pa.ArrowException) as exc:
        if target.exists():
            log.warning("ignoring unreadable registry cache %s: %s", target, exc)
        return None
    try:
        registry = registry_from_table(table, geometry)
    except (KeyError, ValueError, TypeError, pa.ArrowException) as exc:
        log.warning("ignoring malformed registry cache %s: %s", target, exc)
        return None
    if len(registry) != meta.get("rows") or not is_public(registry):
        log.warning("ignoring registry cache %s: rows or public view do not match", target)
        return None
    return registry


def write_cache(registry: Registry, target: Path, digest: str) -> None:
    """Write the cache atomically (readers see the old file or the new, never half)."""
    table = registry_to_table(registry, digest).combine_chunks()

    def write(handle: BinaryIO) -> None:  # streamed: 0.7 GB at 1M never held twice
        with pa.ipc.new_file(pa.PythonFile(handle, mode="w"), table.schema) as writer:
            writer.write_table(table)  # one record batch: one chunk per column at load

    atomic_write_with(target, write)


def cache_files(source: Path) -> list[Path]:
    """Every cache file of `source`, current or stale (older formats included)."""
    folder = cache_dir(source)
    return sorted(p for pattern in (f"{source.name}-*{SUFFIX}", f"{source.name}-*.parquet")
                  for p in folder.glob(pattern))


def _remove_stale(source: Path, keep: Path) -> None:
    for old in cache_files(source):
        if old != keep:
            old.unlink(missing_ok=True)


def build_registry(data: fastscan.Buffer, source: Path) -> Registry:
    """Parse, validate and index registry bytes (RegistryError listing every error)."""
    return Registry.from_frame(registry_frame(data, str(source)))


def _read_source(source: Path) -> tuple[dict[str, int], mmap.mmap | bytes]:
    """The file's stat key and its content, memory-mapped (read-only) when not empty.

    Mapped, the pages of a 0.9 GB registry are read from the page cache as they are
    needed and released after use (`fastscan`), instead of being held all at once.
    """
    try:
        stat = _stat_key(source)
        if stat["size"] > MAX_REGISTRY_BYTES:
            raise RegistryError([Issue(f"file is {stat['size']:,} bytes, more than the limit "
                                       f"of {MAX_REGISTRY_BYTES:,}", str(source))])
        if stat["size"] == 0:
            return stat, b""
        with open(source, "rb") as handle:
            return stat, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise RegistryError([Issue(f"cannot read file: {exc.strerror or exc}",
                                   str(source))]) from None


def _digest(data: mmap.mmap | bytes) -> str:
    """SHA-256 of the content, releasing mapped pages as it goes."""
    digest = hashlib.sha256()
    for start in range(0, len(data), 64 * _HASH_CHUNK):
        end = min(len(data), start + 64 * _HASH_CHUNK)
        digest.update(memoryview(data)[start:end])
        fastscan.release(data, start, end)
    return digest.hexdigest()


def load_cached_registry(source: str | Path) -> Registry:
    """The public registry of GeoJSON file `source`, from its cache when current.

    On a miss the file is read once, hashed, validated (RegistryError on any
    error, and no cache is written), indexed and cached for the next start.
    """
    source = Path(source)
    digest = known_digest(source)
    if digest is not None:
        cached = read_cache(cache_path(source, digest), digest)
        if cached is not None:
            return cached
    stat, data = _read_source(source)
    digest = _digest(data)
    target = cache_path(source, digest)
    registry = read_cache(target, digest)  # content unchanged, only touched or moved
    if registry is None:
        registry = build_registry(data, source)
        del data
        try:
            write_cache(registry, target, digest)
            points = registry.frame.geometry.to_numpy()
            registry = read_cache(target, digest, points) or registry  # same form on hit and miss
        except OSError as exc:
            log.warning("cannot write registry cache %s: %s", target, exc)
            return registry
    try:
        _remember_digest(source, stat, digest)
        _remove_stale(source, target)
    except OSError as exc:
        log.warning("cannot update registry cache folder %s: %s", cache_dir(source), exc)
    return registry


def clear_cache(source: str | Path) -> list[Path]:
    """Remove every cache file of `source`; return what was removed."""
    source = Path(source)
    removed = [*cache_files(source), _sidecar(source)]
    removed = [p for p in removed if p.exists()]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


__all__ = [
    "build_registry", "cache_files", "cache_path", "clear_cache", "engine_fingerprint",
    "file_digest", "known_digest", "load_cached_registry", "read_cache", "registry_from_table",
    "registry_to_table", "write_cache",
]
