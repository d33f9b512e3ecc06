"""Store commands of `rcm-map`: country updates, history, restore, reports, database.

Belongs here: argparse options and subcommands, and turning what
`rcm_map.store.importing` and the store return into printed lines and exit codes.
The import logic itself (reading, checking, previewing, applying) is in
`store.importing`, shared with the Focal points page.

In `rcm_map/cli/main.py`: ``store_commands.add_import_options(p)`` on the import
parser, ``store_commands.add_commands(sub)``, ``COMMANDS.update(store_commands.COMMANDS)``
and, in `cmd_import`, ``store_commands.cmd_import_country(args)`` when ``--country``.

Every command prints one line per problem and returns 0 (done), 1 (the input has
problems or a conflict) or 2 (cannot read / bad usage), like the rest of `rcm-map`.

May import every layer below `cli`; never `rcm_map.ui`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from rcm_map.core import schema, settings
from rcm_map.core.settings import DATABASE_URL_ENV, USER_ENV
from rcm_map.registry.model import RegistryError
from rcm_map.store import open_store
from rcm_map.store.base import ConflictError, NotFoundError, Store, StoreError, UpdateRejected
from rcm_map.store.importing import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_UNREADABLE,
    Unreadable,
    apply_country_update,
    diff_lines,
    history_lines,
    prepare_country_update,
    seed_store,
)


def import_country(store: Store, path: Path, country: str, user: str, *, apply: bool,
                   out: TextIO | None = None) -> int:
    """Preview (and with `apply`, apply) a country update from a CSV or GeoJSON file."""
    out = out or sys.stdout
    try:
        update = prepare_country_update(store, country, path)
    except Unreadable as exc:
        print(exc, file=out)
        return EXIT_UNREADABLE
    if update.diff is None:
        print("\n".join(schema.issue_lines(update.problems)), file=out)
        print(f"{path}: not applied ({len(update.problems)} errors)", file=out)
        return EXIT_PROBLEMS
    for line in diff_lines(update.diff):
        print(line, file=out)
    if not apply:
        print("preview only: run again with --apply to make these changes", file=out)
        return EXIT_OK
    if update.diff.is_empty:
        print("nothing to change", file=out)
        return EXIT_OK
    change_id = apply_country_update(store, update, user)
    print(f"applied as change {change_id} (undo with: rcm-map restore {change_id})", file=out)
    return EXIT_OK


def seed_from_file(store: Store, path: Path, user: str, out: TextIO | None = None) -> int:
    """Load a whole registry GeoJSON into a store, one change per country."""
    out = out or sys.stdout
    lines, issues = seed_store(store, path, user)
    for line in [*map(str, issues), *lines]:
        print(line, file=out)
    return EXIT_PROBLEMS if issues else EXIT_OK


def _user(args: argparse.Namespace) -> str:
    return args.user or settings.text(USER_ENV) or f"cli:{getpass.getuser()}"


def _store(args: argparse.Namespace) -> Store:
    registry = getattr(args, "registry", None)
    return open_store(getattr(args, "database_url", None), registry=registry)


def add_import_options(parser: argparse.ArgumentParser) -> None:
    """Options turning `rcm-map import` into a reviewed country update of the store."""
    parser.add_argument("--country", metavar="ISO3", help="update this country's services in "
                        "the store (registry file or $RCM_MAP_DATABASE_URL) instead of "
                        "writing --out")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true", help="show the changes (default)")
    mode.add_argument("--apply", action="store_true", help="apply the changes in one step")
    parser.add_argument("--user", help=f"name recorded in the history (default ${USER_ENV})")
    parser.add_argument("--database-url", help="PostgreSQL URL (default $RCM_MAP_DATABASE_URL)")


def cmd_import_country(args: argparse.Namespace) -> int:
    """`rcm-map import FILE --country XXX [--apply]`."""
    country = str(args.country).upper()
    if country not in schema.COUNTRIES:
        print(f"rcm-map import: --country: unknown code {args.country!r}; expected one of: "
              + ", ".join(schema.COUNTRIES), file=sys.stderr)
        return EXIT_UNREADABLE
    return _guarded(lambda: import_country(_store(args), Path(args.source), country,
                                           _user(args), apply=bool(args.apply)))


def _guarded(action: Callable[[], int]) -> int:
    """Run a command turning store errors into one line and an exit code."""
    try:
        return action()
    except ConflictError as exc:
        print(exc, file=sys.stderr)
        return EXIT_PROBLEMS
    except (NotFoundError, UpdateRejected) as exc:
        print(exc, file=sys.stderr)
        return EXIT_PROBLEMS
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return EXIT_UNREADABLE


def cmd_history(args: argparse.Namespace) -> int:
    """`rcm-map history [--country XXX] [--service ID] [--limit N]`."""
    def run() -> int:
        for line in history_lines(_store(args), country=args.country, service_id=args.service,
                                  limit=args.limit):
            print(line)
        return EXIT_OK
    return _guarded(run)


def cmd_restore(args: argparse.Namespace) -> int:
    """`rcm-map restore CHANGE_ID` or `rcm-map restore --service ID --version N`."""
    def run() -> int:
        store = _store(args)
        if args.service:
            if args.version is None:
                print("rcm-map restore: --service needs --version", file=sys.stderr)
                return EXIT_UNREADABLE
            change_id = store.restore_version(args.service, args.version, _user(args))
        elif args.change_id is not None:
            change_id = store.restore(args.change_id, _user(args))
        else:
            print("rcm-map restore: give a CHANGE_ID or --service ID --version N",
                  file=sys.stderr)
            return EXIT_UNREADABLE
        print(f"restored as change {change_id}")
        return EXIT_OK
    return _guarded(run)


def cmd_reports(args: argparse.Namespace) -> int:
    """`rcm-map reports [--country XXX]`: open problem reports."""
    def run() -> int:
        for r in _store(args).open_reports(args.country):
            print(f"#{r.report_id} {r.created_at} {r.country} {r.service_id} {r.kind}: "
                  f"{r.comment}")
        return EXIT_OK
    return _guarded(run)


def cmd_db_migrate(args: argparse.Namespace) -> int:
    """`rcm-map db-migrate`: apply pending PostGIS migrations."""
    url = args.database_url or settings.text(DATABASE_URL_ENV)
    if not url:
        print("rcm-map db-migrate: set RCM_MAP_DATABASE_URL or pass --database-url",
              file=sys.stderr)
        return EXIT_UNREADABLE
    import psycopg

    from rcm_map.store.migrate import migrate

    with psycopg.connect(url, autocommit=True) as conn:
        done = migrate(conn)
    print(f"applied migrations: {', '.join(map(str, done))}" if done else "schema up to date")
    return EXIT_OK


def cmd_db_seed(args: argparse.Namespace) -> int:
    """`rcm-map db-seed REGISTRY.geojson [--bulk]`: load a registry file into the store."""
    if args.bulk:
        return _guarded(lambda: bulk_seed_from_file(_store(args), Path(args.source),
                                                    _user(args)))
    return _guarded(lambda: seed_from_file(_store(args), Path(args.source), _user(args)))


def bulk_seed_from_file(store: Store, path: Path, user: str, out: TextIO | None = None) -> int:
    """Validate a whole registry file (up to the server's 2 GB) and COPY it into an empty
    PostGIS database in one transaction (`rcm_map.store.pgbulk`)."""
    from rcm_map.registry.model import (
        MAX_REGISTRY_BYTES,
        frame_from_features,
        read_registry_features,
    )
    from rcm_map.store.pgbulk import bulk_seed_frame
    from rcm_map.store.postgis import PostGISStore

    out = out or sys.stdout
    if not isinstance(store, PostGISStore):
        print("rcm-map db-seed --bulk: needs a database (RCM_MAP_DATABASE_URL or "
              "--database-url)", file=out)
        return EXIT_UNREADABLE
    try:
        features = read_registry_features(path, max_bytes=MAX_REGISTRY_BYTES)
    except RegistryError as exc:
        for issue in exc.issues:
            print(issue, file=out)
        print(f"{path}: not seeded", file=out)
        return EXIT_PROBLEMS
    change_id = bulk_seed_frame(store, frame_from_features(features), user)
    print(f"change {change_id}: seeded {len(features):,} services from {path.name} by COPY",
          file=out)
    return EXIT_OK


def cmd_hash_password(args: argparse.Namespace) -> int:
    """`rcm-map hash-password`: print a hash for secrets.toml (asks twice, no echo)."""
    from rcm_map.store.auth import hash_password

    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        print("rcm-map hash-password: the two passwords differ", file=sys.stderr)
        return EXIT_UNREADABLE
    if len(first) < 12:
        print("rcm-map hash-password: use at least 12 characters", file=sys.stderr)
        return EXIT_UNREADABLE
    print(hash_password(first))
    return EXIT_OK


def add_commands(sub: Any) -> None:
    """Add history, restore, reports, db-migrate, db-seed and hash-password subcommands."""
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--registry", type=Path, help="registry GeoJSON of the file store")
        p.add_argument("--database-url", help="PostgreSQL URL (default $RCM_MAP_DATABASE_URL)")
        p.add_argument("--user", help=f"name recorded in the history (default ${USER_ENV})")

    p = sub.add_parser("history", help="changes to the registry, newest first")
    common(p)
    p.add_argument("--country", metavar="ISO3")
    p.add_argument("--service", metavar="ID")
    p.add_argument("--limit", type=int, default=20)
    p = sub.add_parser("restore", help="undo a change, or bring back a service version")
    common(p)
    p.add_argument("change_id", type=int, nargs="?")
    p.add_argument("--service", metavar="ID")
    p.add_argument("--version", type=int)
    p = sub.add_parser("reports", help="open problem reports")
    common(p)
    p.add_argument("--country", metavar="ISO3")
    p = sub.add_parser("db-migrate", help="apply pending PostGIS schema migrations")
    p.add_argument("--database-url")
    p = sub.add_parser("db-seed", help="load a registry GeoJSON into the store")
    common(p)
    p.add_argument("source", type=Path)
    p.add_argument("--bulk", action="store_true", help="an empty database, a large file: "
                   "one COPY, one baseline change (no per-service history)")
    sub.add_parser("hash-password", help="hash a focal point's password for secrets.toml")


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "history": cmd_history, "restore": cmd_restore, "reports": cmd_reports,
    "db-migrate": cmd_db_migrate, "db-seed": cmd_db_seed, "hash-password": cmd_hash_password,
}
