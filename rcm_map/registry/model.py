"""The `Registry`: a validated registry file as the query engine holds it.

`load_registry_uncached` reads and validates a file (`rcm_map.registry.fastscan`,
same issues as `rcm_map.registry.validation`) and returns a `Registry`: the public
GeoDataFrame (confidential locations already moved to their public point, their
address withheld) plus the column arrays the query engine filters on. Reading and
validation live in `rcm_map.registry.reading` and `rcm_map.registry.validation`;
their names are re-exported here, where callers have always found them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from rcm_map.core import schema
from rcm_map.core.safety import WITHHELD_FOR_CONFIDENTIAL, public_properties
from rcm_map.core.standin import public_points
from rcm_map.registry import fastscan
from rcm_map.registry.reading import (
    DEFAULT_REGISTRY,
    MAX_FEATURES,
    MAX_FILE_BYTES,
    MAX_REGISTRY_BYTES,
    REPO_ROOT,
    RegistryError,
    default_registry_path,
    parse_json_bytes,
    read_file_bytes,
    read_json_file,
)
from rcm_map.registry.spatial import GridIndex
from rcm_map.registry.validation import errors, validate_collection, validate_file

__all__ = [
    "DEFAULT_REGISTRY", "MAX_FEATURES", "MAX_FILE_BYTES", "MAX_REGISTRY_BYTES", "REPO_ROOT",
    "Registry", "RegistryError", "default_registry_path", "errors", "frame_from_features",
    "parse_json_bytes", "public_view", "read_json_file", "validate_collection", "validate_file",
]




def frame_from_features(features: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """A GeoDataFrame with every schema field, in canonical form (true locations).

    Same values as `schema.normalize_properties` row by row, built column by
    column (5x faster at 100,000 features, which matters when a cache is built).
    """
    props = [schema.upgrade_properties(f["properties"]) for f in features]
    columns = {name: _normalized_column(name, [p.get(name) for p in props])
               for name in schema.FIELD_NAMES}
    frame = pd.DataFrame(columns, columns=list(schema.FIELD_NAMES))
    for name in ("age_min", "age_max"):
        frame[name] = pd.array(frame[name], dtype="Int64")
    return gpd.GeoDataFrame(frame, geometry=_points(features), crs="EPSG:4326")


def _normalized_column(name: str, values: list[Any]) -> list[Any]:
    """One field of every feature in canonical form (see `schema.normalize_properties`)."""
    empty = schema.empty_value(name)
    if name in schema.LIST_FIELDS:
        return [[str(v) for v in value] if isinstance(value, list) and value
                else (list(empty) if schema.is_empty(value) else [str(v) for v in value])
                for value in values]
    if name in ("age_min", "age_max"):
        return [None if schema.is_empty(value) else int(value) for value in values]
    out = []
    for value in values:
        if isinstance(value, str):
            value = value.strip()
            out.append(value if value else empty)
        else:
            out.append(empty if schema.is_empty(value) else value)
    return out


def _points(features: list[dict[str, Any]]) -> np.ndarray:
    """Point geometries of the features (None for country-wide ones), made in one go."""
    geoms = np.full(len(features), None, dtype=object)
    located = [i for i, f in enumerate(features) if f.get("geometry")]
    if located:
        coords = np.array([features[i]["geometry"]["coordinates"][:2] for i in located],
                          dtype=float)
        geoms[located] = shapely.points(coords)
    return geoms


def public_view(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame as it may leave the server: confidential rows at their public point.

    Their true coordinates are replaced by the stand-in (`rcm_map.core.standin`,
    all rows at once with `public_points`, the answers of `public_point`) and their
    free text goes through `rcm_map.core.safety.public_properties`, so no query,
    map, export or log downstream can reveal them (distances included).
    """
    conf = (frame["location_precision"] == "confidential").to_numpy()
    if not conf.any():
        return frame
    out = frame.copy()
    rows = np.flatnonzero(conf)
    geoms = np.asarray(frame.geometry.array, dtype=object)[rows]
    placed = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    moved = np.full(len(rows), None, dtype=object)
    if placed.any():
        countries = [str(c) for c in frame["country"].take(rows[placed]).tolist()]
        admin1s = [str(a or "") for a in frame["admin1"].take(rows[placed]).tolist()]
        lon, lat = public_points(shapely.get_x(geoms[placed]), shapely.get_y(geoms[placed]),
                                countries, admin1s)
        moved[placed] = shapely.points(lon, lat)
    out.loc[conf, "geometry"] = gpd.GeoSeries(moved, index=out.index[conf], crs=frame.crs)
    text = [*WITHHELD_FOR_CONFIDENTIAL, "source", "location_precision"]
    columns = [frame[name].take(rows).tolist() for name in text]
    cleaned = [public_properties(dict(zip(text, values, strict=True)))
               for values in zip(*columns, strict=True)]
    for name in text:
        out.loc[conf, name] = [row[name] for row in cleaned]
    return out


@dataclass(frozen=True, eq=False)
class Registry:
    """A loaded, public registry and the arrays the query engine uses.

    List fields (``service_types``, ``populations``, ``phones``, ``languages``) are
    Arrow list columns in `frame`: a cached registry of 1,000,000 services starts in
    about a second that way, where Python lists would take several. A cell
    still reads as a Python list; `rcm_map.search.query.search` results hold Python lists.

    Build with `Registry.from_frame` (or `load_registry`); the frame is never mutated.
    """

    frame: gpd.GeoDataFrame
    lon: np.ndarray = field(repr=False)
    lat: np.ndarray = field(repr=False)
    age_min: np.ndarray = field(repr=False)  # float, -inf when open
    age_max: np.ndarray = field(repr=False)  # float, +inf when open
    service_bits: np.ndarray = field(repr=False)  # uint32, one bit per service type
    population_bits: np.ndarray = field(repr=False)  # uint16, one bit per population
    country: np.ndarray = field(repr=False)
    admin1: np.ndarray = field(repr=False)
    verified: np.ndarray = field(repr=False)  # `verified_on`, datetime64[D], NaT when never

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame, *, public: bool = True) -> Registry:
        """Index a frame; `public=True` first moves confidential rows to their public point."""
        frame = public_view(frame) if public else frame
        frame = arrow_lists(frame.reset_index(drop=True))
        located = frame.geometry.notna() & ~frame.geometry.is_empty
        lon = np.full(len(frame), np.nan)
        lat = np.full(len(frame), np.nan)
        lon[located.to_numpy()] = frame.geometry[located].x.to_numpy()
        lat[located.to_numpy()] = frame.geometry[located].y.to_numpy()
        return cls(
            frame=frame,
            lon=lon,
            lat=lat,
            age_min=frame["age_min"].astype("Float64").fillna(-np.inf).to_numpy(float),
            age_max=frame["age_max"].astype("Float64").fillna(np.inf).to_numpy(float),
            service_bits=list_bits(frame["service_types"], schema.SERVICE_TYPES, np.uint32),
            population_bits=list_bits(frame["populations"], schema.POPULATIONS, np.uint16),
            country=frame["country"].to_numpy(dtype=object),
            admin1=frame["admin1"].to_numpy(dtype=object),
            verified=pd.to_datetime(frame["verified_on"].replace("", None), errors="coerce")
            .to_numpy(dtype="datetime64[D]"),
        )

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def languages(self) -> dict[str, np.ndarray]:
        """Language code -> boolean mask of the services that speak it."""
        return code_masks(self.frame["languages"])

    @cached_property
    def attributes(self) -> pd.DataFrame:
        """`frame` without its geometry, as a plain DataFrame (built once): taking
        rows from it skips the GeoDataFrame constructor and a copy of every row."""
        return pd.DataFrame(self.frame.drop(columns=self.frame.geometry.name))

    @cached_property
    def attribute_arrays(self) -> dict[str, Any]:
        """Column name -> the array behind each column of `attributes` (built once)."""
        return {name: self.attributes[name].array for name in self.attributes.columns}

    @cached_property
    def grid(self) -> GridIndex:
        """Grid index of the located points (`rcm_map.registry.spatial`; built once)."""
        return GridIndex.build(self.lat, self.lon)

    @cached_property
    def ids(self) -> np.ndarray:
        """Service ids as an object array (for tie-breaking sorts; built once)."""
        return self.frame["id"].to_numpy(dtype=object)

    @cached_property
    def search_text(self) -> pd.Series:
        """Accent- and case-folded text of each service, for free-text search."""
        from rcm_map.core.text import fold

        cols = ["name", "organization", "city", "description", "address", "referral"]
        joined = self.frame[cols].fillna("").astype(str).agg(" ".join, axis=1)
        return joined.map(fold)


LIST_TYPE = pa.list_(pa.string())


def arrow_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose list fields are Arrow list columns (others untouched)."""
    todo = [name for name in schema.LIST_FIELDS if name in frame.columns
            and frame[name].dtype != pd.ArrowDtype(LIST_TYPE)]
    if not todo:
        return frame
    out = frame.copy()
    for name in todo:
        cells = [list(v) if isinstance(v, (list, tuple, np.ndarray)) else [] for v in frame[name]]
        out[name] = pd.Series(pd.array(cells, dtype=pd.ArrowDtype(LIST_TYPE)), index=frame.index)
    return out


def plain_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with Arrow list columns (as a `Registry` holds them) turned into
    columns of Python lists, the form every consumer of results expects."""
    arrow = [c for c, t in frame.dtypes.items()
             if isinstance(t, pd.ArrowDtype) and pa.types.is_list(t.pyarrow_dtype)]
    if not arrow:
        return frame
    out = frame.copy()
    for name in arrow:
        cells = frame[name].array.__arrow_array__().to_pylist()
        out[name] = pd.Series([c if c is not None else [] for c in cells], index=frame.index,
                              dtype=object)
    return out


def list_bits(values: pd.Series, vocabulary: tuple[str, ...], dtype: type) -> np.ndarray:
    """Encode list columns as bitmasks (bit i = i-th vocabulary code)."""
    order = list(vocabulary)
    bits: np.ndarray = np.zeros(len(values), dtype=dtype)
    for code, mask in code_masks(values).items():
        if code in vocabulary:
            bits[mask] |= dtype(1 << order.index(code))
    return bits


def code_masks(values: pd.Series) -> dict[str, np.ndarray]:
    """Same as `list_masks`, with Arrow's dictionary encoding for Arrow list columns
    (0.05 s instead of 0.7 s for one million rows)."""
    dtype = values.dtype
    if not (isinstance(dtype, pd.ArrowDtype) and pa.types.is_list(dtype.pyarrow_dtype)):
        return list_masks(values)
    array = values.array.__arrow_array__().combine_chunks()
    encoded = pc.list_flatten(array).dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(array).to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(encoded.dictionary) + 1))
    masks: dict[str, np.ndarray] = {}
    for k, code in enumerate(encoded.dictionary.to_pylist()):
        mask = np.zeros(len(values), dtype=bool)
        mask[parents[order[bounds[k]:bounds[k + 1]]]] = True
        masks[str(code)] = mask
    return masks


def list_masks(values: pd.Series) -> dict[str, np.ndarray]:
    """Code -> boolean mask of the rows whose list holds it (lists or Arrow lists)."""
    n = len(values)
    if isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_list(values.dtype.pyarrow_dtype):
        array = values.array.__arrow_array__().combine_chunks()
        flat = pc.list_flatten(array).to_numpy(zero_copy_only=False)
        parents = pc.list_parent_indices(array).to_numpy()
    else:
        lists = values.tolist()
        parents = np.repeat(np.arange(n), [len(v) for v in lists])
        flat = np.array([c for v in lists for c in v], dtype=object)
    masks: dict[str, np.ndarray] = {}
    if len(flat) == 0:
        return masks
    codes, inverse = np.unique(flat.astype(str), return_inverse=True)
    for k, code in enumerate(codes):
        mask = np.zeros(n, dtype=bool)
        mask[parents[inverse == k]] = True
        masks[str(code)] = mask
    return masks


def mask_of(codes: list[str] | tuple[str, ...], vocabulary: tuple[str, ...]) -> int:
    """The bitmask of some codes, as used by `list_bits`."""
    order = list(vocabulary)
    return sum(1 << order.index(c) for c in codes if c in vocabulary)


def read_registry_features(
    path: str | Path, max_bytes: int = MAX_FILE_BYTES
) -> list[dict[str, Any]]:
    """Features of a valid registry file, or RegistryError listing every error."""
    obj = read_json_file(path, max_bytes=max_bytes)
    problems = errors(validate_collection(obj, str(path)))
    if problems:
        raise RegistryError(problems)
    return obj["features"]


def frame_from_table(table: pa.Table) -> gpd.GeoDataFrame:
    """The frame `frame_from_features` makes, from the columns `fastscan.scan` built."""
    lon = table.column("lon").to_numpy()
    lat = table.column("lat").to_numpy()
    frame = table.drop_columns(["lon", "lat"]).to_pandas(
        types_mapper=lambda t: pd.ArrowDtype(LIST_TYPE) if pa.types.is_list(t) else None)
    for name in ("age_min", "age_max"):
        frame[name] = frame[name].astype("Int64")
    geoms = np.full(len(frame), None, dtype=object)
    located = ~np.isnan(lon)
    geoms[located] = shapely.points(lon[located], lat[located])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def registry_frame(data: fastscan.Buffer, file: str) -> gpd.GeoDataFrame:
    """The true-location frame of registry bytes, or RegistryError listing every error.

    `fastscan.scan` reads the bytes; when it cannot vouch for them the reference
    reader does (same issues either way).
    """
    with fastscan.gc_paused():
        found = fastscan.scan(data, file)
    if found is None:
        obj = parse_json_bytes(bytes(data), file)
        problems = errors(validate_collection(obj, file))
        if problems:
            raise RegistryError(problems)
        return frame_from_features(obj["features"])
    problems, table = errors(found.issues), found.table
    del found
    if problems or table is None:
        raise RegistryError(problems)
    return frame_from_table(table)


def load_registry_uncached(path: str | Path) -> Registry:
    """Read, validate and index the GeoJSON file itself, without any cache."""
    data = read_file_bytes(path, MAX_REGISTRY_BYTES)
    return Registry.from_frame(registry_frame(data, str(path)))
