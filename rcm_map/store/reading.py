"""The read path: where the public pages, the downloads and the CLI read the registry.

One source of truth (issue 13). `open_reader()` returns

* a `PostGISReader` when a database URL is configured (`$RCM_MAP_DATABASE_URL`):
  searches run in PostGIS (`PostGISStore.search`), whole-registry views are built
  from the store's public rows, and nothing reads the registry GeoJSON file;
* else a `FileReader` over the registry file, exactly as a single machine always
  read it (the columnar cache, validation on change).

Both answer the same questions with the same public view (confidential services
at their stand-in point, address withheld). Views of the whole registry are kept
per process and rebuilt when `stamp()` moves: the file's (mtime, size), or the
database's version counter, which a trigger bumps on every committed write. So
an update applied by one app replica is seen by every other one on its next
rerun, without a restart.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from rcm_map.core.schema import Issue
from rcm_map.registry import load_registry
from rcm_map.registry.model import (
    MAX_REGISTRY_BYTES,
    Registry,
    frame_from_features,
    read_json_file,
    validate_collection,
)
from rcm_map.search.query import Query, SearchResult, search

if TYPE_CHECKING:
    from rcm_map.store.postgis import PostGISStore

T = TypeVar("T")


@dataclass(frozen=True)
class Facets:
    """The codes in use, for filter choices: spoken languages and admin-1 units."""

    languages: tuple[str, ...]
    admin1: tuple[str, ...]


@dataclass(frozen=True)
class Validation:
    """What validating the live registry found."""

    source: str  # the file path, or "database"
    count: int
    issues: list[Issue]


class RegistryReader(abc.ABC):
    """Public reads of the registry in use; views of the whole registry are cached."""

    def __init__(self) -> None:
        # One lock per view: a slow rebuild of the whole registry (coverage page, a
        # million rows) must not hold up the search page's facets. Re-entrant: a
        # file's facets are built from its registry view.
        self._locks = {name: threading.RLock() for name in ("registry", "facets", "count",
                                                              "points")}
        self._views: dict[str, tuple[Hashable, Any]] = {}

    @abc.abstractmethod
    def describe(self) -> str:
        """A short name of the source for people (file name, or 'database')."""

    @abc.abstractmethod
    def stamp(self) -> Hashable:
        """A token that changes whenever the registry does (cheap: called every rerun)."""

    @abc.abstractmethod
    def search(self, query: Query) -> SearchResult:
        """Run a caseworker's query on the public registry."""

    @abc.abstractmethod
    def _build_registry(self) -> Registry:
        """The whole public registry, indexed (coverage tables, the about page)."""

    @abc.abstractmethod
    def _build_facets(self) -> Facets:
        """The codes in use."""

    @abc.abstractmethod
    def validate(self) -> Validation:
        """Validate the live registry (true data) as `rcm-map validate` does a file."""

    def registry(self) -> Registry:
        """The whole public registry, rebuilt only when the registry changed."""
        return self._view("registry", self._build_registry)

    def facets(self) -> Facets:
        """The codes in use, recomputed only when the registry changed."""
        return self._view("facets", self._build_facets)

    def service_points(self) -> np.ndarray:
        """(n, 2) lat/lon of the located services, confidential ones left out (the
        place finder's "services near this place" signal), cached per stamp."""
        return self._view("points", self._build_points)

    def _build_points(self) -> np.ndarray:
        from rcm_map.search.placefinder import points_of

        return points_of(self.registry())

    def count(self) -> int:
        """How many services the registry holds, recounted only when it changed."""
        return self._view("count", self._build_count)

    def _build_count(self) -> int:
        return len(self.registry())

    def forget(self) -> None:
        """Drop the cached views (after this process changed the registry)."""
        self._views.clear()

    def _view(self, name: str, build: Callable[[], T]) -> T:
        stamp = self.stamp()
        with self._locks[name]:  # one build at a time: sessions wait instead of all building
            held = self._views.get(name)
            if held is not None and held[0] == stamp:
                return held[1]  # type: ignore[no-any-return]
            value = build()
            self._views[name] = (stamp, value)
            return value

    def close(self) -> None:  # noqa: B027 - optional hook; files hold nothing open
        """Release connections (PostGIS)."""


class FileReader(RegistryReader):
    """The registry GeoJSON file (single machine; no database configured)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)

    def describe(self) -> str:
        return self.path.name

    def stamp(self) -> Hashable:
        try:
            info = self.path.stat()
        except OSError:
            return (0, -1)
        return (info.st_mtime_ns, info.st_size)

    def search(self, query: Query) -> SearchResult:
        return search(self.registry(), query)

    def _build_registry(self) -> Registry:
        return load_registry(self.path)

    def _build_facets(self) -> Facets:
        reg = self.registry()
        codes = sorted({c for c in reg.admin1 if isinstance(c, str) and c})
        return Facets(tuple(sorted(reg.languages)), tuple(codes))

    def validate(self) -> Validation:
        from rcm_map.registry.model import RegistryError

        try:
            obj = read_json_file(self.path, max_bytes=MAX_REGISTRY_BYTES)  # the server's own
        except RegistryError as exc:
            return Validation(str(self.path), 0, exc.issues)
        features = obj.get("features") if isinstance(obj, dict) else None
        count = len(features) if isinstance(features, list) else 0
        return Validation(str(self.path), count, validate_collection(obj, str(self.path)))


class PostGISReader(RegistryReader):
    """The registry in PostGIS: the only source when a database URL is configured."""

    def __init__(self, store: PostGISStore) -> None:
        super().__init__()
        self.store = store

    def describe(self) -> str:
        return "database"

    def stamp(self) -> Hashable:
        return self.store.registry_version()

    def search(self, query: Query) -> SearchResult:
        return self.store.search(query)

    def _build_registry(self) -> Registry:
        # The rows are already public (stand-in points, address withheld): index
        # them as they are instead of moving confidential points a second time.
        frame = frame_from_features(self.store.public_features())
        return Registry.from_frame(frame, public=False)

    def _build_facets(self) -> Facets:
        languages, admin1 = self.store.facets()
        return Facets(tuple(languages), tuple(admin1))

    def _build_points(self) -> np.ndarray:
        return self.store.service_points()  # one narrow query, not the whole registry

    def _build_count(self) -> int:
        return self.store.count()

    def validate(self) -> Validation:
        features = [s.feature for s in self.store.all_features()]
        issues = validate_collection({"type": "FeatureCollection", "features": features},
                                     "database")
        return Validation("database", len(features), issues)

    def close(self) -> None:
        self.store.close()


def open_reader(url: str | None = None, *, registry: str | Path | None = None,
                store: Any | None = None) -> RegistryReader:
    """The reader of the registry in use.

    Parameters
    ----------
    url : str, optional
        A PostgreSQL URL; default `$RCM_MAP_DATABASE_URL`. When neither is set the
        registry file is read.
    registry : str or Path, optional
        The registry file when no database is configured (default
        `default_registry_path()`).
    store : PostGISStore, optional
        An open store to read through (shares its connection pool).
    """
    from rcm_map.store import database_url
    from rcm_map.store.postgis import PostGISStore

    if isinstance(store, PostGISStore):
        return PostGISReader(store)
    url = url if url is not None else database_url()
    if url:
        return PostGISReader(PostGISStore(url))
    from rcm_map.registry.model import default_registry_path

    return FileReader(registry if registry is not None else default_registry_path())


__all__ = ["Facets", "FileReader", "PostGISReader", "RegistryReader", "Validation",
           "open_reader"]
