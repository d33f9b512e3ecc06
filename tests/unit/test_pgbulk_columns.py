"""Bulk seeding's column-wise helpers give what the row-by-row functions give."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

from rcm_map.core.text import fold
from rcm_map.store.pgbulk import _json_objects, _points, fold_many

TEXTS = [
    "  Tecún  Umán (Ayutla) ", "", "   ", "ÉCOLE straße İstanbul ǅ ﬁ ① Ω ÅNGSTRÖM",
    "a\u00a0b\u2003c\u3000d", "x’y—z / «Casa»", "Ꭰᏸ ꭰ", "ñ\u0303 e\u0301 \u0301lone",
    "tab\there\nnew\x0bline\x1cfs", "Señora-de_la.Paz,;:/()'\"", "ÀÉÎÕÜ àéîõü Ćĉ",
    "Ω\u2126 \ufb03 \u2460 ¼", "Dz ǲ ǳ", "ΣΑΣ ὈΔΥΣΣΕΎΣ", "ﾀﾞ ｶ", "Ⅻ ⅻ", "naïve café",
]


def test_fold_many_equals_fold() -> None:
    assert fold_many(TEXTS) == [fold(t) for t in TEXTS]
    assert fold_many([]) == []
    assert fold_many(["only one É"]) == [fold("only one É")]


def test_fold_many_with_the_separator_inside_a_text_folds_one_by_one() -> None:
    texts = ["a\x00b", "Ñ"]
    assert fold_many(texts) == [fold(t) for t in texts]


def test_fold_many_on_every_bmp_character() -> None:
    """Each character of the Basic Multilingual Plane alone and between letters."""
    chars = [chr(c) for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF]
    texts = chars + [f"A{c}b {c}" for c in chars]
    assert fold_many(texts) == [fold(t) for t in texts]


def test_json_objects_equal_json_dumps() -> None:
    frame = pd.DataFrame({
        "id": ["a", "b\"q", "c\\"], "name": ["Ñandú", "", "línea\nnueva"],
        "langs": pd.Series([["es", "en"], [], ["es"]], dtype=object),
        "age": pd.array([None, 3, 17], dtype="Int64"),
    })
    got = [json.loads(s) for s in _json_objects(frame).to_pylist()]
    assert got == [{"id": "a", "name": "Ñandú", "langs": ["es", "en"], "age": None},
                   {"id": "b\"q", "name": "", "langs": [], "age": 3},
                   {"id": "c\\", "name": "línea\nnueva", "langs": ["es"], "age": 17}]


def test_json_objects_escape_every_control_character() -> None:
    """Tab, CR and LF pass validation and are escaped by Arrow; any other control
    character (refused by validation) still gives valid JSON, by `json.dumps`."""
    texts = ["tab\there\r\n", "quote \" back \\ \u2028 ☃", "bell\x07 fs\x1c", ""]
    for chosen in (texts[:2], texts):
        frame = pd.DataFrame({"t": chosen, "l": pd.Series([[t] for t in chosen], dtype=object)})
        got = [json.loads(s) for s in _json_objects(frame).to_pylist()]
        assert got == [{"t": t, "l": [t]} for t in chosen]


@pytest.mark.parametrize("lon,lat", [(-92.26, 14.9), (-80.488165, 7.270979), (0.0, -0.0)])
def test_points_are_hex_ewkb_of_the_exact_coordinates(lon: float, lat: float) -> None:
    out = _points(np.array([lon, np.nan]), np.array([lat, np.nan]))
    assert out.null_count == 1 and out.type == pa.string()
    point = shapely.from_wkb(bytes.fromhex(out[0].as_py()))
    assert (point.x, point.y) == (lon, lat)
    assert shapely.get_srid(point) == 4326
