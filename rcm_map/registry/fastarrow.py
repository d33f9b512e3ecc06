"""Arrow's JSON reader for the fast reader of registry files (`rcm_map.registry.fastscan`).

A chunk of features, each a `msgspec.Raw` slice of the file, is joined into lines and
read by Arrow's multi-threaded JSON reader straight into columns of `ARROW_SCHEMA`:
no Python object per value. The schema is exactly the typed structs' (a feature with
another shape, an unknown or a repeated key is refused, and the chunk goes to msgspec);
`fastcolumns.ColumnChecks.arrow_columns` puts in doubt what the reader lets through
and the structs do not.
"""

from __future__ import annotations

import msgspec
import pyarrow as pa
import pyarrow.json as pajson

from rcm_map.core import schema
from rcm_map.registry.fastcolumns import LIST, TEXT


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
ARROW_BLOCK = 4 << 20
"""Bytes of lines per block of Arrow's reader (blocks are parsed in parallel)."""


def read_arrow(raws: list[msgspec.Raw]) -> pa.Table | None:
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
                                 read_options=pajson.ReadOptions(block_size=ARROW_BLOCK),
                                 parse_options=_ARROW_PARSE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == len(raws) else None


__all__ = ["ARROW_BLOCK", "ARROW_SCHEMA", "read_arrow"]
