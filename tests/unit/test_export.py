"""CSV and GeoJSON export: Excel-friendly, injection-safe, and loads back unchanged."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcm_map.core import safety
from rcm_map.formats import export
from rcm_map.registry import load_registry
from rcm_map.registry.model import Registry, errors, frame_from_features, validate_collection
from rcm_map.search.query import Query, search


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_bom_lists_joined_and_lon_lat(small_path):
    located = search(load_registry(small_path), Query(near=(14.9, -92.26))).located
    rows = read_csv(export.to_csv_bytes(located))
    first = rows[0]
    assert first["id"] == "mex-tap-dif"
    assert first["service_types"] == "child_protection_authority;legal_assistance"
    assert float(first["lon"]) == pytest.approx(-92.263)
    assert float(first["distance_km"]) == pytest.approx(located.iloc[0]["distance_km"])
    assert "Procuraduría" in first["name"]


def test_csv_confidential_rows_carry_only_a_band(small_path):
    located = search(load_registry(small_path), Query(near=(14.9, -92.26))).located
    rows = {r["id"]: r for r in read_csv(export.to_csv_bytes(located))}
    secret = rows["mex-tap-secret"]
    assert secret["distance_km"] == "" and secret["distance_band"]
    assert secret["address"] == ""
    assert "Calle Secreta" not in export.to_csv_bytes(located).decode("utf-8")


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+52 962 000", "'+52 962 000"),
     ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     ("plain", "plain"), ("'=x", "''=x"), ("'plain", "'plain"),
     ("''x", "''x"), ("''=x", "'''=x"), ("'", "'")],
)
def test_formula_cells_are_neutralised_and_restored(value, cell):
    assert safety.neutralize_csv_cell(value) == cell
    assert safety.restore_csv_cell(cell) == value


def test_numbers_stay_numbers_in_csv(small_path):
    reg = load_registry(small_path)
    rows = read_csv(export.to_csv_bytes(search(reg, Query(near=(14.9, -92.26))).located))
    shelter = next(r for r in rows if r["id"] == "mex-tap-shelter")
    assert shelter["age_min"] == "12" and shelter["lat"] == "14.9"
    assert shelter["phones"] == "'+52 962 000 0000"


def test_geojson_is_rfc7946_and_carries_distance(small_path):
    located = search(load_registry(small_path), Query(near=(14.9, -92.26), limit=2)).located
    data = json.loads(export.to_geojson_bytes(located))
    assert "crs" not in data
    assert [f["properties"]["id"] for f in data["features"]] == list(located["id"])
    assert all("distance_km" in f["properties"] for f in data["features"])
    assert data["features"][0]["geometry"]["coordinates"] == [-92.263, 14.905]


def test_write_geojson_is_deterministic_and_sorted(tmp_path, small_features):
    a, b = tmp_path / "a.geojson", tmp_path / "b.geojson"
    export.write_geojson(small_features, a)
    export.write_geojson(list(reversed(small_features)), b)
    assert a.read_bytes() == b.read_bytes()
    ids = [f["properties"]["id"] for f in json.loads(a.read_text())["features"]]
    assert ids == sorted(ids)


def _roundtrip(features, tmp_path):
    frame = frame_from_features(features)
    path = tmp_path / "out.geojson"
    export.write_geojson(frame, path)
    obj = json.loads(path.read_text(encoding="utf-8"))
    assert errors(validate_collection(obj, check_countries=False)) == []
    again = frame_from_features(obj["features"])
    key = frame.sort_values("id").reset_index(drop=True)
    assert again.reset_index(drop=True).equals(key)


def test_export_then_load_gives_the_same_registry(tmp_path, small_features):
    _roundtrip(small_features, tmp_path)


# Control characters are refused by validation (issue 12), so the strategy leaves them out.
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(str.strip)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(text, text, st.floats(-93, -77), st.floats(7, 20),
                          st.lists(text.filter(bool), max_size=3, unique=True)),
                min_size=1, max_size=8))
def test_export_then_load_roundtrip_property(tmp_path_factory, rows):
    features = []
    for i, (name, city, lon, lat, phones) in enumerate(rows):
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [round(lon, 6),
                                                                       round(lat, 6)]},
                         "properties": {"id": f"id{i}", "name": name or "n",
                                        "organization": "o", "organization_type": "other",
                                        "service_types": ["health"], "country": "GTM",
                                        "city": city, "phones": phones,
                                        "location_precision": "address", "source": "s"}})
    _roundtrip(features, tmp_path_factory.mktemp("rt"))


def test_registry_is_rebuilt_identically_from_export(tmp_path, small_path):
    reg = load_registry(small_path)
    path = tmp_path / "again.geojson"
    export.write_geojson(reg.frame, path)
    again = Registry.from_frame(frame_from_features(json.loads(path.read_text())["features"]),
                                public=False)
    assert again.frame.sort_values("id").reset_index(drop=True).equals(
        reg.frame.sort_values("id").reset_index(drop=True))
