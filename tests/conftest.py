"""Shared fixtures: paths to the small hand-made registries in tests/data/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def small_path(tmp_path: Path) -> Path:
    """A private copy of the 6-service registry described in tests/data/README.md
    (caches and backups made beside it go to tmp_path, never into tests/data/)."""
    return Path(shutil.copy(DATA / "small.geojson", tmp_path / "small.geojson"))


@pytest.fixture
def small_features() -> list[dict[str, Any]]:
    """The features of small.geojson, as parsed JSON (a fresh copy per test)."""
    return json.loads((DATA / "small.geojson").read_text(encoding="utf-8"))["features"]


def write_collection(path: Path, features: list[dict[str, Any]]) -> Path:
    """Write a FeatureCollection to `path` and return the path."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return path
