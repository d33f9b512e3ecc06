"""Layer 2: the registry of services in memory. `reading` and `validation` read and
validate a GeoJSON file (the reference), `fastscan` does the same for large files
(msgspec, vectorised checks, same issues), `model` turns it into a `Registry`;
`cache` keeps a memory-mapped Arrow copy of it; `spatial` is its point index;
`recovery` checks a damaged file and finds the last good backup.

May import `rcm_map.core` only.
"""

from __future__ import annotations

from pathlib import Path

from rcm_map.registry.cache import load_cached_registry
from rcm_map.registry.model import Registry, default_registry_path, load_registry_uncached

__all__ = ["Registry", "load_registry"]


def load_registry(path: str | Path | None = None, *, use_cache: bool = True) -> Registry:
    """Load, validate and index a registry file (default: `default_registry_path()`).

    With `use_cache` (the default) the public registry comes from a columnar
    cache beside the file, rebuilt (and the file validated again) whenever the
    file's content or `rcm_map.core.schema.SCHEMA_VERSION` changes; see
    `rcm_map.registry.cache`.
    """
    path = Path(path) if path is not None else default_registry_path()
    if use_cache:
        return load_cached_registry(path)
    return load_registry_uncached(path)
