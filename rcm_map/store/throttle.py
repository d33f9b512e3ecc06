"""Server-side attempt limits: sign-in failures and problem reports (issue 12).

The first limits lived in ``st.session_state``: a reload or a second browser tab
started again from zero, and each wrong password slept one second on the script
thread. A `Throttle` is one object per server process (the pages keep it in
``st.cache_resource``), shared by every session and thread, and counts events per
key in a sliding window: the sign-in form uses one key per user name and one per
client address, so neither many sessions nor many user names get around it.
Nothing sleeps: a refused attempt is answered at once with the time to wait.

Pure module, no Streamlit. Keys are hashed before they are kept, so the table
holds no user names or addresses in clear.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MAX_KEYS = 100_000
"""Keys kept at most; the oldest are forgotten first (bounded memory under a flood)."""


@dataclass
class Throttle:
    """At most `limit` events per key in any `window_s` seconds.

    Parameters
    ----------
    limit
        Events allowed per key within the window.
    window_s
        Length of the sliding window, seconds.
    clock
        Monotonic time source (injectable for tests).
    """

    limit: int
    window_s: float
    clock: Callable[[], float] = time.monotonic
    _events: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds until every key may act again (0 when none is blocked)."""
        with self._lock:
            return self._retry_after([_digest(k) for k in keys], self.clock())

    def record(self, keys: Iterable[str]) -> None:
        """Count one event for each key."""
        with self._lock:
            self._record([_digest(k) for k in keys], self.clock())

    def allow(self, keys: Iterable[str]) -> bool:
        """Count an event for `keys` unless one is blocked; True when it was allowed.

        Checking and counting happen under one lock, so parallel sessions cannot
        slip in between.
        """
        digests = [_digest(k) for k in keys]
        with self._lock:
            now = self.clock()
            if self._retry_after(digests, now) > 0:
                return False
            self._record(digests, now)
            return True

    def _retry_after(self, digests: list[str], now: float) -> float:
        return max((self._wait(d, now) for d in digests), default=0.0)

    def _record(self, digests: list[str], now: float) -> None:
        for key in digests:
            events = self._events.pop(key, None) or deque()
            events.append(now)
            while len(events) > self.limit:
                events.popleft()
            self._events[key] = events  # re-inserted: dict order = recency
        while len(self._events) > MAX_KEYS:
            del self._events[next(iter(self._events))]

    def forget(self, keys: Iterable[str]) -> None:
        """Clear the count of `keys` (after a successful sign-in)."""
        with self._lock:
            for key in map(_digest, keys):
                self._events.pop(key, None)

    def _wait(self, key: str, now: float) -> float:
        events = self._events.get(key)
        if not events:
            return 0.0
        while events and now - events[0] >= self.window_s:
            events.popleft()
        if len(events) < self.limit:
            return 0.0
        return self.window_s - (now - events[0])


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def login_keys(username: str, client: str | None) -> list[str]:
    """Throttle keys of one sign-in attempt: the user name, and the client address."""
    keys = [f"user:{username.strip().casefold()}"]
    if client:
        keys.append(f"client:{client}")
    return keys
