"""A tiny versioned migration runner for the PostGIS store.

Migrations are `rcm_map/store/migrations/NNNN_name.sql`, applied in order with their
rows in `schema_migrations`, all pending ones in one transaction (PostgreSQL DDL is
transactional: a failing migration leaves the schema as it was). An advisory lock
makes concurrent runners (several app replicas starting at once) wait for each
other instead of applying a migration twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any fixed 64-bit number; it only has to differ from other advisory locks in use.
MIGRATION_LOCK_KEY = 7_220_318_450_112


@dataclass(frozen=True)
class Migration:
    """One schema change: its version number, name and SQL text."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every bundled migration, in version order; raise ValueError on a misnamed file."""
    found = []
    for entry in resources.files("rcm_map.store").joinpath("migrations").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _NAME.match(entry.name)
        if match is None:
            raise ValueError(f"migration file {entry.name!r}: expected a name like "
                             "'0002_add_column.sql'")
        found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two migration files share a version number: {versions}")
    return found


def applied_versions(conn: Any) -> set[int]:
    """Versions already applied in the database of `conn` (a psycopg connection)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return set()
        cur.execute("SELECT version FROM schema_migrations")
        return {int(r[0]) for r in cur.fetchall()}


def migrate(conn: Any) -> list[int]:
    """Apply pending migrations; return the versions applied now (empty when up to date).

    Parameters
    ----------
    conn : psycopg.Connection
        A connection not inside a transaction; the migrations commit together.
    """
    done: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version integer PRIMARY KEY, name text NOT NULL, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        already = applied_versions(conn)
        for migration in migrations():
            if migration.version in already:
                continue
            with conn.transaction():  # a savepoint: a failing migration names itself
                try:
                    conn.execute(migration.sql)
                except Exception as exc:
                    raise RuntimeError(f"migration {migration.version:04d}_{migration.name}"
                                       f".sql failed: {exc}") from exc
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                             (migration.version, migration.name))
            done.append(migration.version)
    return done
