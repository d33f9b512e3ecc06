"""The store commands the CLI wires in and the import pipeline under them (file backend;
PostGIS shares the Store API)."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from rcm_map.cli import store_commands
from rcm_map.store import importing
from rcm_map.store.geojson_store import GeoJSONStore


def parser() -> argparse.ArgumentParser:
    """A parser like rcm-map's, with the store options and commands wired in."""
    top = argparse.ArgumentParser(prog="rcm-map")
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("import")
    p.add_argument("source", type=Path)
    p.add_argument("--registry", type=Path)
    store_commands.add_import_options(p)
    store_commands.add_commands(sub)
    return top


def run(argv: list[str]) -> int:
    """Parse and run one command as rcm-map would."""
    args = parser().parse_args(argv)
    if args.command == "import":
        return store_commands.cmd_import_country(args)
    return store_commands.COMMANDS[args.command](args)


@pytest.fixture
def registry(tmp_path: Path, small_path: Path) -> Path:
    """A copy of small.geojson."""
    target = tmp_path / "actors.geojson"
    target.write_bytes(small_path.read_bytes())
    return target


def test_import_preview_apply_history_restore(registry: Path, tmp_path: Path,
                                              small_features: list,
                                              capsys: pytest.CaptureFixture) -> None:
    """Preview changes nothing; apply records a change; restore undoes it."""
    mex = [f for f in small_features if f["properties"]["country"] == "MEX"]
    mex[0]["properties"]["hours"] = "8-16"
    upload = tmp_path / "mex.geojson"
    upload.write_text(json.dumps({"type": "FeatureCollection", "features": mex[:2]}))
    before = registry.read_bytes()
    base = ["--registry", str(registry), "--user", "ana"]
    assert run(["import", str(upload), "--country", "mex", *base]) == 0
    out = capsys.readouterr().out
    assert "MEX: 0 added, 1 changed, 1 removed, 1 unchanged" in out
    assert "~ mex-tap-shelter: hours" in out
    assert registry.read_bytes() == before
    assert run(["import", str(upload), "--country", "MEX", "--apply", *base]) == 0
    assert "applied as change 2" in capsys.readouterr().out
    assert run(["history", *base]) == 0
    assert "#2 " in capsys.readouterr().out
    assert run(["restore", "2", *base]) == 0
    store = GeoJSONStore(registry)
    assert len(store.all_features("MEX")) == 3


def test_bad_upload_lists_problems(registry: Path, tmp_path: Path) -> None:
    """An invalid upload prints every problem and changes nothing (exit 1)."""
    upload = tmp_path / "bad.geojson"
    upload.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                      '"geometry": null, "properties": {"id": "x", "country": "MEX"}}]}')
    out = io.StringIO()
    code = store_commands.import_country(GeoJSONStore(registry), upload, "MEX", "ana", apply=True,
                                      out=out)
    assert code == 1 and "bad.geojson: feature 0 (id 'x'): field 'name'" in out.getvalue()


def test_read_update_refuses_unknown_and_huge() -> None:
    """Only .csv/.geojson/.json, and nothing over the size limit."""
    assert "expected a .csv" in str(importing.read_update(b"", name="x.xlsx")[1][0])
    assert "more than the limit" in str(importing.read_update(b"12345", name="x.csv",
                                                              max_bytes=4)[1][0])


def test_read_update_counts_rows_and_features_before_parsing() -> None:
    """An update over `max_features` is refused from a count of the raw bytes."""
    csv = b"id,name\nx-1,A\nx-2,B\nx-3,C"
    assert importing.count_records("u.csv", csv) == 3
    assert importing.count_records("u.csv", csv + b"\r\n") == 3
    geo = b'{"type":"FeatureCollection","features":[{"type":"Feature"},{"type": "Feature"}]}'
    assert importing.count_records("u.geojson", geo) == 2
    assert importing.count_records("u.geojson", b'{"name":"\\"Feature\\""}') == 0
    features, issues = importing.read_update(csv, name="u.csv", max_features=2)
    assert features == [] and "up to 3 rows, more than the limit of 2" in str(issues[0])
    assert str(issues[0]).startswith("u.csv: ")
    _, issues = importing.read_update(b"{not json" + geo, name="u.geojson",
                                       max_features=1)
    assert "up to 2 features" in str(issues[0])  # refused before the JSON error is found
