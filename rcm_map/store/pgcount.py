"""Network-wide match counts for the PostGIS search, cached per registry version.

Every search shows how many located services match its filters across the whole
network (`SearchResult.total_matching`). Counting visits every located row (filters
are bitmasks and open age bounds no index can seek): ~300 ms at a million services,
far more than the search itself. The count depends only on the filters, never on
the place searched, and only changes when the registry does, so it is kept here per
(registry version, filter SQL, filter parameters): a caseworker who searches the
same filters near another place, or any session of the same process asking the
same filters, gets the exact figure without the scan.

Replicas stay consistent: the registry version is the database's own counter
(migration 0003, bumped by a trigger on every write), read in the same transaction
as the search, so a count is reused only while no write has happened anywhere.
The key also holds the transaction id that last wrote the counter row, so a
database dropped and re-created under a running process (its counter back at 1)
does not match the old counts.
Nothing is written to disk or logged (the key may hold a searched free text).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

DEFAULT_ENTRIES = 512


def filter_key(version: Hashable, where: str, params: dict[str, Any]) -> tuple[Hashable, ...]:
    """A hashable key for one filter combination at one registry version."""
    frozen = tuple(sorted((name, tuple(value) if isinstance(value, list) else value)
                          for name, value in params.items()))
    return (version, where, frozen)


class MatchCounts:
    """A bounded, thread-safe least-recently-used map of filter key -> count.

    Entries of older registry versions are never read again (the key carries the
    version) and fall out as new ones arrive.
    """

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self.entries = entries
        self._counts: OrderedDict[tuple[Hashable, ...], int] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_count(self, key: tuple[Hashable, ...], count: Callable[[], int]) -> int:
        """The cached count for `key`, or `count()` (run outside the lock) stored."""
        with self._lock:
            if key in self._counts:
                self._counts.move_to_end(key)
                return self._counts[key]
        found = int(count())
        with self._lock:
            self._counts[key] = found
            self._counts.move_to_end(key)
            while len(self._counts) > self.entries:
                self._counts.popitem(last=False)
        return found

    def clear(self) -> None:
        """Forget every count (the bench uses it to time a first search)."""
        with self._lock:
            self._counts.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._counts)
