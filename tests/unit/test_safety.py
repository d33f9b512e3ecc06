"""Attack the shared escaping functions directly."""

from __future__ import annotations

import csv
import html
import io
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Template

from rcm_map.core.geo import haversine_km
from rcm_map.core.safety import (
    CSV_TRIGGERS,
    DISTANCE_BANDS,
    PUBLIC_MIN_KM,
    distance_band,
    distance_band_label,
    escape_html,
    json_for_script,
    mailto_href,
    neutralize_csv_cell,
    public_point,
    restore_csv_cell,
    safe_url,
    tel_href,
)

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "${alert(1)}",
    "`);alert(1);(`",
    "</script><script>alert(1)</script>",
    "{{7*191}}",
    "{{ 7*191 }}",
    "{% if true %}X{% endif %}",
    "{# c #}",
    "{{ lipsum.__globals__['os'].getpid() }}",
    "' \" onmouseover=alert(1) x='",
    "javascript:alert(1)",
    "\u202eRTL override\u200f",
    "NUL\x00byte",
    "back\\slash \\u003c",
    "100% <!-- -->",
    "line\u2028sep\u2029para",
]
JINJA_OPENERS = ("{{", "{%", "{#")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_html_leaves_no_active_character(payload: str) -> None:
    out = escape_html(payload)
    for ch in "<>\"'`${}%\\\x00":
        assert ch not in out
    assert html.unescape(out) == payload.replace("\x00", "\ufffd")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_html_is_inert_as_jinja_source(payload: str) -> None:
    out = escape_html(payload)
    assert Template(out).render() == out


def test_escape_html_of_missing_values() -> None:
    assert escape_html(None) == ""
    assert escape_html(float("nan")) == ""
    assert escape_html(42) == "42"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_json_for_script_round_trips_and_hides_everything(payload: str) -> None:
    obj = [{"name": payload, "n": 1, "nested": {"list": [payload, None, True]}}]
    out = json_for_script(obj)
    assert json.loads(out) == obj
    for ch in "<>&'`$%\u2028\u2029":
        assert ch not in out
    assert not any(o in out for o in JINJA_OPENERS)
    assert Template(out).render() == out


@settings(max_examples=150, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(), kids, max_size=4),
    max_leaves=20,
))
def test_json_for_script_any_data(obj: object) -> None:
    out = json_for_script(obj)
    assert json.loads(out) == obj
    assert "</" not in out and "<!--" not in out
    assert not any(o in out for o in JINJA_OPENERS)


def test_json_for_script_converts_numpy_nan_and_dates() -> None:
    import datetime as dt

    out = json.loads(json_for_script(
        {"a": np.int64(3), "b": np.float64("nan"), "c": np.array([1.5, 2]),
         "d": dt.date(2025, 1, 2), "e": math.inf}
    ))
    assert out == {"a": 3, "b": None, "c": [1.5, 2.0], "d": "2025-01-02", "e": None}


def test_json_for_script_rejects_unknown_objects() -> None:
    with pytest.raises(TypeError, match="object"):
        json_for_script({"x": object()})


@pytest.mark.parametrize("url", [
    "https://example.org/a?b=c#d", "http://example.org", "HTTPS://EXAMPLE.ORG/x",
])
def test_safe_url_keeps_web_links(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
    "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox", "//evil.example/x", "/relative", "https://", "http:///x",
    "https://example.org/\"onmouseover=alert(1)", "https://example.org/<x>",
    "https://example.org/ space", "ftp://example.org", "", None, float("nan"),
    "https://exa mple.org", "https://example.org/`x`", "mailto:a@b.org",
])
def test_safe_url_rejects_everything_else(url: object) -> None:
    assert safe_url(url) == ""


@pytest.mark.parametrize(("phone", "href"), [
    ("+52 962 123 4567", "tel:+529621234567"),
    ("(502) 2411-1111 ext. 12", "tel:50224111111"),
    ("800-123-4567, 800-765-4321", "tel:8001234567"),
    ("javascript:alert(1)", ""),
    ("<img src=x onerror=alert(1)>", ""),
    ("12", ""),
    (None, ""),
    ("+1 (613) 555-0199\u202e", "tel:+16135550199"),
])
def test_tel_href(phone: object, href: str) -> None:
    assert tel_href(phone) == href


@pytest.mark.parametrize(("email", "href"), [
    ("info@example.org", "mailto:info@example.org"),
    ("a.b+c@sub.example.org", "mailto:a.b+c@sub.example.org"),
    ("x@y", ""), ("<a@b.org>", ""), ("a@b.org?subject=x", ""),
    ("a@b.org\nbcc:c@d.org", ""), ("javascript:alert(1)//@b.org", ""), ("", ""),
])
def test_mailto_href(email: str, href: str) -> None:
    assert mailto_href(email) == href


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+52 962 123 4567", "'+52 962 123 4567"),
    ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("'=already", "''=already"), ("'quoted", "'quoted"), ("plain", "plain"), ("", ""),
    (12, 12), (-3.5, -3.5), (None, None), (True, True),
])
def test_neutralize_csv_cell(cell: object, written: object) -> None:
    assert neutralize_csv_cell(cell) == written
    assert restore_csv_cell(neutralize_csv_cell(cell)) == cell


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "a", "1", " "])))
def test_csv_round_trip_is_exact(text: str) -> None:
    written = neutralize_csv_cell(text)
    assert written[:1] not in CSV_TRIGGERS or written == ""
    assert restore_csv_cell(written) == text


def test_phone_survives_csv_export_and_import() -> None:
    phones = ["+52 962 123 4567", "-", "=1+1", "'+1 613", "@home"]
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralize_csv_cell(p) for p in phones])
    row = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert all(cell[:1] not in CSV_TRIGGERS for cell in row)
    assert [restore_csv_cell(c) for c in row] == phones


@pytest.mark.parametrize(("km", "code"), [
    (0, "lt_5"), (4.999, "lt_5"), (5, "5_10"), (9.9, "5_10"), (10, "10_25"),
    (25, "25_50"), (50, "50_100"), (99.99, "50_100"), (100, "gt_100"), (20000, "gt_100"),
])
def test_distance_band(km: float, code: str) -> None:
    assert distance_band(km) == code


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "5"])
def test_distance_band_rejects_bad_values(bad: object) -> None:
    with pytest.raises(ValueError, match="instead got"):
        distance_band(bad)  # type: ignore[arg-type]


def test_distance_band_labels() -> None:
    assert [distance_band_label(c, "es") for c, _ in DISTANCE_BANDS] == [
        "< 5 km", "5-10 km", "10-25 km", "25-50 km", "50-100 km", "> 100 km"]
    with pytest.raises(ValueError, match="lt_5"):
        distance_band_label("nope")


def _on_grid(value: float) -> bool:
    return abs(value * 10 - 0.5 - round(value * 10 - 0.5)) < 1e-6


@settings(max_examples=400, deadline=None)
@given(st.floats(-170, -50), st.floats(5, 84))
def test_public_point_in_the_region(lon: float, lat: float) -> None:
    plon, plat = public_point(lon, lat)
    d = haversine_km(lat, lon, plat, plon)
    # Far only on an arctic island with no interior cell near it (tests/unit/test_standin.py).
    assert PUBLIC_MIN_KM <= d
    assert _on_grid(plon) and _on_grid(plat)
    assert public_point(lon, lat) == (plon, plat)


@settings(max_examples=200, deadline=None)
@given(st.floats(-180, 180), st.floats(-89, 89))
def test_public_point_anywhere(lon: float, lat: float) -> None:
    plon, plat = public_point(lon, lat)
    assert haversine_km(lat, lon, plat, plon) >= PUBLIC_MIN_KM
    assert -180 <= plon < 180 and -90 < plat < 90


def test_public_point_is_shared_by_nearby_sites() -> None:
    """Sites a few hundred metres apart usually share one point: no fine position leaks."""
    points = {public_point(-92.2601 + dx, 14.9042 + dy)
              for dx in (0, 0.002, 0.004) for dy in (0, 0.002, 0.004)}
    assert len(points) <= 3


@pytest.mark.parametrize("bad", [(200, 0), (0, 95), (float("nan"), 0), ("1", 2)])
def test_public_point_rejects_bad_coordinates(bad: tuple[object, object]) -> None:
    with pytest.raises(ValueError, match="instead got"):
        public_point(*bad)  # type: ignore[arg-type]
