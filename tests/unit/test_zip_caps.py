"""HSDS ZIP imports are capped before anything is decompressed (issue 12).

The review's 1.9 MB ZIP of three 190 MB members ended in MemoryError, a 2 x 190 MB
archive used 9.7 GB and printed 10.1 million error lines, and tables of the same
name in two folders were each read.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from rcm_map.cli import main as cli
from rcm_map.core.schema import Issue, issue_lines
from rcm_map.formats import hsds_read
from rcm_map.registry.model import RegistryError

HEADER = "id,organization_id,name,alternate_name,description,url,email,status\n"


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def refusal(path: Path) -> str:
    with pytest.raises(RegistryError) as caught:
        hsds_read.read_services(path)
    return str(caught.value.issues[0])


def test_a_zip_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    bomb = HEADER.encode() + b"0" * (8 * 2**20)  # 8 MB that compress ~1000 to 1
    path = write_zip(tmp_path / "bomb.zip", {"services.csv": bomb})
    assert path.stat().st_size < 100_000
    message = refusal(path)
    assert "bomb.zip" in message and "services.csv" in message and "ZIP bomb" in message


def test_total_uncompressed_size_is_capped(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hsds_read, "MAX_PACKAGE_BYTES", 2**20)  # 1 MB for the test
    rows = "".join(f"s{i},o{i},Servicio {i} {i * 7919 % 10007},,,,,active\n"
                   for i in range(9000)).encode()
    members = {f"{t}.csv": HEADER.encode() + rows for t in ("services", "organizations",
                                                             "locations")}
    message = refusal(write_zip(tmp_path / "big.zip", members))
    assert "MB uncompressed, more than the limit of 1 MB" in message


def test_member_count_is_capped(tmp_path: Path) -> None:
    members = {f"doc{i}.txt": b"x" for i in range(hsds_read.MAX_ZIP_MEMBERS + 1)}
    assert "entries in the ZIP, more than the limit" in refusal(
        write_zip(tmp_path / "many.zip", members))


def test_one_table_per_name(tmp_path: Path) -> None:
    members = {"a/services.csv": HEADER.encode(), "b/services.csv": HEADER.encode()}
    message = refusal(write_zip(tmp_path / "twice.zip", members))
    assert "two tables named services.csv (a/services.csv, b/services.csv)" in message


def test_the_cli_refuses_with_one_clear_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bomb = write_zip(tmp_path / "bomb.zip", {"services.csv": HEADER.encode() + b"0" * 2**23})
    out = tmp_path / "actors.geojson"
    code = cli.main(["import", str(bomb), "--format", "hsds", "--out", str(out)])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code != 0 and "ZIP bomb" in text and "Traceback" not in text
    assert not out.exists()


def test_issue_lines_are_capped() -> None:
    issues = [Issue("bad", "f.csv", i, field="name", value="x") for i in range(10_000)]
    lines = issue_lines(issues, "  ")
    assert len(lines) == 201
    assert lines[-1] == "  ... and 9,800 more issues (the first 200 are shown)"


def test_validate_prints_at_most_a_page_of_issues(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    bad = ",".join('{"type":"Feature","geometry":null,"properties":{}}' for _ in range(5000))
    path = tmp_path / "bad.geojson"
    path.write_text('{"type":"FeatureCollection","features":[' + bad + "]}")
    cli.main(["validate", str(path)])
    assert len(capsys.readouterr().out.splitlines()) <= 202


def test_a_normal_package_still_reads(tmp_path: Path) -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("services.csv", HEADER + "s1,o1,Casa,,,,,active\n")
        archive.writestr("organizations.csv", "id,name,description\no1,Org,NGO\n")
    path = tmp_path / "ok.zip"
    path.write_bytes(data.getvalue())
    services, _ = hsds_read.read_services(path)
    assert [s["id"] for s in services] == ["s1"]
