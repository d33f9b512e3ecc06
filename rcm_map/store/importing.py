"""One import pipeline for the command line and the Focal points page.

Belongs here: reading an update (a path, bytes or a binary file object; no
temporary file) into features and the issues that block it, previewing it as a
country update of a store, applying it, and replacing a registry file with a
backup. Both `rcm-map import` (`rcm_map.cli`) and the Focal points page
(`rcm_map.ui.admin`) call these functions, so a file is accepted or refused the
same way wherever it comes in. Also the one copy of the exit codes.

No printing and no widgets: callers show `CountryUpdate.problems`, the diff and
the lines of `diff_lines` / `history_lines` their own way. Lines that a person
reads take a `Translator` (English by default, for the command line).

May import `core`, `registry`, `formats` and `store.base`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from rcm_map.core.files import read_regular_file, replace_with_backup
from rcm_map.core.i18n import Translator
from rcm_map.core.schema import Issue
from rcm_map.registry.model import MAX_FILE_BYTES, RegistryError, parse_json_bytes
from rcm_map.store.base import Diff, Feature, Store, UpdateRejected

EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE = 0, 1, 2
"""Exit codes of every `rcm-map` command: done; the input has problems or a conflict;
cannot read / bad usage."""

Source = str | os.PathLike[str] | bytes | BinaryIO
"""A file to import: its path, its bytes, or an open binary file (an upload)."""

ENGLISH = Translator("en")


class Unreadable(Exception):
    """The file could not be read at all (missing, a device, not permitted)."""


class TooLarge(ValueError):
    """The file is larger than the limit (it was not read)."""


def source_name(source: Source, name: str | None = None) -> str:
    """The name messages use: `name`, else the path or the file object's name."""
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return str(getattr(source, "name", "") or "upload")


def read_source(source: Source, name: str, max_bytes: int) -> bytes:
    """The bytes of a source, at most `max_bytes + 1` of them (so "too large" shows).

    Raises Unreadable when a path cannot be read, TooLarge when it is over the
    limit (`read_regular_file` never reads it).
    """
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, os.PathLike)):
        try:
            return read_regular_file(Path(source), max_bytes)
        except OSError as exc:
            raise Unreadable(f"{name}: cannot read file: {exc.strerror or exc}") from None
        except ValueError as exc:  # larger than the limit
            raise TooLarge(str(exc)) from None
    if source.seekable():  # an upload read on an earlier run of the page
        source.seek(0)
    return source.read(max_bytes + 1)


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


def _too_many(name: str, what: str, limit: int) -> list[Issue]:
    return [Issue(f"file holds {what}, more than the limit of {limit:,} for one country "
                  "update; split the file or ask the network to raise the limit", name)]


def read_update(source: Source, *, name: str | None = None, max_bytes: int = MAX_FILE_BYTES,
                max_features: int | None = None) -> tuple[list[Feature], list[Issue]]:
    """Features of a CSV or GeoJSON update, and the issues that block using them.

    Parameters
    ----------
    source : path, bytes or binary file
        The file. Bytes and file objects need `name` (or a ``.name``) for the format.
    name : str, optional
        The file name shown in messages; its extension picks the format (.csv,
        .geojson or .json).
    max_bytes : int
        Larger files are refused before parsing.
    max_features : int, optional
        Files holding more services (rows or features, counted by
        `count_records` before parsing, then again after) are refused.

    Returns
    -------
    features, issues
        When `issues` holds any error the update must not be applied: a CSV row
        that failed to import would otherwise read as a service to remove.
        Raises Unreadable when a path cannot be read.
    """
    name = source_name(source, name)
    try:
        data = read_source(source, name, max_bytes)
    except TooLarge as exc:
        return [], [Issue(str(exc), name)]
    if len(data) > max_bytes:  # bytes given whole, or a file object read to the limit + 1
        size = f"{len(data):,} bytes, more" if isinstance(source, bytes) else "more"
        return [], [Issue(f"file is {size} than the limit of {max_bytes:,} bytes", name)]
    suffix = Path(name).suffix.lower()
    if max_features is not None:
        count = count_records(name, data)
        if count > max_features:
            unit = "rows" if suffix == ".csv" else "features"
            return [], _too_many(name, f"up to {count:,} {unit}", max_features)
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
        return [], _too_many(name, f"{len(features):,} services", max_features)
    return features, issues


def _read_csv(name: str, data: bytes) -> tuple[list[Feature], list[Issue]]:
    from rcm_map.formats.importer import import_sources_csv

    result = import_sources_csv(data, name=name)
    return result.features, result.errors + result.warnings


# --- a country update of a store ----------------------------------------------------


@dataclass(frozen=True)
class CountryUpdate:
    """A country update read and previewed: `diff` is None exactly when `problems` (the
    issues that block it) is not empty."""

    name: str
    problems: list[Issue] = field(default_factory=list)
    diff: Diff | None = None


def prepare_country_update(store: Store, country: str, source: Source, *,
                           name: str | None = None, max_bytes: int = MAX_FILE_BYTES,
                           max_features: int | None = None) -> CountryUpdate:
    """Read an update and preview it against the store (nothing is written).

    Raises Unreadable when a path cannot be read.
    """
    name = source_name(source, name)
    features, issues = read_update(source, name=name, max_bytes=max_bytes,
                                   max_features=max_features)
    blocking = [i for i in issues if i.severity == "error"]
    if blocking or (not features and issues):
        return CountryUpdate(Path(name).name, blocking or issues)
    try:
        diff = store.preview_update(country, features, file=Path(name).name)
    except UpdateRejected as exc:
        return CountryUpdate(Path(name).name, exc.issues)
    return CountryUpdate(Path(name).name, [], diff)


def apply_country_update(store: Store, update: CountryUpdate, user: str) -> int:
    """Apply a previewed update as one change (ConflictError if the country moved)."""
    if update.diff is None or update.problems:
        raise ValueError("apply_country_update: the update has problems; show them instead")
    return store.apply_update(update.diff, user, note=f"from {update.name}")


def seed_store(store: Store, path: Path, user: str) -> tuple[list[str], list[Issue]]:
    """Load a whole registry GeoJSON into a store, one change per country.

    Returns one line per change made, or (nothing written) the issues of the file.
    """
    features, issues = read_update(path)
    if issues:
        return [], issues
    lines = []
    for country in sorted({str(f["properties"].get("country")) for f in features}):
        mine = [f for f in features if f["properties"].get("country") == country]
        diff = store.preview_update(country, mine, file=path.name)
        change_id = store.apply_update(diff, user, note=f"seeded from {path.name}")
        lines.append(f"change {change_id}: {diff.summary()}")
    return lines, []


def diff_lines(diff: Diff, tr: Translator = ENGLISH, limit: int = 200) -> list[str]:
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
        lines.append("  " + tr.t("import.more", n=len(diff.changes) - limit))
    lines += [f"  {w}" for w in diff.warnings[:50]]
    return lines


def history_lines(store: Store, tr: Translator = ENGLISH, *, country: str | None = None,
                  service_id: str | None = None, limit: int = 20) -> list[str]:
    """One line per change, newest first, with its services indented."""
    lines = []
    for record in store.history(country=country, service_id=service_id, limit=limit):
        restored = (" " + tr.t("import.restores", id=record.restored_from)
                    if record.restored_from else "")
        lines.append(f"#{record.change_id} {record.at} {record.user} "
                     f"{tr.t('import.action_' + record.action)} "
                     f"{record.country}: {record.summary}{restored}")
        for s in record.services[:20]:
            lines.append(f"    {tr.t('import.service_' + s.action)} {s.service_id} "
                         f"v{s.version_before or '-'} -> v{s.version_after or '-'}")
        if len(record.services) > 20:
            lines.append("    " + tr.t("import.more", n=len(record.services) - 20))
    return lines


# --- a registry file ----------------------------------------------------------------


@dataclass(frozen=True)
class RegistryImport:
    """A whole registry read from a CSV, HSDS or HXL file, checked, not yet written.

    `report` is what to print first; `refusal`, when not empty, why the registry file
    must stay as it is (then `code` is the exit code).
    """

    features: list[Feature]
    report: str
    refusal: str = ""
    code: int = EXIT_OK


def import_registry(fmt: str, source: str | Path, out: str | Path) -> RegistryImport:
    """Read `source` as `fmt` ("csv", "hsds" or "hxl") into a registry for `out`.

    All or nothing: any error, rejected row or invalid service refuses the whole file.
    """
    from rcm_map.registry.model import errors, validate_collection

    def invalid(features: list[Feature]) -> list[Issue]:
        return errors(validate_collection({"type": "FeatureCollection",
                                           "features": features}, str(source)))

    if fmt == "csv":
        return _import_registry_csv(source, out, invalid)
    from rcm_map.core.schema import issue_lines
    from rcm_map.formats.interop import cli_import, summary

    features, issues = cli_import(fmt, source)
    issues = issues + invalid(features)
    report = "\n".join([*issue_lines(issues, "  "), summary(features, issues)])
    if errors(issues) or not features:
        return RegistryImport(features, report,
                              f"{out}: unchanged; fix the records above and import again",
                              EXIT_PROBLEMS)
    return RegistryImport(features, report)


def _import_registry_csv(source: str | Path, out: str | Path, invalid: Callable[
        [list[Feature]], list[Issue]]) -> RegistryImport:
    import csv

    from rcm_map.core.schema import issue_lines
    from rcm_map.formats.importer import import_sources_csv

    try:
        read_regular_file(source, MAX_FILE_BYTES)  # devices and pipes refused too
    except ValueError as exc:
        return RegistryImport([], "", f"{source}: {exc}; nothing written", EXIT_UNREADABLE)
    try:
        result = import_sources_csv(source)
    except csv.Error as exc:  # e.g. a cell over csv's 131,072-character field limit
        return RegistryImport([], "", f"{source}: not a readable CSV ({exc}); {out}: unchanged",
                              EXIT_UNREADABLE)
    if not result.format:
        return RegistryImport([], result.report(),
                              f"{out}: unchanged (the file could not be read)", EXIT_UNREADABLE)
    bad = invalid(result.features)  # the importer's own checks should make this empty
    report = "\n".join([result.report(), *issue_lines(bad, "  ")])
    if result.errors or result.rejected or bad or not result.features:
        return RegistryImport(
            result.features, report,
            f"{out}: unchanged; fix the rows above and import again" if result.features
            else f"{out}: unchanged (no service to import)", EXIT_PROBLEMS)
    return RegistryImport(result.features, report)


def write_registry(out: str | Path, features: list[Feature]) -> str:
    """Replace the registry file `out` (a backup of the old one kept); the line to print."""
    from rcm_map.formats.export import geojson_bytes

    backup = replace_with_backup(out, geojson_bytes(features, sort=True))
    return f"{out}: written" + (f" (previous version kept in {backup})" if backup else "")
