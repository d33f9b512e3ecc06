"""The rcm-map command: exit codes, one line per problem, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rcm_map.cli import main as cli
from rcm_map.core.geo import haversine_km
from rcm_map.registry.model import DEFAULT_REGISTRY
from tests.conftest import REPO, write_collection


def run(args, capsys):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_validate_valid_file(small_path, capsys):
    code, out, _ = run(["validate", small_path], capsys)
    assert code == 0
    assert out.strip().endswith("6 features, 0 errors, 0 warnings")


def test_validate_problems_exit_1_one_line_each(tmp_path, small_features, capsys):
    small_features[0]["properties"]["age_min"] = 30
    small_features[1]["properties"]["website"] = "javascript:alert(1)"
    path = write_collection(tmp_path / "bad.geojson", small_features)
    code, out, _ = run(["validate", path], capsys)
    lines = out.strip().splitlines()
    assert code == 1
    assert len(lines) == 3 and lines[-1].endswith("2 errors, 0 warnings")
    assert "feature 0 (id 'mex-tap-shelter'): field 'age_min'" in lines[0]
    assert "feature 1 (id 'mex-tap-dif'): field 'website'" in lines[1]


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe\x00garbage"])
def test_validate_unreadable_exit_2(tmp_path, content, capsys):
    path = tmp_path / "x.geojson"
    path.write_bytes(content)
    code, out, _ = run(["validate", path], capsys)
    assert code == 2 and "cannot be read" in out


def test_search_geojson_matches_brute_force(small_path, capsys):
    code, out, _ = run(["search", "--registry", small_path, "--near", "14.9,-92.26",
                        "--radius-km", "30", "--format", "geojson"], capsys)
    assert code == 0
    features = json.loads(out)["features"]
    got = [(f["properties"]["id"], f["properties"]["distance_km"]) for f in features]
    source = json.loads(small_path.read_text())["features"]
    brute = sorted(
        (round(haversine_km(14.9, -92.26, f["geometry"]["coordinates"][1],
                            f["geometry"]["coordinates"][0]), 3), f["properties"]["id"])
        for f in source
        if f["geometry"] and f["properties"]["location_precision"] != "confidential"
        and haversine_km(14.9, -92.26, f["geometry"]["coordinates"][1],
                         f["geometry"]["coordinates"][0]) <= 30
    )
    public = [(i, d) for i, d in got if d is not None]
    assert public == [(i, d) for d, i in brute]
    assert [i for i, d in got if d is None] == ["mex-tap-secret"]  # band only


def test_search_table_and_filters(small_path, capsys):
    code, out, _ = run(["search", "--registry", small_path, "--near", "14.9,-92.26",
                        "--service", "shelter", "--age", "15"], capsys)
    assert code == 0
    assert "Albergue Ejemplo Tapachula" in out and "Casa confidencial" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--near", "abc"], "--near"), (["--near", "95,10"], "Latitude"),
     (["--service", "spa"], "unknown code 'spa'"), (["--age", "99"], "age"),
     (["--verified-since", "yesterday"], "--verified-since")],
)
def test_search_bad_arguments(small_path, args, message, capsys):
    code, _, err = run(["search", "--registry", small_path, *args], capsys)
    assert code == 2 and message in err


def test_search_bad_registry_exit_2(tmp_path, capsys):
    path = tmp_path / "r.geojson"
    path.write_text("[]")
    code, _, err = run(["search", "--registry", path, "--near", "14,-92"], capsys)
    assert code == 2 and "FeatureCollection" in err


def test_export_csv(tmp_path, small_path, capsys):
    out_path = tmp_path / "out.csv"
    code, _, err = run(["export", "--registry", small_path, "--country", "MEX",
                        "--format", "csv", "--out", out_path], capsys)
    assert code == 0 and "wrote 3 services" in err
    assert out_path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_export_xlsx_in_a_chosen_language(tmp_path, small_path, capsys):
    import openpyxl

    out_path = tmp_path / "out.xlsx"
    code, _, err = run(["export", "--registry", small_path, "--country", "MEX",
                        "--format", "xlsx", "--lang", "fr", "--out", out_path], capsys)
    assert code == 0 and "wrote 3 services" in err
    sheet = openpyxl.load_workbook(out_path).worksheets[0]
    assert sheet.title == "Services" and sheet["A1"].value == "Service"
    assert sheet["G1"].value == "Pays" and sheet["G2"].value == "Mexique"


def test_console_script_runs(small_path):
    proc = subprocess.run([sys.executable, "-m", "rcm_map.cli.main", "validate", str(small_path)],
                          capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("fmt", ["hxl", "hsds"])
def test_export_then_import_exchange_formats(tmp_path, small_path, fmt, capsys):
    out = tmp_path / ("x.csv" if fmt == "hxl" else "pkg")
    code, _, err = run(["export", "--registry", small_path, "--format", fmt, "--out", out],
                       capsys)
    assert code == 0 and "wrote 6 services" in err
    registry_path = tmp_path / "r.geojson"
    code, out_text, _ = run(["import", "--format", fmt, out, "--out", registry_path], capsys)
    assert code == 0, out_text
    ids = {f["properties"]["id"] for f in json.loads(registry_path.read_text())["features"]}
    assert ids == {f["properties"]["id"]
                   for f in json.loads(small_path.read_text())["features"]}


def test_rejected_exchange_import_leaves_registry_untouched(tmp_path, small_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n#meta+id,#org+name\nx,\n", encoding="utf-8")
    target = tmp_path / "r.geojson"
    target.write_bytes(small_path.read_bytes())
    code, out, _ = run(["import", "--format", "hxl", bad, "--out", target], capsys)
    assert code == 1 and "unchanged" in out
    assert target.read_bytes() == small_path.read_bytes()


def test_validate_large_local_file_needs_the_flag(small_path, monkeypatch, capsys):
    """Files over the upload limit are refused unless --large-file says it is meant."""
    monkeypatch.setattr(cli, "MAX_FILE_BYTES", 100)
    code, out, _ = run(["validate", small_path], capsys)
    assert code == 2 and "more than the limit of 100" in out
    code, out, _ = run(["validate", "--large-file", small_path], capsys)
    assert code == 0 and out.strip().endswith("6 features, 0 errors, 0 warnings")


def test_validate_without_a_file_checks_the_registry_in_use(small_path, monkeypatch, capsys):
    """No database configured: the live registry is the registry file in use."""
    monkeypatch.delenv("RCM_MAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(small_path))
    code, out, _ = run(["validate"], capsys)
    assert code == 0
    assert out.strip().splitlines()[-1] == f"{small_path}: 6 features, 0 errors, 0 warnings"


def test_search_place_border_post_says_it_is_shown_at_its_municipality(small_path, capsys):
    """A post known by municipality only: stderr names the town it is shown at and says
    that the crossing's exact point is not known; the other side is the runner-up (on
    the bundled registry, whose services near Pasaquina rank the Salvadoran side first)."""
    code, _, err = run(["search", "--registry", str(DEFAULT_REGISTRY), "--place",
                        "El Amatillo"], capsys)
    assert code == 0
    lines = err.splitlines()
    assert lines[0] == ("place: El Amatillo (border crossing) — shown at Pasaquina, La Unión "
                        "(SLV) (13.58444, -87.84111)")
    assert lines[1] == ("  El Amatillo is shown at Pasaquina, the municipality or town a public "
                        "source places it in; its exact point is not known, so distances are "
                        "counted from Pasaquina.")
    assert lines[2].startswith("  runner-up: El Amatillo (border crossing) — shown at "
                               "Goascorán, Valle (HND)")
    code, _, err = run(["search", "--registry", small_path, "--place", "Tapachula"], capsys)
    assert err.splitlines()[0] == "place: Tapachula, Chiapas, MEX (14.90541, -92.25891)"
    assert "not known" not in err
