"""Nothing lost: killed or failing writes leave the old or the new registry, whole.

A forked child rewrites a ~1 MB registry in a loop (alternating two versions) and
is SIGKILLed at a random moment, 60 times per writer (`atomic_write_bytes` and
`export.write_geojson`); after every kill the file must be exactly one of the two
versions and valid JSON, and `clean_temp_files` must remove what the kill left.
Then `fsync` / `os.replace` are made to fail with ENOSPC or EIO.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rcm_map.cli import main as cli
from rcm_map.core import files
from rcm_map.core.files import TEMP_MARK, atomic_write_bytes, clean_temp_files
from rcm_map.formats import export

KILLS_PER_WRITER = 60
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


def features(version: str, n: int = 2000) -> list[dict[str, Any]]:
    """A big registry body whose every feature carries `version` (so halves differ)."""
    return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-92.2, 14.9]},
             "properties": {"id": f"svc-{i:05d}", "name": f"{version} {i}",
                            "description": version * 100}} for i in range(n)]


VERSIONS = {v: features(v) for v in ("old", "new")}
BYTES = {v: export.geojson_bytes(f, sort=True) for v, f in VERSIONS.items()}


def temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f".*{TEMP_MARK}*"))


def write_bytes_loop(path: Path) -> None:
    while True:
        for version in ("new", "old"):
            atomic_write_bytes(path, BYTES[version])


def write_geojson_loop(path: Path) -> None:
    while True:
        for version in ("new", "old"):
            export.write_geojson(VERSIONS[version], path)


def fork_writer(loop: Callable[[Path], None], path: Path) -> int:
    """Start a child running `loop(path)` forever; return its pid."""
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        try:
            loop(path)
        finally:
            os._exit(0)
    return pid


def write_time(loop: Callable[[Path], None], folder: Path) -> float:
    """Seconds one write of `loop`'s kind takes here (to aim the kills)."""
    probe = folder / "probe.geojson"
    start = time.perf_counter()
    if loop is write_bytes_loop:
        atomic_write_bytes(probe, BYTES["new"])
    else:
        export.write_geojson(VERSIONS["new"], probe)
    probe.unlink()
    return time.perf_counter() - start


def kill_rounds(loop: Callable[[Path], None], folder: Path, rounds: int) -> dict[str, int]:
    """Kill a writer `rounds` times; check the file after each kill. Returns counts."""
    path = folder / "actors.geojson"
    atomic_write_bytes(path, BYTES["old"])
    rng = random.Random(5)
    cycle = write_time(loop, folder)
    seen = {"old": 0, "new": 0, "leftover_temp_files": 0}
    for _ in range(rounds):
        pid = fork_writer(loop, path)
        time.sleep(rng.uniform(0.0, 2.5 * cycle))  # anywhere in the first two writes
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        data = path.read_bytes()
        version = next((v for v, b in BYTES.items() if data == b), None)
        assert version is not None, f"corrupt registry after a kill ({len(data)} bytes)"
        json.loads(data)
        seen[version] += 1
        seen["leftover_temp_files"] += len(clean_temp_files(folder))
        assert temp_files(folder) == []
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("loop", [write_bytes_loop, write_geojson_loop],
                         ids=["atomic_write_bytes", "write_geojson"])
def test_kill_during_write_leaves_old_or_new(loop: Callable[[Path], None],
                                             tmp_path: Path) -> None:
    seen = kill_rounds(loop, tmp_path, KILLS_PER_WRITER)
    kills = KILLS_PER_WRITER
    # The kills must really land mid-write (both versions seen, temp files left
    # behind). Kill timing is random and the machine may be busy, so keep killing,
    # a bounded number of extra rounds, until that has been observed.
    while not (seen["old"] and seen["new"] and seen["leftover_temp_files"]) and kills < 400:
        more = kill_rounds(loop, tmp_path, 20)
        seen = {k: seen[k] + more[k] for k in seen}
        kills += 20
    print(f"\n{loop.__name__}: {kills} kills, 0 corrupt, {seen}", file=sys.stderr)
    assert seen["old"] and seen["new"]
    assert seen["leftover_temp_files"] > 0


def test_clean_temp_files_spares_live_writers(tmp_path: Path) -> None:
    """A temp file of this process (another thread may be writing it) is not removed."""
    dead = tmp_path / f".actors.geojson{TEMP_MARK}999999999-abcd"
    mine = tmp_path / f".actors.geojson{TEMP_MARK}{os.getpid()}-abcd"
    for p in (dead, mine):
        p.write_bytes(b"half")
    assert clean_temp_files(tmp_path) == [dead]
    assert mine.exists()


# --------------------------------------------------------------------------- faults


def fail_with(code: int, after: int = 0) -> Callable[..., Any]:
    """A replacement for an os function that raises OSError(code) after `after` calls."""
    real = {"calls": 0}

    def fake(*args: Any, **kwargs: Any) -> Any:
        real["calls"] += 1
        if real["calls"] > after:
            raise OSError(code, os.strerror(code))
        return ORIGINAL[fake.__name__](*args, **kwargs)

    return fake


ORIGINAL = {"fsync": os.fsync, "replace": os.replace}


def patch_os(monkeypatch: pytest.MonkeyPatch, name: str, code: int, after: int = 0) -> None:
    fake = fail_with(code, after)
    fake.__name__ = name
    monkeypatch.setattr(os, name, fake)


FAULTS = [("fsync", errno.ENOSPC), ("fsync", errno.EIO), ("replace", errno.ENOSPC),
          ("replace", errno.EIO)]


@pytest.mark.parametrize(("name", "code"), FAULTS, ids=[f"{n}-{errno.errorcode[c]}"
                                                        for n, c in FAULTS])
@pytest.mark.parametrize("writer", ["atomic_write_bytes", "write_geojson"])
def test_failing_fsync_or_replace_keeps_old_file(name: str, code: int, writer: str,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "actors.geojson"
    atomic_write_bytes(path, BYTES["old"])
    patch_os(monkeypatch, name, code)
    with pytest.raises(OSError) as info:
        if writer == "atomic_write_bytes":
            atomic_write_bytes(path, BYTES["new"])
        else:
            export.write_geojson(VERSIONS["new"], path)
    assert info.value.errno == code
    monkeypatch.undo()
    assert path.read_bytes() == BYTES["old"]
    assert temp_files(tmp_path) == []


def test_failing_folder_fsync_leaves_new_file_whole(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The replace happened; only the folder fsync failed: the new file, complete."""
    path = tmp_path / "actors.geojson"
    atomic_write_bytes(path, BYTES["old"])
    patch_os(monkeypatch, "fsync", errno.EIO, after=1)
    with pytest.raises(OSError):
        atomic_write_bytes(path, BYTES["new"])
    monkeypatch.undo()
    assert path.read_bytes() == BYTES["new"]
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
def test_import_with_full_disk_keeps_registry(code: int, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`rcm-map import` on a full disk: exit 2, registry and backups folder untouched."""
    source = Path(__file__).parent / "data" / "hostile" / "csv" / "223-valid-baseline.csv"
    path = tmp_path / "actors.geojson"
    atomic_write_bytes(path, BYTES["old"])
    patch_os(monkeypatch, "fsync", code)
    exit_code = cli.main(["import", str(source), "--out", str(path)])
    monkeypatch.undo()
    assert exit_code == 2
    assert "Traceback" not in capsys.readouterr().err
    assert path.read_bytes() == BYTES["old"]
    assert temp_files(tmp_path) == [] and temp_files(files.backup_dir(path)) == []


def test_import_keeps_timestamped_backup(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    source = Path(__file__).parent / "data" / "hostile" / "csv" / "223-valid-baseline.csv"
    path = tmp_path / "actors.geojson"
    atomic_write_bytes(path, BYTES["old"])
    assert cli.main(["import", str(source), "--out", str(path)]) == 0
    backups = files.list_backups(path)
    assert len(backups) == 1 and backups[0].read_bytes() == BYTES["old"]
    assert path.read_bytes() != BYTES["old"]
    assert str(backups[0]) in capsys.readouterr().out
