"""The registry cache is keyed on `schema.SCHEMA_VERSION`: a change to validation,
normalisation or the public view must bump it, or stale caches would be trusted.

This test hashes that code and compares it with the hash recorded for the current
version in tests/data/schema_fingerprint.json. After a deliberate change, bump
`SCHEMA_VERSION` and record the new hash:

    .venv/bin/python tests/unit/test_schema_version.py --record
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
from pathlib import Path

from rcm_map.core import geo, safety, schema, standin
from rcm_map.registry import cache, fastcolumns, fastscan, model, validation

RECORD = Path(__file__).resolve().parents[1] / "data" / "schema_fingerprint.json"


def validation_fingerprint() -> str:
    """SHA-256 of the vocabularies and of the code that decides what a cache holds
    (validation, normalisation, stand-in points, withheld text, the engine arrays)."""
    code = [schema.validate_properties, schema.normalize_properties, schema.empty_value,
            model.validate_collection, model.frame_from_features, model.public_view,
            validation, fastscan, fastcolumns, model.frame_from_table, model.registry_frame,
            model.arrow_lists, model.list_bits, model.list_masks, model.Registry.from_frame,
            standin, safety.public_properties, safety.source_links, geo.lat_lon_problem,
            cache.registry_to_table]
    private = [name for module in (schema, model) for name in dir(module)
               if name.startswith("_") and not name.startswith("__")
               and inspect.isfunction(getattr(module, name))]
    code += [getattr(schema, n) for n in private if hasattr(schema, n)]
    code += [getattr(model, n) for n in private if hasattr(model, n)]
    parts = [repr(schema.FIELD_NAMES), repr(list(schema.SERVICE_TYPES)),
             repr(list(schema.POPULATIONS)), repr(safety.WITHHELD_FOR_CONFIDENTIAL),
             safety.SOURCE_WITHHELD, safety._URL_IN_TEXT.pattern,
             *sorted(inspect.getsource(obj) for obj in set(code))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def test_validation_changes_come_with_a_new_schema_version() -> None:
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    current = validation_fingerprint()
    if recorded["schema_version"] == schema.SCHEMA_VERSION:
        assert recorded["sha256"] == current, (
            "validation or the public view changed but schema.SCHEMA_VERSION did not: "
            "bump it, then run `python tests/unit/test_schema_version.py --record`")
    else:
        raise AssertionError(
            f"SCHEMA_VERSION is {schema.SCHEMA_VERSION} but the record holds "
            f"{recorded['schema_version']}: "
            "run `python tests/unit/test_schema_version.py --record`")


def test_the_cache_key_follows_the_schema_version(monkeypatch) -> None:
    before = cache.engine_fingerprint()
    cache.engine_fingerprint.cache_clear()
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    try:
        assert cache.engine_fingerprint() != before
    finally:
        cache.engine_fingerprint.cache_clear()


if __name__ == "__main__" and "--record" in sys.argv:
    RECORD.write_text(json.dumps({"schema_version": schema.SCHEMA_VERSION,
                                  "sha256": validation_fingerprint()}, indent=1) + "\n",
                      encoding="utf-8")
    print(f"recorded schema version {schema.SCHEMA_VERSION}")
