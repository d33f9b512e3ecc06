"""The fast reader (`rcm_map.registry.fastscan`) agrees with the reference reader.

Reference: `reading.parse_json_bytes` + `validation.validate_collection` (issues) and
`model.frame_from_features` (the frame). For the committed hostile corpus, the real
registry, the small fixture and generated bad features, the fast reader must give
the same issues (file, feature index, id, field, value, message, in the same order),
the same feature count and, for a valid file, the same `Registry`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm_map.core import schema
from rcm_map.registry import cache, fastcolumns, fastscan, model
from rcm_map.registry.reading import RegistryError, parse_json_bytes
from rcm_map.registry.validation import validate_collection

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = sorted((ROOT / "tests" / "data" / "hostile" / "registries").glob("*"))
SMALL = ROOT / "tests" / "data" / "small.geojson"
ACTORS = ROOT / "data" / "actors.geojson"
BASE = json.loads(SMALL.read_text(encoding="utf-8"))["features"]


def reference(data: bytes, file: str = "f.geojson") -> tuple[list[Any], int]:
    """Issues and feature count the reference reader gives (RegistryError as its issues)."""
    try:
        obj = parse_json_bytes(data, file)
    except RegistryError as exc:
        return exc.issues, -1
    features = obj.get("features") if isinstance(obj, dict) else None
    return validate_collection(obj, file), len(features) if isinstance(features, list) else 0


def fast(data: bytes, file: str = "f.geojson") -> tuple[list[Any], int]:
    """The same through `fastscan.validate_bytes`."""
    try:
        return fastscan.validate_bytes(data, file)
    except RegistryError as exc:
        return exc.issues, -1


def same_registry(data: bytes, file: str = "f.geojson") -> None:
    """The reference frame and the fast one give identical registries and caches."""
    obj = parse_json_bytes(data, file)
    old = model.Registry.from_frame(model.frame_from_features(obj["features"]))
    new = model.Registry.from_frame(model.registry_frame(data, file))
    pd.testing.assert_frame_equal(pd.DataFrame(old.frame.drop(columns="geometry")),
                                  pd.DataFrame(new.frame.drop(columns="geometry")))
    assert list(old.frame.geometry.to_wkt()) == list(new.frame.geometry.to_wkt())
    for name in ("lon", "lat", "age_min", "age_max", "service_bits", "population_bits",
                 "country", "admin1", "verified"):
        a, b = getattr(old, name), getattr(new, name)
        assert a.dtype == b.dtype
        assert ((a == b) | (pd.isna(a) & pd.isna(b))).all(), name
    t_old = cache.registry_to_table(old, "0" * 64)
    t_new = cache.registry_to_table(new, "0" * 64)
    assert t_old.schema.equals(t_new.schema, check_metadata=True)
    for name in t_old.column_names:
        a, b = t_old.column(name), t_new.column(name)
        if name in ("lon", "lat"):
            a, b = a.fill_null(0).to_numpy(), b.fill_null(0).to_numpy()
            assert np.array_equal(a, b, equal_nan=True), name
        else:
            assert a.equals(b), name


@pytest.fixture(autouse=True, scope="module", params=[True, False], ids=["arrow", "msgspec"])
def reader(request: pytest.FixtureRequest) -> Any:
    """Every test twice: chunks read by Arrow's JSON reader where it can, and by msgspec."""
    was = fastscan.ARROW_READER
    fastscan.ARROW_READER = request.param
    yield request.param
    fastscan.ARROW_READER = was


def test_spaces_are_what_python_strips() -> None:
    assert set(fastcolumns.SPACES) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


@pytest.mark.parametrize("path", HOSTILE, ids=[p.name for p in HOSTILE])
def test_hostile_corpus_gives_the_same_issues(path: Path) -> None:
    data = path.read_bytes()
    assert fast(data, str(path)) == reference(data, str(path))


@pytest.mark.parametrize("path", [SMALL, ACTORS], ids=["small", "actors"])
def test_real_files_give_the_same_registry(path: Path) -> None:
    data = path.read_bytes()
    assert fastscan.scan(data, str(path)) is not None  # the fast path, not the fallback
    assert fast(data, str(path)) == reference(data, str(path))
    same_registry(data, str(path))


def test_chunks_join_up(monkeypatch) -> None:
    """Features spread over many chunks, some left to the reference validator."""
    monkeypatch.setattr(fastscan, "CHUNK", 7)
    features = []
    for k in range(40):
        feature = copy.deepcopy(BASE[k % len(BASE)])
        feature["properties"]["id"] = f"svc-{k}"
        if k % 5 == 0:
            feature["properties"]["name"] = f"  Service {k} "  # stripped by the reference
        if k % 9 == 0:
            feature["properties"]["last_verified"] = "2024-01-02"  # legacy name
        features.append(feature)
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    assert fast(data) == reference(data)
    same_registry(data)
    features[33]["properties"]["id"] = "svc-3"
    features[20]["properties"]["email"] = "not an address"
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    issues, count = fast(data)
    assert (issues, count) == reference(data) and count == 40
    assert [(i.index, i.field) for i in issues if i.severity == "error"] == [
        (20, "email"), (3, "id"), (33, "id")]


def test_arrow_reads_the_real_files(monkeypatch, reader: bool) -> None:
    """The Arrow path is taken for a plain file (one feature per line or all on one)."""
    read: list[Any] = []
    original = fastscan._read_arrow

    def spy(raws: list[Any]) -> Any:
        read.append(original(raws))
        return read[-1]

    monkeypatch.setattr(fastscan, "_read_arrow", spy)
    for data in (ACTORS.read_bytes(), json.dumps(json.loads(ACTORS.read_bytes())).encode()):
        read.clear()
        assert fastscan.scan(data, "f.geojson") is not None
        assert (read and all(t is not None for t in read)) if reader else not read


@pytest.mark.parametrize("block", [64, 1000, 1 << 22])
def test_features_over_many_lines_and_blocks(monkeypatch, block: int) -> None:
    """Indented features: Arrow's reader takes them whole or refuses the chunk where a
    block boundary cuts one; either way the same issues and the same registry."""
    monkeypatch.setattr(fastscan, "_ARROW_BLOCK", block)
    features = copy.deepcopy(BASE)
    features[1]["properties"]["email"] = "not an address"
    for indent in (None, 1, "\t"):
        data = json.dumps({"type": "FeatureCollection", "features": features},
                          indent=indent).encode()
        assert fast(data) == reference(data)
    data = json.dumps({"type": "FeatureCollection", "features": BASE}, indent=2).encode()
    same_registry(data)


@pytest.mark.parametrize(("key", "raw"), [
    ("coordinates", "[-92.26, 14.9, NaN]"), ("coordinates", "[-92.26, 14.9, 1e999]"),
    ("coordinates", "[-92.26, 14.9, null]"), ("coordinates", "[-92.26, null]"),
    ("coordinates", "[-92.26, 14.9, 1" + "0" * 400 + "]"), ("coordinates", "[-92.26]"),
    ("coordinates", "[Infinity, 14.9]"), ("languages", '["es", null]'), ("languages", "[null]"),
    ("age_min", "15.0"), ("age_min", "-0"), ("age_min", "1" + "0" * 30), ("age_min", "null"),
    ("name", '"a\\udc00b"'), ("name", '"\\ud83d\\ude00"'), ("name", '"a\\u0000"'),
    ("name", "null"), ("properties", "null"), ("geometry", "{}"),
])
def test_what_arrow_lets_through_is_in_doubt(key: str, raw: str) -> None:
    """Values Arrow's reader accepts where the typed structs (or Python's json) do not,
    in a file whose other feature is plain."""
    feature = copy.deepcopy(BASE[0])
    if key == "coordinates":
        feature["geometry"]["coordinates"] = "@@"
    elif key in ("properties", "geometry"):
        feature[key] = "@@"
    else:
        feature["properties"][key] = "@@"
    other = copy.deepcopy(BASE[0])
    other["properties"]["id"] = "other"
    text = json.dumps({"type": "FeatureCollection", "features": [feature, other]})
    data = text.replace('"@@"', raw).encode()
    assert fast(data) == reference(data)


def test_what_msgspec_refuses_goes_to_the_reference_reader() -> None:
    """A lone surrogate escape and a number beyond float range are JSON Python reads."""
    for text in ('"name": "a\\ud800b"', '"age_min": 1e999'):
        feature = json.dumps(BASE[0]).replace('"name":', text + ', "x_name":', 1)
        data = ('{"type": "FeatureCollection", "features": [' + feature + "]}").encode()
        assert fast(data) == reference(data)
        assert reference(data)[0]


SPECIAL_TEXT = st.sampled_from([
    "", " ", "  x", "x ", "x\u00a0", "\u2003x", "x\x85", "a\x00b", "a\x7fb", "a\x1fb", "a\tb",
    "é", "Café", "José ", "x\n", "MEX", " MEX", "mex", "GTM", "MX-CHP", "GT-01", "MX-CHP\n",
    "CA-ON", "2024-02-29", "2023-02-29", "2024-1-01", "2999-01-01", "0999-12-31", "20240101",
    "2024-W01-1", "a@b.co", "a b@c.de", "a@b", "ñ@x.org", "http://x.y", "HTTPS://x.y/z",
    "ftp://x.y", "http://x y", "https://x.y/\"", "en", "es", "EN", "e", "engl", "en\n",
    "shelter", "health", "unaccompanied", "city", "address", "confidential", "country_wide",
    "yes", "unknown", "ngo", "x" * 5001, "a" * 129, "svc-1", "svc 1", "-x", "svc:1.a_b",
])
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-30, 30), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False, width=64), SPECIAL_TEXT,
    st.text(max_size=6), st.lists(SPECIAL_TEXT, max_size=3),
    st.lists(st.one_of(st.integers(), st.none(), SPECIAL_TEXT), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)
FIELDS = st.sampled_from([*schema.FIELD_NAMES, "last_verified", "distance_km", "extra"])
GEOMETRY = st.one_of(
    st.none(), st.just("missing"), st.just([]), st.just({"type": "Polygon"}),
    st.builds(lambda lon, lat, extra: {"type": "Point", "coordinates": [lon, lat, *extra]},
              st.one_of(st.floats(-200, 200), st.integers(-200, 200), st.just(-92.26)),
              st.one_of(st.floats(-100, 100), st.just(14.9), st.booleans()),
              st.lists(st.floats(0, 10), max_size=1)),
)


@st.composite
def collections(draw: Any) -> dict[str, Any]:
    """1-6 features made from the fixture's, each with a few fields changed."""
    features = []
    for k in range(draw(st.integers(1, 6))):
        feature = copy.deepcopy(BASE[draw(st.integers(0, len(BASE) - 1))])
        props = feature["properties"]
        props["id"] = draw(st.sampled_from([f"svc-{k}", "svc-0", f"svc-{k}"]))
        for _ in range(draw(st.integers(0, 3))):
            name = draw(FIELDS)
            if draw(st.booleans()) and name in props:
                del props[name]
            else:
                props[name] = draw(VALUES)
        geometry = draw(st.one_of(st.just("keep"), GEOMETRY))
        if geometry == "missing":
            del feature["geometry"]
        elif geometry != "keep":
            feature["geometry"] = geometry
        if draw(st.integers(0, 20)) == 0:
            feature = draw(st.sampled_from([{"type": "Feature"}, [], "x", {**feature, "id": 1},
                                            {**feature, "type": "feature"}]))
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(collections(), st.booleans())
def test_generated_features_give_the_same_issues(obj: dict[str, Any], ascii_only: bool) -> None:
    data = json.dumps(obj, ensure_ascii=ascii_only).encode("utf-8")
    issues, count = fast(data)
    assert (issues, count) == reference(data)
    if not model.errors(issues):
        same_registry(data)
