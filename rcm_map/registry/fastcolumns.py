"""Vectorised checks of decoded registry columns, for `rcm_map.registry.fastscan`.

`ColumnChecks.fast_columns` turns one chunk of typed features into normalised Arrow
columns and says, per feature, whether the reference validator must look at it.
Its rules are conservative: a row is cleared only when `validation.feature_issues`
could not find anything wrong with it. Columns with few distinct values are checked
one distinct value at a time by the schema itself (`schema.check_value`); the others
(names, addresses, ids, e-mail addresses, web addresses) by their UTF-8 bytes and
simple ASCII forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from msgspec.structs import astuple

from rcm_map.core import schema

TEXT = pa.large_string()
LIST = pa.list_(TEXT)

# Every character Python's str.isspace() accepts (a test holds the list to Python).
# A value starting or ending with one would be changed by strip(): the vectorised
# path leaves it to the reference validator (it only looks at the first and last
# UTF-8 byte of each value, so a few other values are left to it too).
SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
          + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000")
_FIRST_BYTE = np.zeros(256, dtype=bool)
_FIRST_BYTE[[c.encode()[0] for c in SPACES]] = True
_LAST_BYTE = np.zeros(256, dtype=bool)
_LAST_BYTE[[c.encode()[-1] for c in SPACES]] = True
# How a control character (`schema` refuses U+0000-U+0008, U+000B, U+000C,
# U+000E-U+001F, U+007F) can appear in JSON text: escaped, or U+007F as is.
CONTROL_MARKS = (b"\\u00", b"\\b", b"\\f")
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
# Conservative forms (RE2, ASCII): a value they match passes the schema's own check.
_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
_EMAIL = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[!#-&(-;=?-_a-~]+$"
_VECTOR_KINDS = {"str": None, "email": (_EMAIL, 254), "url": (_URL, 2000)}
"""Kinds checked in bulk when a column has many distinct values; every other column
is checked one distinct value at a time by the schema itself (`schema.check_value`)."""


class ColumnChecks:
    """The column checks of one file (what it learnt about it is kept between chunks)."""

    def __init__(self) -> None:
        self.controls = True  # whether a value may hold a control character
        self.bulk: set[str] = set()  # fields with too many distinct values to check one by one

    def fast_columns(self, feats: list[Any]) -> tuple[dict[str, pa.Array], np.ndarray]:
        """The normalised columns of typed features (`msgspec` structs) and, per
        feature, whether the reference validator must look at it (`doubt`)."""
        n = len(feats)
        # one tuple per feature, turned into one tuple per field (twice as fast as getattr)
        fields = list(zip(*map(astuple, [f.properties for f in feats]), strict=True)) if n \
            else [()] * (len(schema.FIELDS) + 1)
        doubt = np.zeros(n, dtype=bool)
        arrays: dict[str, pa.Array] = {}
        for spec, values in zip(schema.FIELDS, fields, strict=False):
            if spec.kind == "age":
                arrays[spec.name], bad = _ages(values)
                doubt |= bad
            else:
                arrays[spec.name] = pa.array(values, type=LIST if spec.kind.startswith("list:")
                                             else TEXT)
        lon, lat, located, bad = _coordinates(feats)
        return self.checked(arrays, lon, lat, located, doubt | bad)

    def arrow_columns(self, table: pa.Table) -> tuple[dict[str, pa.Array], np.ndarray]:
        """The same from features read by Arrow's JSON reader with `ARROW_SCHEMA`, which
        refuses what the typed structs refuse (another type, an unknown or repeated key)
        but lets through a few things they do not: those rows are in doubt here."""
        table = table.combine_chunks()
        props = table.column("properties").chunk(0)
        doubt = ~_np(pc.equal(table.column("type").chunk(0), "Feature")) | _np(props.is_null())
        arrays: dict[str, pa.Array] = {}
        for spec in schema.FIELDS:
            child = props.field(spec.name)
            if spec.kind == "age":
                low, high = schema.AGE_LIMITS
                bad = _np(pc.or_(pc.less(child, low), pc.greater(child, high)))
                doubt |= bad
                child = pc.if_else(pa.array(bad), pa.scalar(None, pa.int64()), child)
            elif spec.kind.startswith("list:"):  # a null item: the structs refuse it
                nulls = pc.list_parent_indices(child).to_numpy()[
                    _np(pc.is_null(child.flatten()))]
                doubt[nulls] = True
            arrays[spec.name] = child
        geometry = table.column("geometry").chunk(0)
        located = _np(geometry.is_valid())
        coords = geometry.field("coordinates")  # a list of doubles: any numbers
        doubt |= located & (~_np(pc.equal(geometry.field("type"), "Point"))
                            | _np(coords.is_null()))
        offsets = coords.offsets.to_numpy().astype(np.int64)
        items = coords.values.to_numpy(zero_copy_only=False)  # a null item reads NaN
        not_finite = np.concatenate([[0], np.cumsum(~np.isfinite(items))])
        odd = not_finite[offsets[1:]] > not_finite[offsets[:-1]]  # NaN, Infinity, null, 1e999
        good = located & ~_np(coords.is_null()) & ~odd & (np.diff(offsets) >= 2)
        lon, lat = np.full(len(props), np.nan), np.full(len(props), np.nan)
        lon[good] = items[offsets[:-1][good]]
        lat[good] = items[offsets[:-1][good] + 1]
        with np.errstate(invalid="ignore"):
            outside = good & ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
        return self.checked(arrays, lon, lat, located, doubt | (located & ~good) | outside)

    def checked(self, arrays: dict[str, pa.Array], lon: np.ndarray, lat: np.ndarray,
                located: np.ndarray, doubt: np.ndarray) -> tuple[dict[str, pa.Array], np.ndarray]:
        """Normalise and check the field columns of a chunk (ages already checked)."""
        cols: dict[str, pa.Array] = {}
        for spec in schema.FIELDS:
            if spec.kind == "age":
                cols[spec.name] = arrays[spec.name]
                continue
            if spec.kind.startswith("list:"):
                cols[spec.name], bad = self.list_column(spec, arrays[spec.name])
            else:
                cols[spec.name], bad = self.text_column(spec, arrays[spec.name])
            doubt |= bad
        lo, hi = cols["age_min"], cols["age_max"]
        doubt |= _np(pc.greater(lo, hi))
        doubt |= _admin1_abroad(cols["admin1"], cols["country"])
        precision = cols["location_precision"]
        needs_point = _np(pc.is_in(precision, pa.array(schema.POINT_PRECISIONS, TEXT)))
        doubt |= located != needs_point
        cols["lon"], cols["lat"] = pa.array(lon), pa.array(lat)
        return cols, doubt

    def text_column(self, spec: schema.Field, array: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """A text field: normalised values, and which rows are in doubt."""
        if spec.name in self.bulk:
            return self.text_in_bulk(spec, array)
        encoded = array.dictionary_encode()
        words = encoded.dictionary
        if spec.kind in _VECTOR_KINDS and len(words) > max(256, len(array) // 8):
            self.bulk.add(spec.name)
            return self.text_in_bulk(spec, array)
        # One check per distinct value, by the schema itself; the last slot is null.
        texts = words.to_pylist()
        ok = np.array([self.clear(spec, w) for w in texts] + [not spec.required], dtype=bool)
        empty = schema.empty_value(spec.name)
        normal = pa.array([empty if schema.is_empty(w) else w.strip() for w in texts] + [empty],
                          type=TEXT)
        index = encoded.indices.fill_null(len(texts)).to_numpy(zero_copy_only=False)
        return normal.take(pa.array(index)), ~ok[index]

    @staticmethod
    def clear(spec: schema.Field, value: str) -> bool:
        """Whether `validate_properties` finds nothing wrong with this value of `spec`
        (for admin1, but for its country, checked in `fast_columns`)."""
        if schema.is_empty(value):
            return not spec.required
        return spec.name != "id" and schema.check_value(spec.kind, value) is None

    def text_in_bulk(self, spec: schema.Field, array: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """Text with many distinct values (names, addresses, e-mail addresses, ids):
        conservative checks on the UTF-8 bytes; values they do not clear are in doubt."""
        size, edges = _sizes_and_edges(array)
        flagged = np.flatnonzero(edges)  # a look at the few values the bytes flag
        edges[flagged] = [v != v.strip() for v in array.take(pa.array(flagged)).to_pylist()]
        empty = _np(array.is_null()) | (size == 0)
        ok = ~edges & (size <= schema.MAX_TEXT_LENGTH)  # bytes >= characters
        if self.controls:
            ok &= ~_np(pc.match_substring_regex(array, _CONTROL))
        if spec.name == "id":
            ok &= _np(pc.match_substring_regex(array, _ID))
        form = _VECTOR_KINDS[spec.kind]
        if form is not None:
            ok &= _np(pc.match_substring_regex(array, form[0])) & (size <= form[1])
        return pc.fill_null(array, ""), np.where(empty, spec.required, ~ok)

    def list_column(self, spec: schema.Field, array: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """A list field: normalised lists ([] when empty), and which rows are in doubt."""
        lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
        flat = array.flatten()
        parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
        encoded = flat.dictionary_encode()
        # a null item (only Arrow's reader lets one through: that row is in doubt) gets
        # the code after the dictionary's last
        codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
        if spec.kind == "list:str" and len(encoded.dictionary) > max(256, len(flat) // 8):
            size, _ = _sizes_and_edges(flat)
            bad_item = size > schema.MAX_TEXT_LENGTH
            if self.controls:
                bad_item |= _np(pc.match_substring_regex(flat, _CONTROL))
        else:  # the schema's own check of each distinct item
            good = np.array([schema.check_value(spec.kind, [w]) is None
                             for w in encoded.dictionary.to_pylist()] + [False], dtype=bool)
            bad_item = ~good[codes]
        doubt = np.zeros(len(array), dtype=bool)
        doubt[parents[bad_item]] = True
        doubt[_repeats(codes, parents)] = True
        if spec.required:
            doubt |= lengths == 0
        return pc.if_else(pc.is_null(array), pa.scalar([], LIST), array), doubt


def _np(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow result as numpy, nulls as False."""
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def _admin1_abroad(admin1: pa.Array, country: pa.Array) -> np.ndarray:
    """Rows whose ISO 3166-2 code belongs to another country than theirs."""
    iso2 = pa.array([schema.ISO2_BY_ISO3.get(c) for c in country.dictionary_encode()
                     .dictionary.to_pylist()], type=TEXT)
    expected = iso2.take(country.dictionary_encode().indices)
    prefix = pc.utf8_slice_codeunits(admin1, 0, 2)
    return _np(pc.and_(pc.not_equal(admin1, ""), pc.not_equal(prefix, expected)))


def _ages(values: Sequence[Any]) -> tuple[pa.Array, np.ndarray]:
    """Ages: integers in `schema.AGE_LIMITS` or None; the rest is in doubt."""
    low, high = schema.AGE_LIMITS
    doubt = np.array([v is not None and not low <= v <= high for v in values], dtype=bool)
    kept = [None if d else v for v, d in zip(values, doubt, strict=True)]
    return pa.array(kept, type=pa.int64()), doubt


def _coordinates(feats: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lon, lat, located, doubt) of typed features; NaN where there is no point."""
    n = len(feats)
    coords = [f.geometry.coordinates if f.geometry is not None else None for f in feats]
    located = np.array([c is not None for c in coords], dtype=bool)
    short = np.array([c is not None and len(c) < 2 for c in coords], dtype=bool)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    good = np.flatnonzero(located & ~short)
    if len(good):
        pairs = np.array([coords[k][:2] for k in good], dtype=np.float64)  # type: ignore[index]
        lon[good], lat[good] = pairs[:, 0], pairs[:, 1]
    with np.errstate(invalid="ignore"):
        outside = located & ~short & ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    return lon, lat, located, short | outside


def _repeats(codes: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Rows whose list holds an item twice (`codes`: dictionary codes of the items)."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    width = int(codes.max()) + 1
    keys = np.sort(parents.astype(np.int64) * width + codes.astype(np.int64))
    return keys[1:][keys[1:] == keys[:-1]] // width


def _sizes_and_edges(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 byte length of each value, and whether its first or last byte may belong
    to a space character (nulls: 0 and False)."""
    offsets_buffer, data_buffer = array.buffers()[1:3]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset:
                                                            array.offset + len(array) + 1]
    size = np.diff(offsets)
    edges = np.zeros(len(array), dtype=bool)
    filled = np.flatnonzero(size > 0)
    if len(filled):
        data = np.frombuffer(data_buffer, dtype=np.uint8)
        first, last = data[offsets[filled]], data[offsets[filled + 1] - 1]
        edges[filled] = _FIRST_BYTE[first] | _LAST_BYTE[last]
    return size, edges


__all__ = ["CONTROL_MARKS", "LIST", "SPACES", "TEXT", "ColumnChecks"]
