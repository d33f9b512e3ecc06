"""Formula neutralisation per list item and per ';' piece in every CSV-like export (issue 12).

The review found ``a;=1+1`` and phones ``["+52 1", "=1+1"]`` written as
``'+52 1;=1+1``: a spreadsheet that splits on ``;`` (the list separator, and the CSV
separator in Spanish and French locales) got a live ``=1+1`` cell.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from rcm_map.core.safety import CSV_TRIGGERS, neutralize_csv_cell, restore_csv_cell
from rcm_map.formats import export, hsds
from rcm_map.formats.hxl import export_hxl, import_hxl
from rcm_map.formats.importer import import_sources_csv
from rcm_map.registry.model import frame_from_features

ATTACKS = {"name": "a;=1+1", "phones": ["+52 1", "=1+1", "@SUM(A1)"],
           "description": "x; -2+3;\t=cmd", "languages": ["es"], "hours": "=HYPERLINK(\"x\")"}


def live_pieces(cell: str) -> list[str]:
    """Pieces of a cell, split as a spreadsheet may split it, that would run as formulas
    (a plain number such as a longitude, -92.2667, is data, not a formula)."""
    return [p for p in cell.split(";") if p[:1] in CSV_TRIGGERS and p[:1] != ""
            and not _number(p)]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


@pytest.fixture
def attacked(small_features: list[dict[str, Any]]) -> Any:
    small_features[0]["properties"].update(ATTACKS)
    return frame_from_features(small_features)


@pytest.mark.parametrize(("cell", "written"), [
    ("a;=1+1", "a;'=1+1"),
    ("+52 1;=1+1", "'+52 1;'=1+1"),
    ("'=x;b", "''=x;b"),
    ("plain; text", "plain; text"),
])
def test_every_piece_is_neutralised_and_restored(cell: str, written: str) -> None:
    assert neutralize_csv_cell(cell) == written
    assert restore_csv_cell(written) == cell


def test_files_of_earlier_versions_read_back_the_same() -> None:
    assert restore_csv_cell("'+52 1;=1+1") == "+52 1;=1+1"


def test_csv_export(attacked: Any, tmp_path: Path) -> None:
    data = export.to_csv_bytes(attacked)
    assert [c for c in csv_cells(data) if live_pieces(c)] == []
    assert "'+52 1;'=1+1;'@SUM(A1)" in csv_cells(data)


def test_hxl_export_and_import(attacked: Any) -> None:
    data = export_hxl(attacked)
    assert [c for c in csv_cells(data) if live_pieces(c)] == []
    features, issues = import_hxl(data)
    props = {f["properties"]["id"]: f["properties"] for f in features}["mex-tap-shelter"]
    assert not [i for i in issues if i.severity == "error"]
    assert props["phones"] == ATTACKS["phones"] and props["name"] == ATTACKS["name"]


def test_hsds_csv_tables(attacked: Any) -> None:
    with zipfile.ZipFile(io.BytesIO(hsds.hsds_zip_bytes(attacked))) as archive:
        tables = [n for n in archive.namelist() if n.endswith(".csv")]
        assert tables
        for name in tables:
            cells = csv_cells(archive.read(name))
            assert [c for c in cells if live_pieces(c)] == [], name


def test_exported_csv_imports_back_exactly(attacked: Any, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(export.to_csv_bytes(attacked))
    result = import_sources_csv(path)
    props = {f["properties"]["id"]: f["properties"] for f in result.features}["mex-tap-shelter"]
    assert props["phones"] == ATTACKS["phones"]
    assert props["name"] == ATTACKS["name"] and props["hours"] == ATTACKS["hours"]
