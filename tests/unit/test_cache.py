"""The columnar registry cache: same registry, rebuilt on change, public only."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from rcm_map.registry import cache, load_registry
from rcm_map.registry.model import RegistryError
from rcm_map.search.query import Query, search


@pytest.fixture
def registry_file(tmp_path: Path, small_path: Path) -> Path:
    """A private copy of small.geojson (its cache goes to tmp_path/.cache)."""
    return Path(shutil.copy(small_path, tmp_path / "actors.geojson"))


def cache_files(path: Path) -> list[Path]:
    return cache.cache_files(path)


def read_table(path: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all()


def no_build(*_args: object) -> None:
    raise AssertionError("the cache should have been used")


def test_cached_registry_equals_the_uncached_one(registry_file: Path) -> None:
    first = load_registry(registry_file)  # builds the cache
    again = load_registry(registry_file)  # reads it
    plain = load_registry(registry_file, use_cache=False)
    assert len(cache_files(registry_file)) == 1
    for reg in (first, again):
        assert reg.frame.drop(columns="geometry").equals(plain.frame.drop(columns="geometry"))
        assert reg.frame.geometry.geom_equals(plain.frame.geometry).sum() == \
            plain.frame.geometry.notna().sum()
        for name in ("lon", "lat", "age_min", "age_max", "service_bits", "population_bits"):
            assert np.array_equal(getattr(reg, name), getattr(plain, name), equal_nan=True)
        assert np.array_equal(reg.verified, plain.verified, equal_nan=True)
        assert list(reg.country) == list(plain.country)


def test_second_load_reads_the_cache(registry_file: Path, monkeypatch) -> None:
    load_registry(registry_file)
    monkeypatch.setattr(cache, "build_registry", no_build)
    monkeypatch.setattr(cache, "file_digest", no_build)  # stat unchanged: no re-hash either
    assert len(load_registry(registry_file)) == 6


def test_changed_file_is_revalidated_and_rebuilt(registry_file: Path, small_features) -> None:
    load_registry(registry_file)
    old = cache_files(registry_file)
    small_features[0]["properties"]["name"] = "Nuevo nombre"
    registry_file.write_text(json.dumps({"type": "FeatureCollection",
                                         "features": small_features}), encoding="utf-8")
    reg = load_registry(registry_file)
    assert "Nuevo nombre" in set(reg.frame["name"])
    assert cache_files(registry_file) != old and len(cache_files(registry_file)) == 1


def test_invalid_change_raises_and_writes_no_cache(registry_file: Path,
                                                   small_features) -> None:
    load_registry(registry_file)
    small_features[0]["properties"]["country"] = "XXX"
    registry_file.write_text(json.dumps({"type": "FeatureCollection",
                                         "features": small_features}), encoding="utf-8")
    before = cache_files(registry_file)
    with pytest.raises(RegistryError, match="country"):
        load_registry(registry_file)
    assert cache_files(registry_file) == before


def test_touched_file_with_same_content_reuses_the_cache(registry_file: Path,
                                                         monkeypatch) -> None:
    load_registry(registry_file)
    stat = registry_file.stat()
    os.utime(registry_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    monkeypatch.setattr(cache, "build_registry", no_build)
    assert len(load_registry(registry_file)) == 6


def test_damaged_cache_is_rebuilt(registry_file: Path, caplog) -> None:
    load_registry(registry_file)
    (target,) = cache_files(registry_file)
    target.write_bytes(target.read_bytes()[:100])
    assert len(load_registry(registry_file)) == 6
    assert "unreadable registry cache" in caplog.text
    assert read_table(target).num_rows == 6


def test_other_engine_version_is_not_trusted(registry_file: Path, monkeypatch) -> None:
    load_registry(registry_file)
    monkeypatch.setattr(cache, "engine_fingerprint", lambda: "f" * 64)
    calls = []
    build = cache.build_registry
    monkeypatch.setattr(cache, "build_registry", lambda *a: calls.append(1) or build(*a))
    load_registry(registry_file)
    assert calls == [1]


def test_unwritable_cache_still_loads(registry_file: Path, monkeypatch, caplog) -> None:
    def refuse(*_args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cache, "write_cache", refuse)
    reg = load_registry(registry_file)
    assert len(reg) == 6 and "cannot write registry cache" in caplog.text
    assert cache_files(registry_file) == []


def test_cache_holds_only_the_public_view(registry_file: Path) -> None:
    load_registry(registry_file)
    (target,) = cache_files(registry_file)
    rows = read_table(target).to_pylist()
    secret = next(r for r in rows if r["id"] == "mex-tap-secret")
    assert secret["address"] == ""
    assert (secret["lon"], secret["lat"]) != (-92.29, 14.92)  # its true site
    assert b"Calle Secreta" not in target.read_bytes()


def test_writes_leave_no_temporary_files(registry_file: Path) -> None:
    load_registry(registry_file)
    leftovers = [p.name for p in cache.cache_dir(registry_file).iterdir()
                 if ".tmp-" in p.name]
    assert leftovers == []


def test_results_from_a_cached_registry_hold_python_lists(registry_file: Path) -> None:
    load_registry(registry_file)
    reg = load_registry(registry_file)
    located = search(reg, Query(near=(14.9, -92.26))).located
    assert all(type(v) is list for col in ("service_types", "phones", "languages")
               for v in located[col])


def test_clear_cache_removes_cache_and_sidecar(registry_file: Path) -> None:
    load_registry(registry_file)
    removed = cache.clear_cache(registry_file)
    assert len(removed) == 2 and cache_files(registry_file) == []


def test_stale_parquet_cache_of_an_older_format_is_removed(registry_file: Path) -> None:
    old = cache.cache_dir(registry_file) / f"{registry_file.name}-0123456789abcdef-00000000.parquet"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"PAR1")
    load_registry(registry_file)
    assert not old.exists() and len(cache_files(registry_file)) == 1
