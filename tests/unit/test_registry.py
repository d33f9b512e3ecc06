"""Reading and validating registry files: one clear issue per problem, no traceback."""

from __future__ import annotations

import json

import pytest

from rcm_map.registry import load_registry
from rcm_map.registry import model as registry
from tests.conftest import write_collection


def messages(path):
    return [str(i) for i in registry.errors(registry.validate_file(path))]


def test_small_registry_is_valid(small_path):
    assert registry.errors(registry.validate_file(small_path)) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "file is empty"),
        (b"   \n", "file is empty"),
        (b'{"type": "FeatureCollection", "features": [', "invalid JSON at line 1"),
        ('{"type":"FeatureCollection","features":[]}'.encode("utf-16"), "not UTF-8"),
        (b'{"type":"FeatureCollection","features":[{"x": NaN}]}', "NaN is not valid JSON"),
        (b'{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        (b"[1, 2]", "not a GeoJSON FeatureCollection"),
        (b'{"type":"FeatureCollection","features":{}}', "'features' must be a list"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"type":"FeatureCollection","features":[], "n": ' + b"9" * 5000 + b"}",
         "invalid JSON"),
    ],
)
def test_unreadable_files(tmp_path, content, expected):
    path = tmp_path / "bad.geojson"
    path.write_bytes(content)
    found = messages(path)
    assert len(found) == 1
    assert expected in found[0] and str(path) in found[0]


def test_missing_file(tmp_path):
    found = messages(tmp_path / "nope.geojson")
    assert "cannot read file" in found[0]


def test_bom_is_accepted(tmp_path, small_path):
    path = tmp_path / "bom.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + small_path.read_bytes())
    assert messages(path) == []


def test_file_size_limit(tmp_path, small_path):
    with pytest.raises(registry.RegistryError, match="more than the limit"):
        registry.read_json_file(small_path, max_bytes=100)


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "must be a Point"),
        ({"type": "Point", "coordinates": []}, "must be [longitude, latitude]"),
        ({"type": "Point", "coordinates": ["-92", "14"]},
         "Expected a number for latitude, instead got: '14'"),
        ({"type": "Point", "coordinates": [None, 14.9]},
         "Expected a number for longitude, instead got: None"),
        ({"type": "Point", "coordinates": [-192.0, 14.9]},
         "Longitude must be between -180 and 180, instead got: -192.0"),
        ({"type": "Point", "coordinates": [14.9, 92.3]},
         "Latitude must be between -90 and 90, instead got: 92.3 (are latitude and "
         "longitude swapped?)"),
        ({"type": "GeometryCollection", "geometries": []}, "must be a Point"),
        ("POINT(1 2)", "must be a Point"),
    ],
)
def test_bad_geometries(tmp_path, small_features, geometry, expected):
    small_features[0]["geometry"] = geometry
    found = messages(write_collection(tmp_path / "g.geojson", small_features))
    assert len(found) == 1 and expected in found[0]
    assert "feature 0 (id 'mex-tap-shelter')" in found[0]


def test_every_problem_is_reported_at_once(tmp_path, small_features):
    small_features[0]["properties"]["country"] = "XXX"
    small_features[1]["properties"]["age_min"] = 40
    small_features[2]["properties"]["id"] = small_features[3]["properties"]["id"]
    small_features[4]["geometry"] = None
    small_features[4]["type"] = "Thing"
    found = messages(write_collection(tmp_path / "many.geojson", small_features))
    joined = "\n".join(found)
    assert "feature 0" in joined and "'country'" in joined
    assert "feature 1" in joined and "'age_min'" in joined
    assert joined.count("duplicate id") == 2
    assert "feature 4" in joined and "not a GeoJSON Feature" in joined


def test_point_outside_declared_country_and_swap_hint(tmp_path, small_features):
    small_features[0]["properties"].update(country="CAN", admin1="")  # Tapachula is in MEX
    found = messages(write_collection(tmp_path / "c.geojson", small_features))
    assert len(found) == 1
    assert "feature 0" in found[0] and "outside its country CAN" in found[0]


def test_swapped_lon_lat_inside_valid_range_is_caught(tmp_path, small_features):
    # Toronto is (-79.38, 43.65); swapped, (43.65, -79.38) is still a valid lon/lat pair.
    small_features[4]["geometry"]["coordinates"] = [43.6532, -79.3832]
    found = messages(write_collection(tmp_path / "s.geojson", small_features))
    assert any("feature 4" in m and "swapped" in m for m in found)


def test_load_registry_public_view_hides_confidential(small_path):
    reg = load_registry(small_path)
    row = reg.frame.set_index("id").loc["mex-tap-secret"]
    assert row["address"] == ""
    assert (round(row.geometry.x, 4), round(row.geometry.y, 4)) != (-92.29, 14.92)
    from rcm_map.core.geo import haversine_km

    assert haversine_km(14.92, -92.29, row.geometry.y, row.geometry.x) >= 5.0


def test_load_registry_refuses_invalid_file(tmp_path, small_features):
    small_features[0]["properties"]["service_types"] = ["spa"]
    path = write_collection(tmp_path / "bad.geojson", small_features)
    with pytest.raises(registry.RegistryError) as info:
        load_registry(path)
    assert "'service_types'" in str(info.value)


def test_env_var_overrides_default(monkeypatch, small_path):
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(small_path))
    assert registry.default_registry_path() == small_path


def test_frame_is_not_mutated_by_public_view(small_path):
    features = json.loads(small_path.read_text())["features"]
    frame = registry.frame_from_features(features)
    before = frame.copy()
    registry.public_view(frame)
    assert frame.equals(before)
