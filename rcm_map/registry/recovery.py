"""Start-up health of the registry file: report damage, offer a backup, never overwrite.

`check_registry_health` is what the app (and an operator) calls before loading
the registry. It removes temporary files left by interrupted writes, reads and
validates the registry, and when the registry is missing or unusable it names
the newest backup that validates. It never restores anything itself: putting a
backup back is a decision for a person (`store.files.restore_backup`, which first
backs up the damaged file too, so nothing is lost either way).

Pure module: no Streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from rcm_map.core.files import backup_dir, clean_temp_files, list_backups
from rcm_map.core.schema import Issue
from rcm_map.registry.model import RegistryError, errors, read_json_file, validate_collection

MAX_BACKUPS_CHECKED = 20  # validating a large backup is slow; the newest good one is enough


@dataclass(frozen=True)
class Health:
    """What `check_registry_health` found.

    Attributes
    ----------
    path
        The registry file checked.
    ok
        True when the registry reads and validates with no errors (warnings allowed).
    issues
        The problems found (errors first), one line each when printed.
    backups
        Every backup of the registry, newest first.
    last_good_backup
        The newest backup that validates, looked for only when `ok` is False.
    cleaned
        Temporary files of interrupted writes that were removed.
    """

    path: Path
    ok: bool
    issues: tuple[Issue, ...]
    backups: tuple[Path, ...]
    last_good_backup: Path | None
    cleaned: tuple[Path, ...]

    def summary(self) -> str:
        """A short report for a log line or an administrator's message."""
        if self.ok:
            head = f"{self.path}: registry OK"
        else:
            head = f"{self.path}: registry unusable ({len(errors(list(self.issues)))} errors)"
        lines = [head]
        lines += [f"  {issue}" for issue in errors(list(self.issues))[:10]]
        if not self.ok:
            lines.append(f"  last good backup: {self.last_good_backup}"
                         if self.last_good_backup else "  no good backup found")
        if self.cleaned:
            lines.append(f"  removed {len(self.cleaned)} temporary file(s) of interrupted writes")
        return "\n".join(lines)


    def redacted_summary(self) -> str:
        """`summary` for a web page: the file's name only, no bad values.

        A bad value may be the true point or address of a confidential service
        (``got [14.876543, -92.345678]``), and a server path helps an attacker; both
        stay in the server log and the CLI (issue 12).
        """
        found = errors(list(self.issues))
        lines = [f"{self.path.name}: registry unusable ({len(found)} errors)"]
        lines += [f"  {replace(i, file=Path(i.file).name, value=None, message=_redact(i.message))}"
                  for i in found[:10]]
        return "\n".join(lines)


# Values that messages quote: "instead got: -92.345678", "item '...': ", coordinates.
_QUOTED_VALUE = re.compile(r",? instead got: .*?(?=\s\(|\.?$)")
_QUOTED_ITEM = re.compile(r"item '.*?': ")
_LONG_DECIMAL = re.compile(r"-?\d+\.\d{3,}")


def _redact(message: str) -> str:
    """`message` without the values it quotes (they may locate a confidential site)."""
    message = _QUOTED_ITEM.sub("item: ", _QUOTED_VALUE.sub("", message))
    return _LONG_DECIMAL.sub("…", message)


def registry_issues(path: str | Path) -> list[Issue]:
    """Every problem of a registry file, a missing file included; never raises."""
    file = Path(path)
    if not file.exists():
        return [Issue("registry file is missing", str(file))]
    try:
        obj = read_json_file(file)
    except RegistryError as exc:
        return exc.issues
    return validate_collection(obj, str(file))


def last_good_backup(backups: list[Path] | tuple[Path, ...]) -> Path | None:
    """The first of `backups` (newest first) that reads and validates."""
    for backup in list(backups)[:MAX_BACKUPS_CHECKED]:
        if not errors(registry_issues(backup)):
            return backup
    return None


def check_registry_health(path: str | Path) -> Health:
    """Check the registry at start-up; see the module docstring.

    Parameters
    ----------
    path
        The registry GeoJSON file.

    Returns
    -------
    Health
        Never raises on a damaged or missing file; the registry is not modified.
    """
    file = Path(path)
    folder = file.parent if str(file.parent) else Path(".")
    cleaned = tuple(p for d in (folder, backup_dir(file)) if d.is_dir()
                    for p in clean_temp_files(d))
    issues = registry_issues(file)
    issues.sort(key=lambda i: i.severity != "error")
    ok = not errors(issues)
    backups = tuple(list_backups(file))
    good = None if ok else last_good_backup(backups)
    return Health(path=file, ok=ok, issues=tuple(issues), backups=backups,
                  last_good_backup=good, cleaned=cleaned)
