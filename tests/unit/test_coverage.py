"""Coverage counts and gaps on the 6-service fixture (tests/data/small.geojson)."""

from __future__ import annotations

import pandas as pd
import pytest
from coveragerows import counted_by_rows

from rcm_map.registry import load_registry
from rcm_map.registry.reading import DEFAULT_REGISTRY
from rcm_map.search import coverage
from rcm_map.search.coverage import Unit

UNITS = [Unit("MX-CHP", "MEX", "Chiapas"), Unit("MX-OAX", "MEX", "Oaxaca"),
         Unit("GT-SM", "GTM", "San Marcos"), Unit("HN-CR", "HND", "Cortés"),
         Unit("CA-ON", "CAN", "Ontario")]


@pytest.fixture
def frame(small_path):
    """The public registry frame of small.geojson."""
    return load_registry(small_path).frame


def test_country_counts(frame):
    table = coverage.coverage_table(frame, "country")
    assert table.loc["MEX", "shelter"] == 2
    assert table.loc["MEX", "total"] == 3
    assert table.loc["GTM", "health"] == 1
    assert table.loc["HND", "return_reception"] == 1  # country-wide services count too
    assert list(table.columns[:2]) == ["child_protection_authority", "shelter"]


def test_admin1_counts_and_age_filter(frame):
    table = coverage.coverage_table(frame, "admin1", age=15)
    # The confidential shelter serves 0-11: not for a 15-year-old.
    assert table.loc[("MEX", "MX-CHP"), "shelter"] == 1
    assert table.loc[("MEX", "MX-CHP"), "child_protection_authority"] == 1  # open ages
    assert ("HND", "") in table.index  # no admin-1: counted at country level only


def test_band_table(frame):
    table = coverage.band_table(frame, "admin1", "shelter")
    assert table.loc[("MEX", "MX-CHP")].to_dict() == {"0-5": 1, "6-11": 1, "12-17": 1}
    assert table.loc[("GTM", "GT-SM")].to_dict() == {"0-5": 1, "6-11": 1, "12-17": 1}


def test_admin1_counts_for_choropleth(frame):
    assert coverage.admin1_counts(frame, "shelter", age_band="0-5") == {"GT-SM": 1, "MX-CHP": 1}
    assert coverage.admin1_counts(frame, "legal_assistance") == {"CA-ON": 1, "MX-CHP": 1}


def test_gaps(frame):
    found = coverage.gaps(frame, UNITS, "shelter", age=15)
    assert list(found["admin1"]) == ["CA-ON", "HN-CR", "MX-OAX"]
    assert set(found.columns) == {"country", "admin1", "name", "countrywide"}


def test_gap_reports_countrywide_services(frame):
    found = coverage.gaps(frame, UNITS, "return_reception")
    assert found.set_index("admin1").loc["HN-CR", "countrywide"] == 1
    assert found.set_index("admin1").loc["MX-CHP", "countrywide"] == 0


def test_gaps_by_country(frame):
    found = coverage.gaps(frame, UNITS, "shelter", countries=["MEX"])
    assert list(found["admin1"]) == ["MX-OAX"]


def test_inputs_are_not_modified(frame):
    before = frame.copy()
    coverage.coverage_table(frame, "admin1", age_band="0-5")
    coverage.gaps(frame, UNITS, "shelter")
    pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(before))


def test_empty_result_has_the_columns(frame):
    table = coverage.coverage_table(frame.iloc[0:0], "country")
    assert "total" in table.columns and table.empty


@pytest.mark.parametrize("call", [
    lambda f: coverage.coverage_table(f, "city"),
    lambda f: coverage.gaps(f, UNITS, "pizza"),
    lambda f: coverage.age_mask(f, age_band="18-99"),
    lambda f: coverage.band_table(f, "admin1", "pizza"),
])
def test_bad_arguments_raise_with_the_value(frame, call):
    with pytest.raises(ValueError, match="instead got"):
        call(frame)


# ------------------------------------------------------------------ the tables as HTML


def test_html_table_escapes_heads_rows_and_formats_numbers() -> None:
    from rcm_map.render.tables import html_table
    from tests.tablehtml import _Cells

    frame = pd.DataFrame({"País": ["<img src=x onerror=alert(1)>", "Chiapas \"&\" Co"],
                          "Total": [1234567, None]})
    frame["Total"] = frame["Total"].astype("Int64")
    text = html_table(frame, 'Gaps "<b>"', number=lambda v: f"{v:,}".replace(",", "\u202f"))
    assert "<img" not in text and "<b>" not in text
    assert 'aria-label="Gaps &quot;&lt;b&gt;&quot;"' in text
    assert '<th scope="row">&lt;img src=x onerror=alert(1)&gt;</th>' in text
    assert '<td class="rcm-num">1\u202f234\u202f567</td>' in text
    parser = _Cells()
    parser.feed(text)
    assert parser.tables == [[["País", "Total"],
                              ["<img src=x onerror=alert(1)>", "1\u202f234\u202f567"],
                              ['Chiapas "&" Co', ""]]]


# ------------------------------------------------------------------ against an oracle


@pytest.mark.parametrize(("level", "age", "band"), [
    ("country", None, None), ("admin1", None, None), ("admin1", 15, None),
    ("admin1", 3, None), ("country", None, "0-5"), ("admin1", None, "12-17"),
])
def test_tables_of_the_bundled_registry_match_counting_row_by_row(level, age, band) -> None:
    frame = load_registry(DEFAULT_REGISTRY).frame
    table = coverage.coverage_table(frame, level, age=age, age_band=band)
    assert table["total"].sum() > 0
    pd.testing.assert_frame_equal(table, counted_by_rows(frame, level, age, band),
                                  check_dtype=False, check_index_type=False)


@pytest.mark.parametrize(("service", "age", "band"), [
    ("shelter", None, None), ("shelter", 15, None), ("legal_assistance", None, "0-5"),
    ("return_reception", None, None), ("health", 8, None),
])
def test_gaps_of_the_bundled_registry_match_counting_row_by_row(service, age, band) -> None:
    from rcm_map.core.boundaries import admin1_units

    frame = load_registry(DEFAULT_REGISTRY).frame
    units = [Unit(u.code, u.country, u.name) for u in admin1_units()]
    rows = coverage.service_rows(frame[coverage.age_mask(frame, age, band)])
    rows = rows[rows["service_type"] == service]
    covered = set(rows.loc[rows["admin1"] != "", "admin1"])
    wide = rows[~rows["located"]].groupby("country")["id"].nunique().to_dict()
    found = coverage.gaps(frame, units, service, age=age, age_band=band)
    assert set(found["admin1"]) == {u.code for u in units if u.code not in covered}
    assert 0 < len(found) < len(units)
    assert {r.country: r.countrywide for r in found.itertuples()} == {
        u.country: wide.get(u.country, 0) for u in units if u.code not in covered}
