"""The `rcm-map` command: validate, search, export and import registries.

Exit codes: 0 success, 1 the input has problems, 2 it cannot be read or the
command line is wrong. Errors are one line each; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from rcm_map.cli import store_commands
from rcm_map.core import schema
from rcm_map.core.geo import parse_lat_lon
from rcm_map.core.i18n import Translator
from rcm_map.core.schema import issue_lines
from rcm_map.formats import export
from rcm_map.registry.fastscan import validate_bytes
from rcm_map.registry.model import (
    MAX_FILE_BYTES,
    MAX_REGISTRY_BYTES,
    RegistryError,
    errors,
)
from rcm_map.registry.reading import read_file_bytes
from rcm_map.render import formatting
from rcm_map.render.placechoice import choice_label, post_note
from rcm_map.search.query import Query, SearchResult
from rcm_map.store import StoreError, database_url
from rcm_map.store.importing import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_UNREADABLE,
    import_registry,
    write_registry,
)
from rcm_map.store.reading import RegistryReader, open_reader

if TYPE_CHECKING:
    from rcm_map.search.gazetteer import Place

ENGLISH = Translator("en")  # the table is for operators; exports carry --lang


class UsageError(Exception):
    """A bad command-line value; the message names the option and the value."""


def _add_filters(parser: argparse.ArgumentParser) -> None:
    _add_source(parser)
    parser.add_argument("--service", action="append", default=[], metavar="CODE",
                        help="service type code (repeat for any of several)")
    parser.add_argument("--age", type=int, help="the child's age in whole years")
    parser.add_argument("--age-band", choices=list(schema.AGE_BANDS))
    parser.add_argument("--population", action="append", default=[], metavar="CODE")
    parser.add_argument("--language", action="append", default=[], metavar="CODE")
    parser.add_argument("--country", action="append", default=[], metavar="ISO3")
    parser.add_argument("--admin1", action="append", default=[], metavar="ISO3166-2")
    parser.add_argument("--text", default="", help="free text (accent-insensitive)")
    parser.add_argument("--verified-since", metavar="YYYY-MM-DD",
                        help="only services a focal point verified on or after this date "
                             "(verified_on; the date of a source article does not count)")
    parser.add_argument("--near", metavar="LAT,LON")
    parser.add_argument("--place", metavar="NAME", help="a place: name, everyday name, "
                        "'place, state' or 'place, country'; typos are corrected")
    parser.add_argument("--place-country", metavar="ISO3",
                        help="take --place only in this country (e.g. HND)")
    parser.add_argument("--radius-km", type=float)
    parser.add_argument("--limit", type=int)


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", type=Path, help="registry GeoJSON (default: "
                        "$RCM_MAP_REGISTRY or data/actors.geojson); not with a database")
    parser.add_argument("--database-url", help="PostgreSQL URL (default "
                        "$RCM_MAP_DATABASE_URL); when set, the database is the registry")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rcm-map", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a registry file, or the live registry "
                       "(database or registry file) when no file is given; one line per problem")
    p.add_argument("path", type=Path, nargs="?")
    p.add_argument("--large-file", action="store_true", help="accept a local file up to "
                   f"{MAX_REGISTRY_BYTES // 1024**3} GB (a whole registry) instead of the "
                   f"{MAX_FILE_BYTES // 1024**2} MB limit of uploads and imports")
    _add_source(p)

    p = sub.add_parser("search", help="find services near a point or place")
    _add_filters(p)
    p.add_argument("--format", choices=["table", "csv", "geojson"], default="table")

    p = sub.add_parser("export",
                       help="export (filtered) services: CSV, GeoJSON, HSDS, HXL, Excel")
    _add_filters(p)
    p.add_argument("--format", choices=["csv", "geojson", "hsds", "hxl", "xlsx"], required=True)
    p.add_argument("--out", type=Path, required=True,
                   help="file; for hsds a folder, or a .zip file")
    p.add_argument("--lang", choices=list(schema.LANGUAGES_UI), default="es",
                   help="language of the xlsx workbook's headers and values (default es)")

    p = sub.add_parser("import", help="import a file into a registry GeoJSON, with a report")
    p.add_argument("source", type=Path, help="CSV (source list or our export), HSDS "
                   "package folder/ZIP/JSON, or HXL CSV")
    p.add_argument("--format", choices=["csv", "hsds", "hxl"], default="csv")
    p.add_argument("--out", type=Path, help="registry file to (re)write")
    p.add_argument("--registry", type=Path, help="with --country: registry GeoJSON of the "
                   "file store (default: $RCM_MAP_REGISTRY or data/actors.geojson)")
    store_commands.add_import_options(p)
    store_commands.add_commands(sub)
    return parser


def _query_from_args(args: argparse.Namespace, source: RegistryReader) -> Query:
    near = None
    if args.near and args.place:
        raise UsageError("use either --near or --place, not both")
    if args.near:
        try:
            near = parse_lat_lon(args.near)
        except ValueError as exc:
            raise UsageError(f"--near: {exc}") from None
    elif args.place:
        near = _resolve_place(args.place, args.place_country, source)
    if args.place_country and not args.place:
        raise UsageError("--place-country narrows --place; give --place too")
    since = None
    if args.verified_since:
        try:
            since = dt.date.fromisoformat(args.verified_since)
        except ValueError:
            raise UsageError(f"--verified-since: expected YYYY-MM-DD, instead got: "
                             f"{args.verified_since!r}") from None
    query = Query(
        service_types=tuple(args.service), age=args.age, age_band=args.age_band,
        populations=tuple(args.population), languages=tuple(args.language),
        countries=tuple(c.upper() for c in args.country), admin1=tuple(args.admin1),
        text=args.text, verified_since=since, near=near, radius_km=args.radius_km,
        limit=args.limit,
    )
    problems = query.problems()
    if problems:
        raise UsageError("; ".join(problems))
    return query


def _resolve_place(name: str, country: str | None,
                   source: RegistryReader) -> tuple[float, float]:
    """Coordinates of the place taken for `name`; says on stderr which, and the runner-up.
    The ranking counts the services of `source` (the live registry) near each namesake."""
    from rcm_map.search.place_text import COUNTRY_NAMES
    from rcm_map.search.placefinder import finder_of

    only = None
    if country:
        if country.upper() not in COUNTRY_NAMES:
            raise UsageError(f"--place-country: expected one of {', '.join(COUNTRY_NAMES)}, "
                             f"instead got: {country!r}")
        only = [country.upper()]
    found = finder_of(source).find(name, countries=only)
    chosen = found.chosen
    if chosen is None:
        where = f" in {only[0]}" if only else ""
        raise UsageError(f"--place: no place matches {name!r}{where} in the gazetteer")
    if found.suggestion:
        print(f"place: did you mean {found.suggestion!r}?", file=sys.stderr)
    print(f"place: {_place_line(chosen.place)}", file=sys.stderr)
    note = post_note(chosen.place, ENGLISH)  # a post: its exact point is not known
    if note:
        print(f"  {note}", file=sys.stderr)
    if found.runner_up is not None:
        print(f"  runner-up: {_place_line(found.runner_up.place)} "
              "(use 'place, state' or --place-country to choose it)", file=sys.stderr)
    return (chosen.place.lat, chosen.place.lon)


def _place_line(place: Place) -> str:
    return f"{choice_label(place, ENGLISH, place.country)} ({place.lat:.5f}, {place.lon:.5f})"


def _reader(args: argparse.Namespace) -> RegistryReader:
    """The live registry: the database when a URL is configured (never the file then)."""
    url = args.database_url or database_url()
    if url and args.registry:
        raise UsageError("--registry names a file, but a database is configured "
                         "($RCM_MAP_DATABASE_URL or --database-url) and is then the only "
                         "registry; drop --registry, or unset the database URL")
    return open_reader(url or None, registry=args.registry)


def _search(args: argparse.Namespace) -> SearchResult:
    source = _reader(args)
    try:
        return source.search(_query_from_args(args, source))
    finally:
        source.close()


def _table(result: SearchResult) -> str:
    lines = []
    for _, row in result.located.iterrows():
        dist = formatting.distance_text(row, ENGLISH)
        ages = formatting.age_text(row["age_min"], row["age_max"], ENGLISH)
        phone = "; ".join(row["phones"])
        lines.append(f"{dist:>10}  {row['name']}  [{', '.join(row['service_types'])}]  "
                     f"{ages}  {row['city']}, {row['country']}  {phone}".rstrip())
    if len(result.countrywide):
        lines.append("country-wide:")
        for _, row in result.countrywide.iterrows():
            lines.append(f"{'':>10}  {row['name']}  [{', '.join(row['service_types'])}]  "
                         f"{row['country']}")
    lines.append(f"{len(result.located)} services"
                 + (f" (+{len(result.countrywide)} country-wide)" if len(result.countrywide)
                    else ""))
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    if args.path is None:
        return _validate_live(args)
    if args.registry or args.database_url:
        raise UsageError("give a FILE to check, or --registry/--database-url to check the "
                         "live registry, not both")
    limit = MAX_REGISTRY_BYTES if args.large_file else MAX_FILE_BYTES
    try:
        # the fast reader (msgspec, vectorised checks): same issues as validate_collection
        issues, count = validate_bytes(read_file_bytes(args.path, limit), str(args.path))
    except RegistryError as exc:
        print("\n".join(issue_lines(exc.issues)))
        print(f"{args.path}: cannot be read")
        return EXIT_UNREADABLE
    if issues:
        print("\n".join(issue_lines(issues)))
    n_errors = len(errors(issues))
    print(f"{args.path}: {count} features, {n_errors} errors, "
          f"{len(issues) - n_errors} warnings")
    return EXIT_PROBLEMS if n_errors else EXIT_OK


def _validate_live(args: argparse.Namespace) -> int:
    """`rcm-map validate` without a file: the registry in use, database or file."""
    source = _reader(args)
    try:
        found = source.validate()
    finally:
        source.close()
    for issue in found.issues:
        print(issue)
    n_errors = len(errors(found.issues))
    print(f"{found.source}: {found.count} features, {n_errors} errors, "
          f"{len(found.issues) - n_errors} warnings")
    return EXIT_PROBLEMS if n_errors else EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    result = _search(args)
    out = sys.stdout.buffer
    if args.format == "geojson":
        out.write(export.to_geojson_bytes(result.located))
    elif args.format == "csv":
        out.write(export.to_csv_bytes(result.located))
    else:
        out.write((_table(result) + "\n").encode("utf-8"))
    out.flush()
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    result = _search(args)
    frame = pd.concat([result.located, result.countrywide], ignore_index=True)
    if args.format in ("hsds", "hxl"):
        from rcm_map.formats.interop import cli_export

        print(cli_export(args.format, frame, args.out), file=sys.stderr)
        return EXIT_OK
    if args.format == "xlsx":
        from rcm_map.formats.workbook import to_xlsx_bytes

        data = to_xlsx_bytes(frame, args.lang)
    else:
        data = (export.to_csv_bytes(frame) if args.format == "csv"
                else export.to_geojson_bytes(frame))
    export.atomic_write_bytes(args.out, data)
    print(f"wrote {len(frame)} services to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Replace the registry only when every row imports and the result validates.

    A rejected import leaves the current registry byte-for-byte as it was;
    an accepted one keeps a timestamped backup of the old file first.
    """
    if args.country:
        return store_commands.cmd_import_country(args)
    if args.out is None:
        raise UsageError("give --out REGISTRY, or --country ISO3 to update the store")
    imported = import_registry(args.format, args.source, args.out)
    if imported.report:
        print(imported.report)
    if imported.refusal:
        print(imported.refusal)
        return imported.code
    print(write_registry(args.out, imported.features))
    return EXIT_OK


COMMANDS = {"validate": cmd_validate, "search": cmd_search, "export": cmd_export,
            "import": cmd_import, **store_commands.COMMANDS}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"rcm-map {args.command}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except RegistryError as exc:
        print("\n".join(issue_lines(exc.issues)), file=sys.stderr)
        return EXIT_UNREADABLE
    except StoreError as exc:  # e.g. the database is unreachable
        print(f"rcm-map {args.command}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as exc:
        print(f"rcm-map {args.command}: {exc.filename or ''}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_UNREADABLE
    except Exception as exc:  # noqa: BLE001 - last line of defence: users never see a traceback
        print(f"rcm-map {args.command}: internal error ({type(exc).__name__}: {exc}); "
              "please report it", file=sys.stderr)
        return EXIT_UNREADABLE


if __name__ == "__main__":
    sys.exit(main())
