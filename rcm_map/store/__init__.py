"""Layer 6: persistence of the registry: the GeoJSON file (default) and PostGIS (hosted),
with history, country updates, problem reports and sign-in (`auth`).

May import every layer below (`core`, `registry`, `search`, `render`, `formats`).

`open_store()` picks the backend: PostGIS when a database URL is given or
`RCM_MAP_DATABASE_URL` is set, else the registry GeoJSON file
(`$RCM_MAP_REGISTRY` or data/actors.geojson) with its SQLite sidecar.
"""

from __future__ import annotations

from pathlib import Path

from rcm_map.core import settings
from rcm_map.core.settings import DATABASE_URL_ENV
from rcm_map.store.base import (
    ChangeRecord,
    ConflictError,
    Diff,
    NotFoundError,
    Report,
    ServiceChange,
    Store,
    StoredService,
    StoreError,
    StoreUnavailable,
    UpdateRejected,
)


def database_url() -> str | None:
    """The configured PostgreSQL URL (`$RCM_MAP_DATABASE_URL`), None when unset or blank.

    When it is set, PostGIS is the one source of truth: every read (app pages,
    downloads, `rcm-map search/export/validate`) goes through the store and no
    code path reads the registry GeoJSON file (issue 13).
    """
    return settings.text(DATABASE_URL_ENV)


def open_store(url: str | None = None, *, registry: str | Path | None = None,
               migrate: bool = True) -> Store:
    """Open the store in use.

    Parameters
    ----------
    url : str, optional
        A PostgreSQL URL; default `$RCM_MAP_DATABASE_URL`. When neither is set the
        GeoJSON file backend is used.
    registry : str or Path, optional
        The registry file of the file backend (default `default_registry_path()`).
    migrate : bool
        Apply pending PostGIS migrations on opening.
    """
    url = url if url is not None else database_url()
    if url:
        from rcm_map.store.postgis import PostGISStore

        return PostGISStore(url, migrate=migrate)
    from rcm_map.registry.model import default_registry_path
    from rcm_map.store.geojson_store import GeoJSONStore

    return GeoJSONStore(registry if registry is not None else default_registry_path())


__all__ = [
    "DATABASE_URL_ENV", "ChangeRecord", "ConflictError", "Diff", "NotFoundError", "Report",
    "ServiceChange", "Store", "StoreError", "StoredService", "StoreUnavailable", "UpdateRejected",
    "database_url", "open_store",
]
