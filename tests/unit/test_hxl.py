"""HXL-tagged CSV: a hashtag row under our CSV header; any HXL CSV imports."""

from __future__ import annotations

import csv
import io

import pytest

from rcm_map.formats.hxl import TAGS, column_for, export_hxl, import_hxl, parse_tag
from rcm_map.registry.model import frame_from_features

HEADER = "id,name,organization,organization_type,service_types,country,location_precision,source"
TAG_ROW = ("#meta+id,#service+name,#org+name,#org+type,#service+type,#country+code+v_iso3,"
           "#geo+precision,#meta+source")
ROW = "x1,Casa,Org,ngo,shelter;health,MEX,country_wide,test"  # no #geo columns


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_export_has_bom_header_then_one_tag_per_column(small_features):
    data = export_hxl(frame_from_features(small_features))
    assert data.startswith(b"\xef\xbb\xbf")
    header, tags, *body = rows_of(data)
    assert tags == [TAGS[c] for c in header]
    assert all(parse_tag(t) for t in tags)
    assert len(body) == len(small_features)
    assert header[-2:] == ["lon", "lat"]


def test_export_neutralises_text_and_import_restores_it(small_features):
    small_features[0]["properties"]["name"] = "=cmd|' /C calc'!A0"
    data = export_hxl(frame_from_features(small_features))
    body = rows_of(data)[2:]
    first = dict(zip(rows_of(data)[0], body[0], strict=True))
    assert first["name"].startswith("'=") and first["phones"] == "'+52 962 000 0000"
    assert first["lon"] == "-92.2667"  # a number, not neutralised
    features, issues = import_hxl(data)
    props = {f["properties"]["id"]: f["properties"] for f in features}["mex-tap-shelter"]
    assert issues == []
    assert props["name"] == "=cmd|' /C calc'!A0" and props["phones"] == ["+52 962 000 0000"]


@pytest.mark.parametrize(("tag", "column"), [
    ("#geo+lat", "lat"), ("#GEO +Lat", "lat"), ("#geo+lon", "lon"),
    ("#affected+max+age", "age_max"), ("#Affected+Age+Min", "age_min"),
    ("#country+v_iso3+code", "country"), ("#service+type+list", "service_types"),
    ("#org+name+es", "organization"), ("#contact+phone", "phones"),
    ("#date+source", "source_date"), ("#date+verified+network", "verified_on"),
    ("#date+verified", None),  # the old source-date tag is never read as a verification
    ("#affected+type", "populations"),
    ("#meta+lang", "languages"), ("#adm1+code", "admin1"), ("#loc+name", "city"),
    ("#sector", None), ("not a tag", None), ("#org", None),
])
def test_tags_match_whatever_the_case_and_attribute_order(tag, column):
    assert column_for(tag) == column


def test_import_finds_the_tag_row_below_other_headers_and_ignores_untagged_columns():
    text = ("Directorio de servicios,,,,,,,,\n"
            f"{HEADER},notes\n{TAG_ROW},\n{ROW},free text\n").replace(
        "#meta+id", "#META +ID")
    features, issues = import_hxl(text.encode())
    assert issues == []
    props = features[0]["properties"]
    assert props["id"] == "x1" and props["service_types"] == ["shelter", "health"]
    assert features[0]["geometry"] is None  # no #geo columns: a country-wide service


def test_columns_in_any_order_and_unknown_tags_are_reported_as_warnings():
    text = ("#geo+lat,#geo+lon,#sector,#meta+source,#geo+precision,#country+code+v_iso3,"
            "#service+type,#org+type,#org+name,#service+name,#meta+id\n"
            "14.9,-92.2667,x,test,city,MEX,shelter,ngo,Org,Casa,x1\n")
    features, issues = import_hxl(text.encode())
    assert features[0]["geometry"]["coordinates"] == [-92.2667, 14.9]
    assert [(i.severity, i.value) for i in issues] == [("warning", "#sector")]


@pytest.mark.parametrize(("column", "value", "field"), [
    ("#contact+url", "javascript:alert(1)", "website"),
    ("#contact+url", "ftp://example.org", "website"),
    ("#geo+lat", "100", "geometry.coordinates"),
    ("#affected+age+min", "12.5", "age_min"),
    ("#affected+type", "unaccompanied;unicorns", "populations"),
    ("#contact+email", "nobody", "email"),
])
def test_bad_values_reject_the_row_naming_line_field_and_value(column, value, field):
    lon_tag, lon, empty = (",#geo+lon", ",-92.2", ",") if column == "#geo+lat" else ("", "", "")
    row = ROW.replace("country_wide", "city") if column == "#geo+lat" else ROW  # has a point
    text = (f"{TAG_ROW},{column}{lon_tag}\n{row},{value}{lon}\n"
            f"{ROW.replace('x1', 'x2')},{empty}\n")
    features, issues = import_hxl(text.encode(), file="partners.csv")
    assert [f["properties"]["id"] for f in features] == ["x2"]
    (error,) = [i for i in issues if i.severity == "error"]
    assert (error.file, error.index, error.feature_id, error.field) == (
        "partners.csv", 2, "x1", field)
    assert str(error).startswith("partners.csv: row 2 (id 'x1')")


def test_one_coordinate_without_the_other_is_an_error():
    text = f"{TAG_ROW},#geo+lat,#geo+lon\n{ROW},14.9,\n"
    features, issues = import_hxl(text.encode())
    assert features == [] and issues[0].field == "geometry.coordinates"


@pytest.mark.parametrize(("data", "start"), [
    (b"", "no HXL hashtag row"),
    (b"id,name\nx,y\n", "no HXL hashtag row"),
    (b"\xff\xfe\x00i", "cannot read the file"),
    (b"#meta+id,#org+name\nx,y\n", "required columns missing"),
])
def test_unusable_files_are_reported_not_raised(data, start):
    features, issues = import_hxl(data)
    assert features == []
    assert issues[0].message.startswith(start)


def test_missing_file_is_reported(tmp_path):
    features, issues = import_hxl(tmp_path / "nope.csv")
    assert features == [] and "cannot read" in issues[0].message


def test_search_results_with_distances_export_and_import(small_path):
    from rcm_map.registry import load_registry
    from rcm_map.search.query import Query, search

    located = search(load_registry(small_path), Query(near=(14.9, -92.26))).located
    data = export_hxl(located)
    assert "#meta+distance+km" in rows_of(data)[1]
    features, issues = import_hxl(data)
    assert len(features) == len(located) and issues == []
