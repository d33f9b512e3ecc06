"""Connections to PostgreSQL: one `psycopg_pool.ConnectionPool` per store, sized from
settings, and one clear error when the database cannot be reached.

Settings (`rcm_map.core.settings`, read when a store opens): ``RCM_MAP_DB_POOL_MIN``
and ``RCM_MAP_DB_POOL_MAX`` size the pool of each app process (a Streamlit process
runs one script thread per active session; beyond the maximum, simultaneous
reruns wait for a free connection); ``RCM_MAP_DB_TIMEOUT_S`` is how long a request
waits for a connection (or a new connection for the server) before the page says
the database is unavailable.

When the database stops, waiting requests fail after the timeout with
`StoreUnavailable` (nothing crashes; the page shows a message). The pool
checks each connection before lending it (`ConnectionPool.check_connection`)
and keeps trying to reconnect in the background, so reads recover on their own
as soon as the server is back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rcm_map.core import settings
from rcm_map.store.base import StoreError, StoreUnavailable

UNAVAILABLE = ("the database is not reachable (is PostgreSQL running, and "
               "RCM_MAP_DATABASE_URL right?); nothing was read or written")


@dataclass(frozen=True)
class PoolSettings:
    """Size and timeout of a store's connection pool (see the module docstring)."""

    min_size: int = 1
    max_size: int = 10
    timeout_s: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PoolSettings:
        """Settings from the environment; StoreError naming the variable when one is bad."""
        try:
            min_size = int(settings.get(settings.DB_POOL_MIN_ENV, environ) or 0)
            max_size = int(settings.get(settings.DB_POOL_MAX_ENV, environ) or 0)
            timeout = float(settings.get(settings.DB_TIMEOUT_ENV, environ) or 0)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        if min_size < 0 or max_size < 1 or timeout <= 0:
            raise StoreError(f"{settings.DB_POOL_MIN_ENV}={min_size}, {settings.DB_POOL_MAX_ENV}="
                             f"{max_size}, {settings.DB_TIMEOUT_ENV}={timeout:g}: expected a "
                             "minimum of 0 or more, a maximum of 1 or more, a timeout above 0")
        if min_size > max_size:
            raise StoreError(f"{settings.DB_POOL_MIN_ENV}={min_size} is more than "
                             f"{settings.DB_POOL_MAX_ENV}={max_size}; the pool's minimum cannot "
                             "exceed its maximum")
        return cls(min_size, max_size, timeout)


def open_pool(url: str, settings: PoolSettings) -> Any:
    """A pool of dict-row connections to `url`, opened without waiting for the server."""
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    return ConnectionPool(
        url, min_size=settings.min_size, max_size=settings.max_size,
        timeout=settings.timeout_s, open=True, name="rcm_map",
        check=ConnectionPool.check_connection,
        # A new connection gives up after the timeout too (libpq wants whole seconds).
        kwargs={"row_factory": dict_row, "application_name": "rcm_map",
                "connect_timeout": max(1, round(settings.timeout_s))},
    )


@contextmanager
def transaction(pool: Any) -> Iterator[Any]:
    """A pooled connection inside one transaction, committed when the block succeeds.

    Raises StoreUnavailable when no connection can be had within the timeout or
    the server goes away during the block; a broken connection is discarded by
    the pool, never lent again.
    """
    import psycopg
    from psycopg_pool import PoolTimeout

    try:
        with pool.connection() as conn, conn.transaction():
            yield conn
    except PoolTimeout:
        raise StoreUnavailable(UNAVAILABLE) from None
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"{UNAVAILABLE} ({_first_line(exc)})") from None


def connect_once(url: str, settings: PoolSettings) -> Any:
    """One autocommit connection (migrations); StoreUnavailable when the server is down."""
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True,
                               connect_timeout=max(1, round(settings.timeout_s)))
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"{UNAVAILABLE} ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
