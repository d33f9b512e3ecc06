"""Read, validate and load a registry (GeoJSON FeatureCollection of service points).

`validate_file` reports every problem at once and never raises on bad input.
`load_registry` returns a `Registry`: the public GeoDataFrame (confidential
locations already moved to their public point, their address withheld) plus the
column arrays the query engine filters on.
"""

from __future__ import annotations

import json
from collections import Counter
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
from shapely.geometry import Point

from rcm_map.core import boundaries, schema, settings
from rcm_map.core.files import NotARegularFile, read_regular_file
from rcm_map.core.geo import lat_lon_problem
from rcm_map.core.safety import WITHHELD_FOR_CONFIDENTIAL, public_properties
from rcm_map.core.schema import Issue
from rcm_map.core.settings import REGISTRY_ENV
from rcm_map.core.standin import public_point
from rcm_map.registry.spatial import GridIndex

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGISTRY = REPO_ROOT / "data" / "actors.geojson"
MAX_FILE_BYTES = 200 * 1024 * 1024  # files people validate, import or upload
# The server's own registry (written by the app or an administrator, not uploaded)
# may be larger: 1,000,000 services take about 0.9 GB of GeoJSON.
MAX_REGISTRY_BYTES = 2 * 1024 * 1024 * 1024
MAX_FEATURES = 2_000_000

# Attributes of every confidential row that must never leave the server.



class RegistryError(Exception):
    """A registry that cannot be used; `issues` says why, one line each."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues[:20]))


def default_registry_path() -> Path:
    """The registry in use: $RCM_MAP_REGISTRY, else data/actors.geojson."""
    env = settings.text(REGISTRY_ENV)
    return Path(env) if env else DEFAULT_REGISTRY


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_bytes(data: bytes, file: str) -> Any:
    """Decode and parse JSON text, raising RegistryError with a one-line reason."""
    if not data.strip():
        raise RegistryError([Issue("file is empty", file)])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte-order mark is harmless; editors on Windows add it
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError([Issue(
            f"not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
            "save the file as UTF-8", file)]) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RegistryError([Issue(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file)]) from None
    except RecursionError:
        raise RegistryError([Issue("JSON nested too deeply to be a registry", file)]) from None
    except ValueError as exc:  # NaN/Infinity constants, integers too long to convert
        raise RegistryError([Issue(f"invalid JSON: {exc}", file)]) from None


def read_json_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Read a JSON file with size and encoding checks; raise RegistryError on failure."""
    file = str(path)
    try:
        data = read_regular_file(path, max_bytes)
    except NotARegularFile as exc:
        raise RegistryError([Issue(str(exc).replace(f"{file} is", "this is"), file)]) from None
    except ValueError as exc:
        raise RegistryError([Issue(str(exc), file)]) from None
    except OSError as exc:
        raise RegistryError([Issue(f"cannot read file: {exc.strerror or exc}", file)]) from None
    return parse_json_bytes(data, file)


def _coordinate_problem(coords: Any) -> str | None:
    if not isinstance(coords, list) or len(coords) < 2:
        return "Point coordinates must be [longitude, latitude]"
    problem = lat_lon_problem(coords[1], coords[0], numbers_only=True)
    return None if problem is None else problem.message


def _feature_issues(feature: Any, index: int, file: str) -> list[Issue]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        got = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
        return [Issue("not a GeoJSON Feature", file, index, field="type", value=got)]
    props = feature.get("properties")
    issues = schema.validate_properties(props, file=file, index=index)
    fid = props.get("id", "") if isinstance(props, dict) else ""
    fid = fid if isinstance(fid, str) else ""
    geometry = feature.get("geometry")
    if geometry is None:
        # RFC 7946 "unlocated" feature: a country-wide service, listed but not mapped.
        return issues + _precision_issues(props, geometry, file, index, fid)
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        got = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        issues.append(Issue("geometry must be a Point (or null for a country-wide service)",
                            file, index, fid, "geometry", got))
        return issues
    problem = _coordinate_problem(geometry.get("coordinates"))
    if problem:
        issues.append(Issue(problem, file, index, fid, "geometry.coordinates",
                            geometry.get("coordinates")))
        return issues
    return issues + _precision_issues(props, geometry, file, index, fid)


def _precision_issues(props: Any, geometry: Any, file: str, index: int, fid: str) -> list[Issue]:
    """`location_precision` and geometry must agree (issue 12).

    A street address, a city centre or a confidential site is a point; a service
    without a point is country-wide and says so, so nobody reads a missing point
    as "somewhere in this city".
    """
    precision = props.get("location_precision") if isinstance(props, dict) else None
    if not isinstance(precision, str) or precision not in schema.LOCATION_PRECISIONS:
        return []  # already reported by the vocabulary check
    if geometry is None and precision in schema.POINT_PRECISIONS:
        return [Issue(f"location_precision {precision!r} needs a point; a service without "
                      "one must have location_precision 'country_wide'", file, index, fid,
                      "location_precision", precision)]
    if geometry is not None and precision not in schema.POINT_PRECISIONS:
        return [Issue("a 'country_wide' service has no point: set geometry to null, or "
                      "choose address, city or confidential", file, index, fid,
                      "location_precision", precision)]
    return []


def _country_issues(rows: list[tuple[int, str, float, float, str]], file: str) -> list[Issue]:
    """Points that lie outside their declared country (with tolerance for 1:10m borders)."""
    if not rows:
        return []
    idx, ids, lons, lats, countries = map(list, zip(*rows, strict=True))
    inside = boundaries.points_in_country(np.array(lons), np.array(lats), countries)
    swapped = boundaries.points_in_country(np.array(lats), np.array(lons), countries)
    issues = []
    for k in np.flatnonzero(~inside):
        hint = " (longitude and latitude look swapped)" if swapped[k] else ""
        issues.append(Issue(f"point lies outside its country {countries[k]}{hint}", file,
                            idx[k], ids[k], "geometry.coordinates", [lons[k], lats[k]]))
    return issues


def validate_collection(obj: Any, file: str = "", check_countries: bool = True) -> list[Issue]:
    """Every problem in a parsed GeoJSON object; an empty list means a valid registry."""
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection":
        got = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        return [Issue("not a GeoJSON FeatureCollection", file, field="type", value=got)]
    features = obj.get("features")
    if not isinstance(features, list):
        return [Issue("'features' must be a list", file, field="features",
                      value=type(features).__name__)]
    if len(features) > MAX_FEATURES:
        return [Issue(f"{len(features):,} features, more than the limit of {MAX_FEATURES:,}",
                      file)]
    issues: list[Issue] = []
    located: list[tuple[int, str, float, float, str]] = []
    for index, feature in enumerate(features):
        found = _feature_issues(feature, index, file)
        issues.extend(found)
        if any(i.severity == "error" for i in found):
            continue
        props, geometry = feature["properties"], feature.get("geometry")
        if geometry is not None:
            lon, lat = geometry["coordinates"][:2]
            located.append((index, props["id"], float(lon), float(lat), props["country"]))
    ids = Counter(
        f["properties"].get("id") for f in features
        if isinstance(f, dict) and isinstance(f.get("properties"), dict)
        and isinstance(f["properties"].get("id"), str)
    )
    for index, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        fid = props.get("id") if isinstance(props, dict) else None
        if isinstance(fid, str) and ids[fid] > 1:
            issues.append(Issue("duplicate id; every service needs its own id",
                                file, index, fid, "id", fid))
    if check_countries:
        issues.extend(_country_issues(located, file))
    return issues


def validate_file(path: str | Path) -> list[Issue]:
    """Every problem in a registry file, never raising on bad content."""
    try:
        obj = read_json_file(path)
    except RegistryError as exc:
        return exc.issues
    return validate_collection(obj, str(path))


def errors(issues: list[Issue]) -> list[Issue]:
    """Only the issues that make a registry unusable."""
    return [i for i in issues if i.severity == "error"]


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

    Their true coordinates are replaced by the stand-in (`rcm_map.core.standin`) and
    their free text goes through `rcm_map.core.safety.public_properties`, so no
    query, map, export or log downstream can reveal them (distances included).
    """
    conf = (frame["location_precision"] == "confidential").to_numpy()
    if not conf.any():
        return frame
    out = frame.copy()
    moved = []
    rows = zip(out.geometry[conf], out.loc[conf, "country"], out.loc[conf, "admin1"], strict=True)
    for geom, country, admin1 in rows:
        moved.append(None if geom is None or geom.is_empty else
                     Point(public_point(geom.x, geom.y, str(country), str(admin1 or ""))))
    out.loc[conf, "geometry"] = gpd.GeoSeries(moved, index=out.index[conf], crs=frame.crs)
    text = [*WITHHELD_FOR_CONFIDENTIAL, "source", "location_precision"]
    cleaned = [public_properties(row) for row in out.loc[conf, text].to_dict("records")]
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
    for code, mask in list_masks(values).items():
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


def load_registry_uncached(path: str | Path) -> Registry:
    """Read, validate and index the GeoJSON file itself, without any cache."""
    features = read_registry_features(path, max_bytes=MAX_REGISTRY_BYTES)
    return Registry.from_frame(frame_from_features(features))
