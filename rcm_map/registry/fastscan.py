"""Fast reader of large registry files: msgspec decoding and vectorised checks.

The reference reader (`rcm_map.registry.reading.parse_json_bytes` then
`rcm_map.registry.validation.validate_collection`) holds the whole document as
Python dicts: 1,000,000 services took 119 s and 7.0 GB to become a cache. This
reader gives the same issues, in the same order, and the same normalised columns
without ever holding more than one chunk of features as Python objects:

1. The bytes are checked to be UTF-8 (Arrow's validator, no copy) and split with
   msgspec into the envelope and one `msgspec.Raw` slice per feature (no copy).
2. Features are decoded a chunk at a time into typed `msgspec.Struct`s that only
   accept what a registry may hold (text as text, ages as integers, lists of text,
   a Point of numbers, no unknown field). A feature that does not fit is decoded
   by the standard library's `json` and checked by `validation.feature_issues`.
3. The chunk's columns become Arrow arrays and are checked all at once
   (`rcm_map.registry.fastcolumns`) with
   conservative rules: a row passes only when the reference validator could not
   find any issue in it (e.g. an e-mail address is cleared only when it is plain
   ASCII of the simplest form). Every other row goes to `feature_issues`, so each
   message is the reference's own; rules that clear too little only cost time.
4. Duplicate ids and points outside their country are checked over the whole
   file, with the reference's functions.

Whenever the fast reader cannot be sure that the document is valid JSON exactly
as Python's `json` reads it (a lone UTF-16 surrogate escape, a number too large
for a float, a syntax error), `scan` returns None and the caller uses the
reference reader, whose message names the line and column.
"""

from __future__ import annotations

import gc
import json
import mmap
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from rcm_map.core import schema
from rcm_map.core.schema import Issue
from rcm_map.registry.fastcolumns import CONTROL_MARKS, LIST, TEXT, ColumnChecks
from rcm_map.registry.reading import MAX_FEATURES, parse_json_bytes
from rcm_map.registry.validation import country_issues, feature_issues, validate_collection

CHUNK = 50_000
"""Features decoded to Python objects at a time (about 100 MB of them)."""

def _struct_type(kind: str) -> Any:
    if kind == "age":
        return int | None
    if kind.startswith("list:"):
        return list[str] | None
    return str | None


_Properties = msgspec.defstruct(
    "_Properties",
    [(f.name, _struct_type(f.kind), None) for f in schema.FIELDS] + [("distance_km", Any, None)],
    forbid_unknown_fields=True,
    gc=False,  # no cycles possible; untracked structs decode ~2x faster
)


class _Point(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    type: Literal["Point"]
    coordinates: list[float]


class _Feature(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    type: Literal["Feature"]
    properties: _Properties  # type: ignore[valid-type]
    geometry: _Point | None = None


def _arrow_type(kind: str) -> pa.DataType:
    if kind == "age":
        return pa.int64()
    return LIST if kind.startswith("list:") else TEXT


ARROW_SCHEMA = pa.schema([
    ("type", TEXT),
    ("properties", pa.struct([(f.name, _arrow_type(f.kind)) for f in schema.FIELDS])),
    ("geometry", pa.struct([("type", TEXT), ("coordinates", pa.list_(pa.float64()))])),
])
"""A feature as Arrow's JSON reader may read it: exactly the typed structs' fields
(`distance_km` aside: a chunk holding it is decoded by msgspec)."""
_ARROW_PARSE = pajson.ParseOptions(explicit_schema=ARROW_SCHEMA,
                                   unexpected_field_behavior="error")
_ARROW_BLOCK = 4 << 20
ARROW_READER = True
"""Whether chunks are read by Arrow's JSON reader when they can be (tests turn it off
to check the msgspec path on the same inputs)."""

class _Collection(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A FeatureCollection with no other key than these two (then one pass splits it)."""

    type: msgspec.Raw = msgspec.Raw(b"")  # empty: no "type" key
    features: list[msgspec.Raw] | None = None


_COLLECTION = msgspec.json.Decoder(_Collection)
_ENVELOPE = msgspec.json.Decoder(dict[str, msgspec.Raw])
_RAWS = msgspec.json.Decoder(list[msgspec.Raw])
_FEATURES = msgspec.json.Decoder(list[_Feature])
_ONE = msgspec.json.Decoder(_Feature)
_DECODE_ERRORS = (msgspec.MsgspecError, ValueError, RecursionError)


Buffer = bytes | mmap.mmap
"""A registry file's content: bytes, or the file memory-mapped (`cache` maps it)."""
_UTF8_BLOCK = 64 << 20


class _Unsure(Exception):
    """The fast reader cannot vouch for this document: use the reference reader."""


@dataclass
class Scan:
    """What the fast reader found in a registry file.

    `issues` are the reference validator's issues, in its order; `count` is the
    number of features (0 when there is no list of them). When the scan was asked
    to build and found no error, `table` holds the normalised columns
    (`schema.FIELD_NAMES`, as `model.frame_from_features` makes them) plus ``lon``
    and ``lat`` (NaN for a country-wide service).
    """

    issues: list[Issue]
    count: int
    table: pa.Table | None


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (restored after it).

    Decoding allocates millions of objects, and every 700 allocations of containers
    CPython walks the young ones for cycles; none can form here.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def scan(data: Buffer, file: str, *, build: bool = True) -> Scan | None:
    """Validate registry bytes (and build their columns); None: use the reference reader."""
    try:
        return _Scanner(file, build).run(data)
    except _Unsure:
        return None


def validate_bytes(data: Buffer, file: str) -> tuple[list[Issue], int]:
    """Every issue in registry bytes and their number of features, as
    `validation.validate_collection` finds them (RegistryError when they are not JSON)."""
    with gc_paused():
        found = scan(data, file, build=False)
    if found is not None:
        return found.issues, found.count
    obj = parse_json_bytes(bytes(data), file)
    issues = validate_collection(obj, file)
    features = obj.get("features") if isinstance(obj, dict) else None
    return issues, len(features) if isinstance(features, list) else 0


def _loads(raw: Any) -> Any:
    """One JSON value as the reference reader parses it (raises _Unsure when it cannot)."""
    try:
        return json.loads(bytes(raw).decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise _Unsure from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _read_arrow(raws: list[msgspec.Raw]) -> pa.Table | None:
    """The chunk's features as Arrow columns (`ARROW_SCHEMA`) by Arrow's multi-threaded
    JSON reader, or None when it cannot read them all that way: a feature that is not
    an object or has another shape, or a string the reader refuses (a lone surrogate
    escape). The features are joined by newlines; the reader takes any whitespace
    between objects, and refuses an object that a block boundary cuts, so a table of
    as many rows as features is the features in order."""
    if min(map(len, raws), default=0) < 5:
        return None  # a bare `null` crashes pyarrow 26 (other short values: an error)
    try:
        table = pajson.read_json(pa.BufferReader(b"\n".join(raws)),
                                 read_options=pajson.ReadOptions(block_size=_ARROW_BLOCK),
                                 parse_options=_ARROW_PARSE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == len(raws) else None


def release(data: Buffer, start: int = 0, end: int | None = None) -> None:
    """Give back the resident pages of a memory-mapped file (from `start`, page-aligned,
    to `end`): read again, they come from the page cache. No-op for bytes."""
    if isinstance(data, mmap.mmap) and len(data):
        data.madvise(mmap.MADV_DONTNEED, start, (len(data) if end is None else end) - start)


def _is_utf8(data: Buffer, view: memoryview) -> bool:
    """Whether `view` (all of `data` or all but a BOM) is valid UTF-8: Arrow's SIMD
    validator, 64 MB at a time, never splitting a character, without copying."""
    start, size = 0, len(view)
    while start < size:
        end = min(size, start + _UTF8_BLOCK)
        while end < size and 0x80 <= view[end] < 0xC0:  # a continuation byte
            end += 1
        offsets = pa.py_buffer(np.array([0, end - start], dtype=np.int64))
        text = pa.Array.from_buffers(TEXT, 1, [None, offsets, pa.py_buffer(view[start:end])])
        try:
            text.validate(full=True)
        except pa.ArrowInvalid:
            return False
        start = end
        release(data, 0, min(len(data), (len(data) - size) + end) // mmap.PAGESIZE
                * mmap.PAGESIZE)
    return True


class _Scanner:
    """One pass over one file (see the module docstring)."""

    def __init__(self, file: str, build: bool):
        self.file = file
        self.build = build
        self.issues: list[Issue] = []
        self.ids: list[pa.Array] = []
        self.located: list[tuple[np.ndarray, list[str], np.ndarray, np.ndarray, list[str]]] = []
        self.columns: dict[str, list[pa.Array]] = {name: [] for name in (*schema.FIELD_NAMES,
                                                                         "lon", "lat")}
        self.checks = ColumnChecks()

    # ----------------------------------------------------------------- document

    def run(self, data: Buffer) -> Scan:
        if re.fullmatch(rb"[ \t\n\r\x0b\x0c]*", data):
            raise _Unsure  # the reference reader says "file is empty"
        view = memoryview(data)
        if data[:3] == b"\xef\xbb\xbf":
            view = view[3:]
        if not _is_utf8(data, view):
            raise _Unsure  # the reference reader names the first bad byte
        self.checks.controls = data.find(b"\x7f") >= 0 or (data.find(b"\\") >= 0 and any(
            data.find(mark) >= 0 for mark in CONTROL_MARKS))
        release(data)
        try:
            whole = _COLLECTION.decode(view)  # one pass when the envelope holds nothing else
        except _DECODE_ERRORS:
            whole = None
        finally:
            release(data)
        if whole is not None and len(whole.type) and whole.features is not None:
            if _loads(whole.type) != "FeatureCollection":
                raise _Unsure  # the reference reader says what it is
            raws = whole.features
        else:
            split = self.split(data, view)
            if isinstance(split, Scan):
                return split
            raws = split
        del whole
        if len(raws) > MAX_FEATURES:
            return Scan([Issue(f"{len(raws):,} features, more than the limit of "
                               f"{MAX_FEATURES:,}", self.file)], len(raws), None)
        release(data)
        for start in range(0, len(raws), CHUNK):
            self.chunk(start, raws[start:start + CHUNK])
            release(data)  # the chunk's bytes are read: give their pages back
        count = len(raws)
        del raws, view
        self.issues.extend(self.duplicate_ids())
        self.issues.extend(self.outside_country())
        if not self.build or any(i.severity == "error" for i in self.issues):
            return Scan(self.issues, count, None)
        columns = {}
        for name in list(self.columns):  # one chunk per column, one column copied at a time
            parts = self.columns.pop(name)
            columns[name] = pa.concat_arrays(parts) if parts else pa.array([], self.type_of(name))
            del parts
        return Scan(self.issues, count, pa.table(columns))

    def split(self, data: Buffer, view: memoryview) -> list[msgspec.Raw] | Scan:
        """The features of any envelope, one raw slice each (or the Scan of a file
        whose ``features`` is not a list)."""
        try:
            top = _ENVELOPE.decode(view)
        except _DECODE_ERRORS:
            raise _Unsure from None
        finally:
            release(data)
        values = {key: _loads(raw) for key, raw in top.items() if key != "features"}
        if values.get("type") != "FeatureCollection":
            raise _Unsure  # the reference reader says what it is (and counts its features)
        try:
            raws = _RAWS.decode(top["features"]) if "features" in top else None
        except _DECODE_ERRORS:
            if memoryview(top["features"])[:1] == b"[":
                raise _Unsure from None  # a list msgspec refused: the reference reader speaks
            raws = None
        if raws is None:
            got = _loads(top["features"]) if "features" in top else None
            return Scan([Issue("'features' must be a list", self.file, field="features",
                               value=type(got).__name__)], 0, None)
        return raws

    @staticmethod
    def type_of(name: str) -> pa.DataType:
        if name in ("lon", "lat"):
            return pa.float64()
        if name in schema.LIST_FIELDS:
            return LIST
        return pa.int64() if name in ("age_min", "age_max") else TEXT

    # ----------------------------------------------------------------- one chunk

    def chunk(self, start: int, raws: list[msgspec.Raw]) -> None:
        """Decode, check and (when building) normalise features start..start+len(raws)."""
        table = _read_arrow(raws) if ARROW_READER else None
        ids: list[str | None]
        if table is not None:
            table = table.combine_chunks()
            fast = np.arange(len(raws))
            ids = table.column("properties").chunk(0).field("id").to_pylist()
            cols, doubt = self.checks.arrow_columns(table)
            del table
        else:
            try:
                decoded: list[Any] = _FEATURES.decode(b"[" + b",".join(raws) + b"]")
            except _DECODE_ERRORS:
                decoded = list(self.one_by_one(raws))
            fast = np.flatnonzero(np.fromiter((f is not None for f in decoded), dtype=bool,
                                              count=len(decoded)))
            feats = [f for f in decoded if f is not None]
            del decoded
            cols, doubt = self.checks.fast_columns(feats)
            ids = [None] * len(raws)
            for k, fid in zip(fast.tolist(), [f.properties.id for f in feats], strict=True):
                ids[k] = fid
            del feats
        need = np.ones(len(raws), dtype=bool)
        need[fast] = doubt
        lon, lat = cols["lon"].to_numpy(), cols["lat"].to_numpy()
        cleared = np.flatnonzero(~doubt & ~np.isnan(lon))  # located and cleared: positions
        loc_rows = (start + fast[cleared]).tolist()
        loc_ids = [ids[k] for k in fast[cleared].tolist()]
        loc_country = cols["country"].take(pa.array(cleared)).to_pylist()
        loc_lon, loc_lat = lon[cleared].tolist(), lat[cleared].tolist()
        normalised: list[tuple[int, dict[str, Any], float, float]] = []
        for k in np.flatnonzero(need).tolist():
            feature = _loads(raws[k])
            found = feature_issues(feature, start + k, self.file)
            self.issues.extend(found)
            props = feature.get("properties") if isinstance(feature, dict) else None
            fid = props.get("id") if isinstance(props, dict) else None
            ids[k] = fid if isinstance(fid, str) else None
            if any(i.severity == "error" for i in found):
                self.build = False
                continue
            assert isinstance(props, dict)  # a feature without errors has properties
            geometry = feature.get("geometry")
            point = (float(geometry["coordinates"][0]), float(geometry["coordinates"][1])) \
                if geometry is not None else (np.nan, np.nan)
            if geometry is not None:
                loc_rows.append(start + k)
                loc_ids.append(props["id"])
                loc_country.append(props["country"])
                loc_lon.append(point[0])
                loc_lat.append(point[1])
            normalised.append((k, schema.normalize_properties(props), *point))
        self.ids.append(pa.array(ids, type=TEXT))
        rows = np.array(loc_rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")  # cleared rows, then the others
        self.located.append((rows[order], [loc_ids[i] for i in order],
                             np.array(loc_lon, dtype=float)[order],
                             np.array(loc_lat, dtype=float)[order],
                             [loc_country[i] for i in order]))
        if self.build:
            self.keep(cols, fast, len(raws), normalised)

    @staticmethod
    def one_by_one(raws: list[msgspec.Raw]) -> Iterator[Any]:
        """Each feature of a chunk msgspec refused as a whole (None: not the typed form)."""
        for raw in raws:
            try:
                yield _ONE.decode(raw)
            except _DECODE_ERRORS:
                yield None

    def keep(self, cols: dict[str, pa.Array], fast: np.ndarray, n: int,
             normalised: list[tuple[int, dict[str, Any], float, float]]) -> None:
        """Store the chunk's normalised columns: cleared rows from `cols`, the others
        from the reference normalisation (`schema.normalize_properties`)."""
        if not normalised:  # every row decoded and cleared: `cols` is the chunk
            for name, column in cols.items():
                self.columns[name].append(column)
            return
        take = np.full(n, -1, dtype=np.int64)
        take[fast] = np.arange(len(fast))
        for j, (k, _, _, _) in enumerate(normalised):
            take[k] = len(fast) + j
        indices = pa.array(take)
        for name, column in cols.items():
            if name in ("lon", "lat"):
                extra = [lon if name == "lon" else lat for _, _, lon, lat in normalised]
            else:
                extra = [props[name] for _, props, _, _ in normalised]
            joined = pa.concat_arrays([column, pa.array(extra, type=self.type_of(name))])
            self.columns[name].append(joined.take(indices))

    # ----------------------------------------------------------------- whole file

    def duplicate_ids(self) -> list[Issue]:
        """The reference's "duplicate id" issues, in feature order."""
        ids = pa.chunked_array(self.ids, type=TEXT).combine_chunks()
        counts = pc.value_counts(ids.drop_null())
        repeated = counts.filter(pc.greater(counts.field("counts"), 1)).field("values")
        if len(repeated) == 0:
            return []
        rows = np.flatnonzero(pc.fill_null(pc.is_in(ids, repeated), False).to_numpy(
            zero_copy_only=False))
        return [Issue("duplicate id; every service needs its own id", self.file, int(k),
                      ids[int(k)].as_py(), "id", ids[int(k)].as_py()) for k in rows]

    def outside_country(self) -> list[Issue]:
        """The reference's "point lies outside its country" issues."""
        if not self.located:
            return []
        rows: np.ndarray = np.concatenate([part[0] for part in self.located])
        ids = [fid for part in self.located for fid in part[1]]
        lons = np.concatenate([part[2] for part in self.located])
        lats = np.concatenate([part[3] for part in self.located])
        countries = [code for part in self.located for code in part[4]]
        self.located = []
        return country_issues(rows.tolist(), ids, lons, lats, countries, self.file)


__all__ = [
    "CHUNK", "Buffer", "Scan", "gc_paused", "release", "scan", "validate_bytes",
]
