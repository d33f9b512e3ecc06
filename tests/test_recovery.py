"""Start-up health check: a damaged registry is reported, a good backup offered, nothing
overwritten."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rcm_map.core.files import TEMP_MARK, backup_dir, make_backup, restore_backup
from rcm_map.registry.recovery import check_registry_health

HOSTILE = Path(__file__).parent / "data" / "hostile" / "registries"
GOOD = (HOSTILE / "000-valid-baseline.geojson").read_bytes()
TRUNCATED = GOOD[: len(GOOD) // 2]


def registry_with_backups(tmp_path: Path, *versions: bytes) -> Path:
    """A registry whose backups hold `versions`, oldest first; the file holds the last."""
    path = tmp_path / "actors.geojson"
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for k, data in enumerate(versions):
        if k:
            make_backup(path, now=start + dt.timedelta(hours=k))
        path.write_bytes(data)
    return path


def test_healthy_registry(tmp_path: Path) -> None:
    path = registry_with_backups(tmp_path, GOOD)
    health = check_registry_health(path)
    assert health.ok and health.last_good_backup is None
    assert "registry OK" in health.summary()


def test_corrupt_registry_offers_newest_good_backup_and_changes_nothing(tmp_path: Path) -> None:
    path = registry_with_backups(tmp_path, GOOD, TRUNCATED, TRUNCATED)
    health = check_registry_health(path)
    assert not health.ok
    assert "invalid JSON" in str(health.issues[0])
    assert len(health.backups) == 2
    assert health.last_good_backup == health.backups[1]  # the newest is itself truncated
    assert health.last_good_backup.read_bytes() == GOOD
    assert path.read_bytes() == TRUNCATED, "the health check must never restore by itself"
    assert str(health.last_good_backup) in health.summary()


def test_restoring_the_offer_keeps_the_damaged_file(tmp_path: Path) -> None:
    path = registry_with_backups(tmp_path, GOOD, TRUNCATED)
    health = check_registry_health(path)
    assert health.last_good_backup is not None
    restore_backup(health.last_good_backup, path)
    assert path.read_bytes() == GOOD
    assert any(b.read_bytes() == TRUNCATED for b in check_registry_health(path).backups)
    assert check_registry_health(path).ok


def test_missing_registry_without_backups(tmp_path: Path) -> None:
    health = check_registry_health(tmp_path / "actors.geojson")
    assert not health.ok and health.backups == () and health.last_good_backup is None
    assert "missing" in str(health.issues[0])
    assert "no good backup found" in health.summary()


def test_invalid_content_is_reported_field_by_field(tmp_path: Path) -> None:
    bad = HOSTILE / "193-duplicate-ids.geojson"
    path = registry_with_backups(tmp_path, GOOD, bad.read_bytes())
    health = check_registry_health(path)
    assert not health.ok and "duplicate id" in health.summary()
    assert health.last_good_backup is not None


def test_leftover_temp_files_are_cleaned(tmp_path: Path) -> None:
    path = registry_with_backups(tmp_path, GOOD, GOOD)
    leftovers = [tmp_path / f".actors.geojson{TEMP_MARK}999999999-0a0b",
                 backup_dir(path) / f".actors.x.geojson{TEMP_MARK}999999999-0a0b"]
    for leftover in leftovers:
        leftover.write_bytes(b'{"type":')
    health = check_registry_health(path)
    assert health.ok
    assert sorted(health.cleaned) == sorted(leftovers)
    assert not any(p.exists() for p in leftovers)
    assert "temporary file" in health.summary()
