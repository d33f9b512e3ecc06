"""Store commands for `rcm-map`, as functions the CLI wires in.

In `rcm_map/cli/main.py`::

    from rcm_map.store import cli_support
    ...
    p = sub.add_parser("import", ...)        # the existing CSV -> GeoJSON command
    cli_support.add_import_options(p)         # --country, --preview/--apply, --user
    cli_support.add_commands(sub)             # history, restore, reports, db-*, hash-password
    ...
    COMMANDS.update(cli_support.COMMANDS)
    # in cmd_import: if args.country: return cli_support.cmd_import_country(args)

Every command prints one line per problem and returns 0 (done), 1 (the input has
problems or a conflict) or 2 (cannot read / bad usage), like the rest of `rcm-map`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from rcm_map.core import schema, settings
from rcm_map.core.schema import Issue
from rcm_map.core.settings import DATABASE_URL_ENV, USER_ENV
from rcm_map.registry.model import MAX_FILE_BYTES, RegistryError, parse_json_bytes
from rcm_map.store import open_store
from rcm_map.store.base import (
    ConflictError,
    Diff,
    Feature,
    NotFoundError,
    Store,
    StoreError,
    UpdateRejected,
)

EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE = 0, 1, 2


def count_records(name: str, data: bytes) -> int:
    """An upper bound of the services in an upload, counted without parsing it.

    CSV: the lines after the header (a quoted cell over several lines counts more
    than once, which only errs on the safe side). GeoJSON: the ``"Feature"``
    tokens (an escaped quote inside a text cannot produce one).
    """
    if Path(name).suffix.lower() == ".csv":
        lines = max(data.count(b"\n"), data.count(b"\r"))
        if data and not data.endswith((b"\n", b"\r")):
            lines += 1
        return max(lines - 1, 0)
    return data.count(b'"Feature"')


def read_update(name: str, data: bytes, max_bytes: int = MAX_FILE_BYTES,
                max_features: int | None = None) -> tuple[list[Feature], list[Issue]]:
    """Features of an uploaded CSV or GeoJSON, and the issues that block using them.

    Parameters
    ----------
    name : str
        The file name (its extension picks the format: .csv, .geojson or .json).
    data : bytes
        The file content.
    max_bytes : int
        Larger files are refused before parsing.
    max_features : int, optional
        Files holding more services (rows or features, counted by
        `count_records` before parsing) are refused; None for no limit.

    Returns
    -------
    features, issues
        When `issues` holds any error the update must not be applied: a CSV row
        that failed to import would otherwise read as a service to remove.
    """
    if len(data) > max_bytes:
        return [], [Issue(f"file is {len(data):,} bytes, more than the limit of "
                          f"{max_bytes:,}", name)]
    if max_features is not None:
        count = count_records(name, data)
        if count > max_features:
            unit = "rows" if Path(name).suffix.lower() == ".csv" else "features"
            return [], [Issue(f"file holds up to {count:,} {unit}, more than the limit of "
                              f"{max_features:,} for one country update; split the file or "
                              "ask the network to raise the limit", name)]
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        features, issues = _read_csv(name, data)
    elif suffix not in (".geojson", ".json"):
        return [], [Issue("expected a .csv, .geojson or .json file", name, field="name",
                          value=name)]
    else:
        try:
            obj = parse_json_bytes(data, name)
        except RegistryError as exc:
            return [], exc.issues
        if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection" or (
                not isinstance(obj.get("features"), list)):
            return [], [Issue("not a GeoJSON FeatureCollection with a 'features' list", name)]
        features, issues = obj["features"], []
    # Counted again on what was parsed: the raw-text count misses escapes such as
    # "Featur\u0065" (issue 12: 60,000 features passed a 50,000 limit).
    if max_features is not None and len(features) > max_features:
        return [], [Issue(f"file holds {len(features):,} services, more than the limit of "
                          f"{max_features:,} for one country update; split the file or "
                          "ask the network to raise the limit", name)]
    return features, issues


def _read_csv(name: str, data: bytes) -> tuple[list[Feature], list[Issue]]:
    from rcm_map.formats.importer import import_sources_csv

    with tempfile.TemporaryDirectory(prefix="rcm-upload-") as folder:
        path = Path(folder) / "upload.csv"
        path.write_bytes(data)
        result = import_sources_csv(path)
    issues = [_renamed(i, name) for i in result.issues]
    return result.features, [i for i in issues if i.severity == "error"] + [
        i for i in issues if i.severity != "error"]


def _renamed(issue: Issue, name: str) -> Issue:
    """The issue with the temporary path replaced by the uploaded file's name."""
    return Issue(issue.message, name, issue.index, issue.feature_id, issue.field, issue.value,
                 issue.severity, issue.row_label)


def diff_lines(diff: Diff, limit: int = 200) -> list[str]:
    """A readable preview: the summary, then one line per service change."""
    lines = [diff.summary()]
    for change in diff.changes[:limit]:
        if change.action == "changed":
            fields = ", ".join(f.field for f in change.fields)
            lines.append(f"  ~ {change.service_id}: {fields}")
        else:
            sign = "+" if change.action == "added" else "-"
            feature = change.after or change.before or {}
            lines.append(f"  {sign} {change.service_id}: "
                         f"{feature.get('properties', {}).get('name', '')}")
    if len(diff.changes) > limit:
        lines.append(f"  ... and {len(diff.changes) - limit} more")
    lines += [f"  {w}" for w in diff.warnings[:50]]
    return lines


def import_country(store: Store, path: Path, country: str, user: str, *, apply: bool,
                   out: TextIO | None = None) -> int:
    """Preview (and with `apply`, apply) a country update from a CSV or GeoJSON file."""
    out = out or sys.stdout
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"{path}: cannot read file: {exc.strerror or exc}", file=out)
        return EXIT_UNREADABLE
    features, issues = read_update(path.name, data)
    blocking = [i for i in issues if i.severity == "error"]
    if blocking:
        print("\n".join(schema.issue_lines(blocking)), file=out)
    if blocking or not features and issues:
        print(f"{path}: not applied ({len(blocking)} errors)", file=out)
        return EXIT_PROBLEMS
    try:
        diff = store.preview_update(country, features, file=path.name)
    except UpdateRejected as exc:
        print("\n".join(schema.issue_lines(exc.issues)), file=out)
        print(f"{path}: not applied ({len(exc.issues)} errors)", file=out)
        return EXIT_PROBLEMS
    for line in diff_lines(diff):
        print(line, file=out)
    if not apply:
        print("preview only: run again with --apply to make these changes", file=out)
        return EXIT_OK
    if diff.is_empty:
        print("nothing to change", file=out)
        return EXIT_OK
    change_id = store.apply_update(diff, user, note=f"from {path.name}")
    print(f"applied as change {change_id} (undo with: rcm-map restore {change_id})", file=out)
    return EXIT_OK


def history_lines(store: Store, *, country: str | None = None, service_id: str | None = None,
                  limit: int = 20) -> list[str]:
    """One line per change, newest first, with its services indented."""
    lines = []
    for record in store.history(country=country, service_id=service_id, limit=limit):
        restored = f" (restores #{record.restored_from})" if record.restored_from else ""
        lines.append(f"#{record.change_id} {record.at} {record.user} {record.action} "
                     f"{record.country}: {record.summary}{restored}")
        for s in record.services[:20]:
            lines.append(f"    {s.action} {s.service_id} v{s.version_before or '-'} -> "
                         f"v{s.version_after or '-'}")
        if len(record.services) > 20:
            lines.append(f"    ... and {len(record.services) - 20} more")
    return lines


def seed_from_file(store: Store, path: Path, user: str, out: TextIO | None = None) -> int:
    """Load a whole registry GeoJSON into a store, one change per country."""
    out = out or sys.stdout
    features, issues = read_update(path.name, path.read_bytes())
    if issues:
        for issue in issues:
            print(issue, file=out)
        return EXIT_PROBLEMS
    for country in sorted({str(f["properties"].get("country")) for f in features}):
        mine = [f for f in features if f["properties"].get("country") == country]
        diff = store.preview_update(country, mine, file=path.name)
        change_id = store.apply_update(diff, user, note=f"seeded from {path.name}")
        print(f"change {change_id}: {diff.summary()}", file=out)
    return EXIT_OK


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
    from rcm_map.registry.model import MAX_REGISTRY_BYTES, read_registry_features
    from rcm_map.store.pgbulk import bulk_seed, service_rows
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
    change_id = bulk_seed(store, service_rows(features, user), user)
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
