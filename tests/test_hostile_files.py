"""Hostile and malformed files: a clear accept or reject, never a traceback.

The committed corpus in tests/data/hostile/ (see its README) goes through
`rcm-map validate` in-process for every file and as a real subprocess for a
sample; CSV files also go through `rcm-map import` once the importer exists. A
rejected import must leave the current registry byte-for-byte unchanged and no
temporary file behind. Hypothesis then generates more files of the same kinds.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm_map.cli import main as cli
from rcm_map.core.files import TEMP_MARK, list_backups
from rcm_map.formats import export
from rcm_map.registry import load_registry
from rcm_map.registry import model as registry
from rcm_map.search import query

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
sys.path.insert(0, str(HOSTILE))
import make_corpus  # noqa: E402 - the corpus generator lives beside its data

MANIFEST: list[dict[str, str]] = json.loads((HOSTILE / "manifest.json").read_text("utf-8"))
REGISTRIES = [e for e in MANIFEST if e["kind"] == "registry"]
CSVS = [e for e in MANIFEST if e["kind"] == "csv"]
BASELINE = HOSTILE / "registries" / "000-valid-baseline.geojson"
CRASH_MARKS = ("Traceback (most recent call last)", "internal error")


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Run `rcm-map` in-process; return the exit code and stdout+stderr together."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    texts = []
    for stream in (out, err):
        stream.flush()
        texts.append(stream.buffer.getvalue().decode("utf-8", "replace"))  # type: ignore[attr-defined]
    return code, "".join(texts)


def assert_clear_outcome(code: int, output: str) -> None:
    """Exit 0, 1 or 2, with no traceback and a reason for every non-zero exit."""
    assert code in (0, 1, 2), output
    for mark in CRASH_MARKS:
        assert mark not in output, output
    if code:
        assert output.strip(), "a rejection must say why"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temp_leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(f"*{TEMP_MARK}*")]


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_large_and_up_to_date() -> None:
    """>= 100 files, and the committed bytes are exactly what make_corpus.py writes."""
    corpus = make_corpus.build()
    assert len(corpus.entries) >= 100
    assert corpus.entries == MANIFEST, "run tests/data/hostile/make_corpus.py"
    for path, data in corpus.files.items():
        assert path.read_bytes() == data, f"{path} is stale: run make_corpus.py"


@pytest.mark.slow
@pytest.mark.parametrize("entry", REGISTRIES, ids=[e["file"] for e in REGISTRIES])
def test_validate_every_registry(entry: dict[str, str]) -> None:
    code, output = run_cli(["validate", str(HOSTILE / entry["file"])])
    assert_clear_outcome(code, output)
    got = "accept" if code == 0 else "reject"
    assert entry["expect"] in ("either", got), f"{entry['why']}: {output}"


def accepted_registries() -> list[Path]:
    return [HOSTILE / e["file"] for e in REGISTRIES
            if not registry.errors(registry.validate_file(HOSTILE / e["file"]))]


def assert_usable(path: Path) -> None:
    """An accepted registry loads, searches and exports, and its export re-validates."""
    reg = load_registry(path)
    result = query.search(reg, query.Query(near=(14.9, -92.26)))
    export.to_csv_bytes(result.located)
    again = json.loads(export.to_geojson_bytes(result.located))
    assert not registry.errors(registry.validate_collection(again, "re-export"))
    for fmt in ("table", "csv", "geojson"):
        code, output = run_cli(["search", "--registry", str(path), "--format", fmt])
        assert code == 0, output


@pytest.mark.slow
def test_accepted_registries_are_usable(tmp_path: Path) -> None:
    """'Accept' means every later step works (a lone surrogate once passed, then broke all)."""
    paths = accepted_registries()
    assert len(paths) >= 30
    for path in paths:  # copied, so that their caches are not written into tests/data/
        assert_usable(Path(shutil.copy(path, tmp_path / path.name)))


SUBPROCESS_SAMPLE = [e for i, e in enumerate(REGISTRIES) if i % 45 == 0] + [
    e for e in REGISTRIES if "nesting-100k-top" in e["file"] or "5000-digits" in e["file"]]


@pytest.mark.slow
@pytest.mark.parametrize("entry", SUBPROCESS_SAMPLE, ids=[e["file"] for e in SUBPROCESS_SAMPLE])
def test_validate_subprocess_sample(entry: dict[str, str]) -> None:
    """The real command: exit code and streams as a focal point sees them."""
    proc = subprocess.run([sys.executable, "-m", "rcm_map.cli.main", "validate",
                           str(HOSTILE / entry["file"])],
                          capture_output=True, text=True, timeout=120, check=False)
    assert_clear_outcome(proc.returncode, proc.stdout + proc.stderr)
    got = "accept" if proc.returncode == 0 else "reject"
    assert entry["expect"] in ("either", got)


def test_oversized_registry_rejected_before_reading(tmp_path: Path) -> None:
    big, _ = make_corpus.write_oversized(tmp_path, registry.MAX_FILE_BYTES)
    code, output = run_cli(["validate", str(big)])
    assert code == 2
    assert "more than the limit" in output
    assert_clear_outcome(code, output)


# --------------------------------------------------------------------------- imports


def fresh_registry(tmp_path: Path) -> Path:
    """A copy of the valid baseline registry as the 'current' registry of an import."""
    target = tmp_path / "reg" / "actors.geojson"
    target.parent.mkdir()
    shutil.copyfile(BASELINE, target)
    return target


def check_import(source: Path, tmp_path: Path, expect: str = "either") -> int:
    """Import `source` over a copy of the baseline and check what it leaves behind."""
    current = fresh_registry(tmp_path)
    before = current.read_bytes()
    code, output = run_cli(["import", str(source), "--out", str(current)])
    assert_clear_outcome(code, output)
    assert not temp_leftovers(current.parent), "an import left temporary files"
    if code != 0:
        assert hashlib.sha256(current.read_bytes()).digest() == hashlib.sha256(before).digest(), \
            f"a rejected import changed the registry: {output}"
    else:
        assert not registry.errors(registry.validate_file(current)), output
        if current.read_bytes() != before:
            backups = list_backups(current)
            assert backups and backups[0].read_bytes() == before, \
                "an import replaced the registry without a backup of the old one"
    got = "accept" if code == 0 else "reject"
    assert expect in ("either", got), f"{source.name}: {output}"
    return code


@pytest.mark.slow
@pytest.mark.parametrize("entry", CSVS, ids=[e["file"] for e in CSVS])
def test_import_every_csv(entry: dict[str, str], tmp_path: Path) -> None:
    check_import(HOSTILE / entry["file"], tmp_path, entry["expect"])


def test_import_oversized_csv(tmp_path: Path) -> None:
    _, big = make_corpus.write_oversized(tmp_path / "big", registry.MAX_FILE_BYTES)
    assert check_import(big, tmp_path) != 0


@pytest.mark.slow
def test_import_subprocess_rejection_keeps_registry(tmp_path: Path) -> None:
    current = fresh_registry(tmp_path)
    before = sha256(current)
    garbage = HOSTILE / next(e["file"] for e in CSVS if "binary-garbage" in e["file"])
    proc = subprocess.run(
        [sys.executable, "-m", "rcm_map.cli.main", "import", str(garbage), "--out", str(current)],
        capture_output=True, text=True, timeout=120, check=False)
    assert_clear_outcome(proc.returncode, proc.stdout + proc.stderr)
    assert proc.returncode != 0
    assert sha256(current) == before
    assert not temp_leftovers(current.parent)


# --------------------------------------------------------------------------- hypothesis

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
FIELD_NAMES = [*registry.schema.FIELD_NAMES, "geometry", "coordinates", "type", "x"]


def mutate(name: str, value: Any) -> dict[str, Any]:
    """A baseline registry with one member replaced by `value`."""
    obj = make_corpus.valid_registry()
    f = obj["features"][0]
    if name == "geometry":
        f["geometry"] = value
    elif name == "coordinates":
        f["geometry"]["coordinates"] = value
    elif name == "type":
        f["type"] = value
    else:
        f["properties"][name] = value
    return obj


HYPOTHESIS = settings(max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.slow
@HYPOTHESIS
@given(name=st.sampled_from(FIELD_NAMES), value=json_values)
def test_hypothesis_mutated_registries(name: str, value: Any, tmp_path: Path) -> None:
    path = tmp_path / "mutated.geojson"
    path.write_bytes(json.dumps(mutate(name, value), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"))
    code, output = run_cli(["validate", str(path)])
    assert_clear_outcome(code, output)
    if code == 0:
        assert_usable(path)


@pytest.mark.slow
@HYPOTHESIS
@given(data=st.binary(max_size=2000) | json_values.map(
    lambda v: json.dumps(v).encode()))
def test_hypothesis_arbitrary_files(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "random.geojson"
    path.write_bytes(data)
    code, output = run_cli(["validate", str(path)])
    assert_clear_outcome(code, output)


@pytest.mark.slow
@HYPOTHESIS
@given(data=st.binary(min_size=1, max_size=400))
def test_hypothesis_flipped_bytes(data: bytes, tmp_path: Path) -> None:
    """Random bytes spliced into the middle of a valid registry."""
    base = BASELINE.read_bytes()
    cut = int.from_bytes(data[:2].rjust(2, b"\0"), "big") % len(base)
    path = tmp_path / "spliced.geojson"
    path.write_bytes(base[:cut] + data + base[cut + len(data):])
    code, output = run_cli(["validate", str(path)])
    assert_clear_outcome(code, output)
    if code == 0:
        assert_usable(path)


csv_cells = st.text(st.characters(codec="utf-8") | st.sampled_from(
    list('=+-@\t\r\n",;\'{}$`<>') + ["\ufeff", "\x00"]), max_size=15)


@pytest.mark.slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.dictionaries(st.sampled_from(make_corpus.CSV_HEADER), csv_cells,
                                     max_size=8), min_size=1, max_size=4),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_hypothesis_csv_imports(rows: list[dict[str, str]], encoding: str,
                                tmp_path: Path) -> None:
    source = tmp_path / "random.csv"
    merged = [make_corpus.csv_row(**row) for row in rows]
    source.write_bytes(make_corpus.csv_bytes(merged, encoding="utf-8").decode().encode(
        encoding, "surrogatepass"))
    shutil.rmtree(tmp_path / "reg", ignore_errors=True)
    check_import(source, tmp_path)
