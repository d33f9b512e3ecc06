"""Evidence rows: reading, validation, merging and filling a service's contacts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rcm_map.formats import evidence
from rcm_map.formats.evidence import Evidence, apply_evidence, merge, read_evidence

TODAY = dt.date(2026, 12, 1)
HEADER = "service_id,field,value,source_url,page_date\n"


def feature(**props: Any) -> dict[str, Any]:
    """A minimal located service with empty contacts."""
    base = {"id": "mex-a-00000000", "country": "MEX", "admin1": "MX-CHP",
            "location_precision": "city", "phones": ["+52 1"], "email": "old@example.org",
            "website": "", "address": "", "hours": "", "referral": "", "eligibility": "",
            "age_min": None, "age_max": None, "source_date": "2020-01-01"}
    base.update(props)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-92.26, 14.9]},
            "properties": base}


def row(field: str, value: str, url: str = "https://a.example.org", date: str = "",
        fid: str = "mex-a-00000000") -> Evidence:
    return Evidence(fid, field, value, url, date)


@pytest.mark.parametrize(("line", "column"), [
    ("x,fax,1,https://a.org,", "field"),
    ("x,phone,12,https://a.org,", "value"),  # fewer than 3 digits
    ("x,email,not-an-email,https://a.org,", "value"),
    ("x,website,www.example.org,https://a.org,", "value"),
    ("x,age_min,26,https://a.org,", "value"),
    ("x,location,\"14.9\",https://a.org,", "value"),
    ("x,location,\"95,-92\",https://a.org,", "value"),
    ("x,phone,911 000,ftp://a.org,", "source_url"),
    ("x,phone,911 000,https://a.org,2026-12-02", "page_date"),  # future
    ("x,phone,911 000,https://a.org,2022-13", "page_date"),
    (",phone,911 000,https://a.org,", "service_id"),
])
def test_bad_rows_are_reported_with_row_column_and_value(line: str, column: str) -> None:
    rows, issues = read_evidence("parts/x-evidence.csv", HEADER + line + "\n", today=TODAY)
    assert rows == []
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.file, issue.index, issue.field) == ("parts/x-evidence.csv", 2, column)
    assert "parts/x-evidence.csv: row 2" in str(issue)


def test_partial_page_dates_are_kept_as_the_page_states_them() -> None:
    text = HEADER + "x,phone,911 000,https://a.org,2022\nx,phone,911 001,https://a.org,2022-07\n"
    rows, issues = read_evidence("e.csv", text, today=TODAY)
    assert issues == [] and [r.page_date for r in rows] == ["2022", "2022-07"]


def test_wrong_header_and_wrong_cell_count() -> None:
    assert read_evidence("e.csv", "id,field,value\n")[1][0].field == "header"
    rows, issues = read_evidence("e.csv", HEADER + "x,hours,Mon, Tue,https://a.org,\n")
    assert rows == [] and "quote values that contain commas" in issues[0].message


def test_merge_sorts_and_drops_exact_duplicates() -> None:
    a, b = row("phone", "2 222"), row("email", "a@example.org")
    assert merge([a, b, a]) == [b, a]


def test_contacts_come_from_evidence_only() -> None:
    out, report = apply_evidence([feature()], [row("phone", "962 000 0000")])
    props = out[0]["properties"]
    assert props["phones"] == ["962 000 0000"]
    assert props["email"] == ""  # the old value had no evidence row
    assert report.applied == 1 and report.conflicts == []


def test_input_features_are_not_mutated() -> None:
    original = feature()
    apply_evidence([original], [row("email", "new@example.org")])
    assert original["properties"]["email"] == "old@example.org"


def test_conflict_takes_the_newest_page_and_is_reported() -> None:
    rows = [row("hours", "9-17", "https://old.example.org", "2019-01-01"),
            row("hours", "8-16", "https://new.example.org", "2025-03-01")]
    out, report = apply_evidence([feature()], rows)
    assert out[0]["properties"]["hours"] == "8-16"
    [conflict] = report.conflicts
    assert conflict.field == "hours" and conflict.chosen == "8-16"
    assert "'9-17' (2019-01-01, https://old.example.org)" in str(conflict)


def test_source_date_is_the_newest_full_page_date() -> None:
    rows = [row("phone", "111 111", date="2024-05-02"), row("phone", "222 222", date="2025")]
    out, _ = apply_evidence([feature()], rows)
    assert out[0]["properties"]["source_date"] == "2024-05-02"


def test_location_moves_the_point_and_sets_address_precision() -> None:
    out, report = apply_evidence([feature()], [row("location", "14.6774,-92.1404")])
    assert out[0]["geometry"]["coordinates"] == [-92.1404, 14.6774]
    assert out[0]["properties"]["location_precision"] == "address"
    assert report.issues == []


def test_location_outside_the_country_is_refused() -> None:
    out, report = apply_evidence([feature()], [row("location", "9.0,-79.5")])  # Panama
    assert out[0]["geometry"]["coordinates"] == [-92.26, 14.9]
    assert report.issues[0].field == "location"


def test_confidential_services_never_get_an_address_or_a_point() -> None:
    rows = [row("address", "Calle 1"), row("location", "14.6774,-92.1404"),
            row("phone", "962 111 1111")]
    out, report = apply_evidence([feature(location_precision="confidential")], rows)
    props = out[0]["properties"]
    assert props["address"] == "" and out[0]["geometry"]["coordinates"] == [-92.26, 14.9]
    assert props["phones"] == ["962 111 1111"] and report.withheld == 2


def test_ages_and_inverted_ages() -> None:
    out, _ = apply_evidence([feature()], [row("age_min", "13"), row("age_max", "18")])
    assert (out[0]["properties"]["age_min"], out[0]["properties"]["age_max"]) == (13, 18)
    out, report = apply_evidence([feature()], [row("age_min", "15"), row("age_max", "12")])
    assert out[0]["properties"]["age_min"] is None and report.issues[0].field == "age_min"


def test_rows_for_unknown_services_are_reported() -> None:
    _, report = apply_evidence([feature()], [row("phone", "111 111", fid="gtm-nope-1")])
    assert report.issues[0].feature_id == "gtm-nope-1"


def test_evidence_csv_is_deterministic_text() -> None:
    data = evidence.evidence_csv([row("hours", "Mon, Tue 9-17")])
    assert data == (HEADER + 'mex-a-00000000,hours,"Mon, Tue 9-17",https://a.example.org,\n'
                    ).encode()
