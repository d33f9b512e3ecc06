"""Size and count limits that hold for devices, pipes and escaped JSON (issue 12)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rcm_map.cli import main as cli
from rcm_map.core.files import NotARegularFile, read_regular_file
from rcm_map.store.importing import read_update


@pytest.mark.parametrize("command", [["validate"], ["import", "--out", "OUT"]])
def test_dev_zero_is_refused_clearly(command: list[str], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`rcm-map validate /dev/zero` ended in MemoryError."""
    argv = [c.replace("OUT", str(tmp_path / "x.geojson")) for c in command]
    code = cli.main([argv[0], "/dev/zero", *argv[1:]])
    text = "".join(capsys.readouterr())
    assert code != 0 and "a device, not a file" in text
    assert "MemoryError" not in text and "Traceback" not in text


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.geojson"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFile, match="is a pipe, not a file"):
        read_regular_file(fifo, 1000)  # no open(): a reader would wait for a writer


def test_folders_and_large_files(tmp_path: Path) -> None:
    with pytest.raises(NotARegularFile, match="is a folder"):
        read_regular_file(tmp_path, 1000)
    big = tmp_path / "big.geojson"
    big.write_bytes(b" " * 2000)
    with pytest.raises(ValueError, match="2,000 bytes, more than the limit of 1,000"):
        read_regular_file(big, 1000)
    assert read_regular_file(big, 2000) == b" " * 2000


def test_the_feature_limit_counts_parsed_features() -> None:
    """`"type":"Featur\\u0065"` was not counted on the raw text, so 60,000 passed 50,000."""
    feature = '{"type":"Featur\\u0065","geometry":null,"properties":{"id":"x"}}'
    data = ('{"type":"FeatureCollection","features":[' + ",".join([feature] * 120) + "]}")
    assert json.loads(data)["features"][0]["type"] == "Feature"
    features, issues = read_update(data.encode(), name="mex.geojson", max_features=100)
    assert features == []
    assert "file holds 120 services, more than the limit of 100" in str(issues[0])
