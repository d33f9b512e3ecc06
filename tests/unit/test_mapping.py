"""The map builder: offline assets, one escaped payload, no Jinja evaluation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import pytest
from branca.element import MacroElement
from shapely.geometry import Point, box

from rcm_map.core.schema import SERVICE_TYPES
from rcm_map.render import maplayer
from rcm_map.render.mappayload import MARKER_PALETTE, services_payload
from rcm_map.render.mapping import (
    assert_offline,
    build_map,
    build_map_parts,
    element_asset_urls,
    external_urls,
    map_payload_bytes,
    render_html,
)
from rcm_map.render.outlines import boundaries_payload

TEMPLATE_PAYLOADS = (
    "{{ 7*191 }}",
    "{% if true %}X{% endif %}",
    "{# c #}",
    "{{ lipsum.__globals__['os'].getpid() }}",
)
BROWSER_PAYLOADS = (
    "<img src=x onerror=alert(1)>", "${alert(1)}", "`);alert(1);(`",
    "</script><script>alert(1)</script>", "' \" x='", "\u202eRTL\x00NUL",
)
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000", "#999999"}


def service(i: int = 0, **over: Any) -> dict[str, Any]:
    """One result row shaped like `query.search` output."""
    row: dict[str, Any] = {
        "id": f"s{i}", "name": f"Casa {i}", "organization": "Org", "service_types": ["shelter"],
        "age_min": 12, "age_max": 17, "phones": ["+52 962 123 4567"],
        "email": "info@example.org", "website": "https://example.org", "hours": "24 h",
        "referral": "Llamar", "source_date": "2025-01-01", "location_precision": "address",
        "address": "Calle 1", "city": "Tapachula", "lon": -92.26 + i * 0.01, "lat": 14.9,
        "distance_km": 1.25 + i, "distance_band": "",
    }
    row.update(over)
    return row


def frame(n: int = 3, **over: Any) -> pd.DataFrame:
    return pd.DataFrame([service(i, **over) for i in range(n)])


def hostile(payloads: tuple[str, ...]) -> pd.DataFrame:
    """Every payload in every text field."""
    return pd.DataFrame([
        service(i, name=p, organization=p, hours=p, referral=p, address=p, city=p,
                phones=[p], email=p, website=p, source_date=p, verified_on=p, service_types=[p])
        for i, p in enumerate(payloads)
    ])


def payload_of(text: str) -> dict[str, Any]:
    """The JSON payload handed to rcmRender(...) in a rendered page or script."""
    match = re.search(r"rcmRender\([\w.]+, (.*)\);\n", text)
    assert match, "rcmRender call not found"
    return json.loads(match.group(1))


# ------------------------------------------------------------------ offline


def test_default_map_is_offline() -> None:
    m = build_map(frame(website=""))  # service websites are data, not assets
    assert_offline(m)
    assert all(u.startswith("/app/static/vendor/") for u in element_asset_urls(m))
    html = render_html(m)
    assert "https://" not in html and "http://" not in html
    names = [n for n, _ in m.default_js]
    assert names == ["leaflet", "markercluster"]
    # No jQuery is loaded, and nothing in the pages calls it (folium does only for
    # its own popups and objects_to_stay_in_front, which these maps never use).
    parts, _ = build_map_parts(frame(), center=(14.9, -92.3), radius_km=50)
    for page in (html, render_html(parts)):
        assert not re.search(r"\$\(|\$\.|jQuery", page)


def test_assert_offline_catches_a_plain_folium_map() -> None:
    with pytest.raises(AssertionError, match="cdn"):
        assert_offline(folium.Map(tiles=None))


def test_external_urls_finds_every_kind() -> None:
    html = ('<script src="https://a/x.js"></script><link rel="stylesheet" href="//b/y.css">'
            "<style>@import url('http://c/z.css');</style><script src=\"/app/static/ok.js\">")
    assert external_urls(html) == ["https://a/x.js", "//b/y.css", "http://c/z.css"]


def test_online_tiles_only_when_asked() -> None:
    assert "tile.openstreetmap" not in render_html(build_map(frame()))
    online = build_map(frame(), tiles="OpenStreetMap")
    assert "tile.openstreetmap" in render_html(online)
    assert_offline(online)  # tiles are not scripts or stylesheets
    with pytest.raises(ValueError, match="'https://evil/{z}'"):
        build_map(frame(), tiles="https://evil/{z}")


# ------------------------------------------------------------------ payload


def test_payload_has_one_record_per_placed_service() -> None:
    df = frame(4)
    df.loc[3, ["lon", "lat"]] = [float("nan"), float("nan")]  # country-wide service
    before = df.copy(deep=True)
    records = services_payload(df, "en")
    pd.testing.assert_frame_equal(df, before)
    assert [r["i"] for r in records] == ["s0", "s1", "s2"]
    first = records[0]
    assert first["p"] == [["+52 962 123 4567", "tel:+529621234567"]]
    assert first["e"] == ["info@example.org", "mailto:info@example.org"]
    assert first["w"] == "https://example.org"
    assert first["a"] == "12-17 years" and first["d"] == "1.2 km"
    assert services_payload(df, "es")[0]["d"] == "1,2 km"


def test_popup_words_ages_distances_and_verification_like_the_cards() -> None:
    """One formatting for map, cards and sheet: open age ranges, "≈" for a point at
    a city centre, the core.freshness sentence; no known limits says nothing."""
    df = frame(3)
    df.loc[0, ["age_min", "age_max"]] = [12, None]
    df.loc[1, ["age_min", "age_max"]] = [None, None]
    df.loc[1, "location_precision"] = "city"
    records = services_payload(df, "en")
    assert records[0]["a"] == "12 years and over"
    assert "a" not in records[1] and records[1]["d"] == "≈ 2.2 km"
    assert records[0]["v"].startswith("Not yet verified by the network")


def test_rows_off_the_earth_are_not_drawn() -> None:
    df = frame(3)
    df.loc[0, ["lon", "lat"]] = [-92.3, 95.0]  # latitude out of range
    df.loc[1, ["lon", "lat"]] = [float("inf"), 14.9]
    assert [r["i"] for r in services_payload(df, "en")] == ["s2"]


def test_geometry_column_works_without_lon_lat() -> None:
    gdf = gpd.GeoDataFrame(frame(2).drop(columns=["lon", "lat"]),
                           geometry=[Point(-92.3, 14.9), None], crs=4326)
    records = services_payload(gdf)
    assert [(r["x"], r["y"]) for r in records] == [(-92.3, 14.9)]


def test_confidential_rows_never_carry_address_or_true_position() -> None:
    df = frame(1, location_precision="confidential", address="Calle Secreta 99",
               lon=-92.26123, lat=14.90456, distance_km=3.2, distance_band="")
    html = render_html(build_map(df, center=(14.9, -92.3)))
    record = payload_of(html)["services"][0]
    assert "Calle Secreta" not in html and "ad" in record and record["ad"] == "Tapachula"
    assert "92.26123" not in html and "14.90456" not in html
    assert record["d"] == "< 5 km" and "3,2" not in html
    assert record["x"] != -92.26123 and record["q"] == "confidential"


def test_confidential_row_already_public_is_kept() -> None:
    df = frame(1, location_precision="confidential", lon=-92.25, lat=14.95,
               distance_band="5-10 km")
    record = services_payload(df)[0]
    assert (record["x"], record["y"]) == (-92.25, 14.95) and record["d"] == "5-10 km"


def test_bad_links_are_dropped() -> None:
    df = frame(1, website="javascript:alert(1)", email="x@y", phones=["<b>", "+1 613 555 0100"])
    record = services_payload(df)[0]
    assert "w" not in record
    assert record["e"] == ["x@y", ""]
    assert record["p"] == [["<b>", ""], ["+1 613 555 0100", "tel:+16135550100"]]


def test_config_carries_selection_search_and_legend() -> None:
    df = frame(2, service_types=["health", "shelter"])
    cfg = payload_of(render_html(build_map(df, center=(14.9, -92.3), radius_km=25,
                                           selected_id="s1", lang="fr")))["config"]
    assert cfg["selected"] == "s1"
    assert cfg["search"] == {"lat": 14.9, "lon": -92.3, "radius_m": 25000.0}
    assert cfg["legend"] == ["health"]
    assert cfg["types"]["health"]["label"] == "Santé" and cfg["labels"]["ages"] == "Âges"
    (south, west), (north, east) = cfg["bounds"]
    assert south <= 14.9 <= north and west <= -92.3 <= east


def test_bad_center_is_quoted() -> None:
    with pytest.raises(ValueError, match=r"Latitude must be between -90 and 90, instead got: 95"):
        build_map(frame(), center=(95, 0))
    with pytest.raises(ValueError, match=r"two \(lat, lon\) values for center, instead got: 14"):
        build_map(frame(), center=14)


def test_palette_covers_every_service_type_colour_blind_safe() -> None:
    assert set(SERVICE_TYPES) <= set(MARKER_PALETTE)
    assert {p["color"] for p in MARKER_PALETTE.values()} <= OKABE_ITO
    glyphs = [p["glyph"] for p in MARKER_PALETTE.values()]
    assert len(glyphs) == len(set(glyphs))


# ------------------------------------------------------------------ boundaries


def test_boundaries_keep_only_code_and_name() -> None:
    gdf = gpd.GeoDataFrame(
        {"admin1_code": ["MX-CHP"], "name": ["{{ 7*191 }}</script>"], "secret": ["x"],
         "name_es": ["Chiapas <b>"]},
        geometry=[box(-94, 14.5, -90.3, 18)], crs=4326)
    html = render_html(build_map(frame(), boundaries=gdf))
    fc = payload_of(html)["config"]["boundaries"]
    assert fc["features"][0]["properties"] == {"code": "MX-CHP", "name": "Chiapas <b>"}
    assert "secret" not in html and "Chiapas <b>" not in html
    en = boundaries_payload(gdf, "en")["features"][0]["properties"]["name"]
    assert en == "{{ 7*191 }}</script>"


def test_far_boundaries_are_not_sent() -> None:
    gdf = gpd.GeoDataFrame({"code": ["near", "far"], "name": ["a", "b"]},
                           geometry=[box(-93, 14, -92, 15), box(-80, 60, -70, 70)], crs=4326)
    fc = payload_of(render_html(build_map(frame(), boundaries=gdf)))["config"]["boundaries"]
    assert [f["properties"]["code"] for f in fc["features"]] == ["near"]


# ------------------------------------------------------------------ Jinja


def _outputs(m: folium.Map, tmp_path: Path) -> dict[str, str]:
    """Every way the project turns a map into HTML."""
    from streamlit_folium import generate_leaflet_string

    path = tmp_path / "map.html"
    m.save(str(path))
    return {
        "render": m.get_root().render(),
        "repr_html": m._repr_html_(),
        "save": path.read_text(encoding="utf-8"),
        "st_folium_script": generate_leaflet_string(m),
    }


@pytest.mark.parametrize("payload", TEMPLATE_PAYLOADS)
def test_template_payloads_are_never_evaluated(payload: str, tmp_path: Path) -> None:
    import os

    df = hostile((payload,))
    outputs = _outputs(build_map(df, center=(14.9, -92.3)), tmp_path)
    for name, text in outputs.items():
        assert "1337" not in text, name
        assert "__globals__" in text or "\\u007b" in text or "&#123;" in text, name
        assert f"Casa {os.getpid()}" not in text
    page = payload_of(outputs["render"])
    assert page["services"][0]["n"] == payload
    assert page["services"][0]["o"] == payload
    assert payload_of(outputs["st_folium_script"])["services"][0]["n"] == payload


TEMPLATES = ("{{ 7*191 }}", "{% if true %}X{% endif %}")


def test_without_both_defences_the_same_renderer_would_evaluate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Proves the test above can fail: with plain json.dumps and branca's own render
    (which compiles every macro's output as a new template) Jinja runs the payload."""
    monkeypatch.setattr(maplayer, "json_for_script", lambda obj: json.dumps(obj))
    monkeypatch.setattr(maplayer.ServiceLayer, "render", MacroElement.render)
    assert "1337" in render_html(build_map(hostile(TEMPLATES)))


@pytest.mark.parametrize("keep", ["escaping", "raw_render"])
def test_each_defence_alone_stops_evaluation(keep: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Escaped JSON and the template-free render each suffice on their own."""
    if keep == "escaping":
        monkeypatch.setattr(maplayer.ServiceLayer, "render", MacroElement.render)
    else:
        monkeypatch.setattr(maplayer, "json_for_script", lambda obj: json.dumps(obj))
    html = render_html(build_map(hostile(TEMPLATES)))
    assert "1337" not in html


def test_naive_folium_popup_evaluates() -> None:
    """Why maplayer.py exists: folium's own Popup runs registry text as Jinja."""
    m = folium.Map(tiles=None)
    folium.Marker([14.9, -92.3], popup=folium.Popup("Casa {{ 7*191 }}")).add_to(m)
    assert "Casa 1337" in m.get_root().render()


@pytest.mark.parametrize("payload", BROWSER_PAYLOADS)
def test_browser_payloads_stay_inside_json_strings(payload: str, tmp_path: Path) -> None:
    outputs = _outputs(build_map(hostile((payload,))), tmp_path)
    for name in ("render", "save", "st_folium_script"):
        text = outputs[name]
        assert "<img src=x" not in text and "alert(1)</script>" not in text, name
        assert "${alert" not in text and "`);alert" not in text, name
    record = payload_of(outputs["render"])["services"][0]
    assert record["n"] == payload
    assert "w" not in record  # the payload is no web address


# ------------------------------------------------------------------ the app's two parts


def _st_folium_parts(results: pd.DataFrame, **kwargs: Any) -> tuple[str, str]:
    """(map script, services script) as streamlit-folium makes them for the app:
    the first decides the component's key (a new map frame), the second is what a
    rerun swaps inside the same frame."""
    from streamlit_folium import _get_feature_group_string, _get_map_string

    m, group = build_map_parts(results, **kwargs)
    m.get_root().render()
    return _get_map_string(m), _get_feature_group_string(group, map=m)


def test_the_map_part_is_the_same_whatever_the_results_and_selection() -> None:
    area = {"center": (14.9, -92.3), "radius_km": 50, "lang": "en"}
    base_one, services_one = _st_folium_parts(frame(3), **area)
    base_two, services_two = _st_folium_parts(frame(1, service_types=["health"]),
                                              selected_id="s0", **area)
    assert base_one == base_two  # same frame: only the services group is swapped
    assert services_one != services_two
    assert re.search(r"^rcmBase\(map_div, ", base_one, re.MULTILINE)
    assert not re.search(r"^rcm(Services|Render)\(", base_one, re.MULTILINE)
    assert '"services"' not in base_one
    moved, _ = _st_folium_parts(frame(3), center=(14.9, -92.3), radius_km=25, lang="en")
    assert moved != base_one  # another radius is another map


def test_the_services_part_carries_results_selection_and_legend() -> None:
    _, services = _st_folium_parts(frame(2, service_types=["health", "shelter"]),
                                   center=(14.9, -92.3), radius_km=25, selected_id="s1",
                                   lang="fr")
    match = re.search(r"rcmServices\(map_div, feature_group_feature_group_0, (.*)\);\n",
                      services)
    assert match, services[:300]
    payload = json.loads(match.group(1))
    assert [s["i"] for s in payload["services"]] == ["s0", "s1"]
    cfg = payload["config"]
    assert cfg["selected"] == "s1" and cfg["legend"] == ["health"]
    assert cfg["types"]["health"]["label"] == "Santé" and cfg["labels"]["ages"] == "Âges"
    assert "map_div.addLayer(feature_group_feature_group_0)" in services


def test_the_searched_place_is_named_on_the_map_as_data() -> None:
    base, _ = _st_folium_parts(frame(1), center=(8.53, -82.84), radius_km=50,
                               place_name="Canoas")
    config = json.loads(re.search(r"^rcmBase\(map_div, (.*)\);$", base, re.MULTILINE)
                        .group(1))["config"]
    assert config["search"]["name"] == "Canoas"
    for payload in BROWSER_PAYLOADS:  # a name is text for the script, never markup
        hostile, _ = _st_folium_parts(frame(1), center=(8.53, -82.84), place_name=payload)
        assert "<img src=x" not in hostile and "alert(1)</script>" not in hostile
        assert "${alert" not in hostile and "`);alert" not in hostile
    unnamed, _ = _st_folium_parts(frame(1), center=(8.53, -82.84), radius_km=50)
    assert "name" not in json.loads(re.search(
        r"^rcmBase\(map_div, (.*)\);$", unnamed, re.MULTILINE).group(1))["config"]["search"]


@pytest.mark.parametrize("payload", BROWSER_PAYLOADS + TEMPLATE_PAYLOADS)
def test_hostile_text_stays_inside_the_services_part_json(payload: str) -> None:
    _, services = _st_folium_parts(hostile((payload,)), center=(14.9, -92.3))
    assert "<img src=x" not in services and "alert(1)</script>" not in services
    assert "${alert" not in services and "`);alert" not in services
    assert "1337" not in services
    match = re.search(r"rcmServices\(map_div, [\w]+, (.*)\);\n", services)
    assert match and json.loads(match.group(1))["services"][0]["n"] == payload


# ------------------------------------------------------------------ our browser code


@pytest.mark.parametrize("name", ["markers.js", "markers.css"])
def test_browser_code_is_inert_as_template_and_in_script(name: str) -> None:
    text = maplayer.read_asset(name)
    assert not any(o in text for o in ("{{", "{%", "{#"))
    assert "</script" not in text.lower() and "://" not in text  # no remote resource


def test_browser_code_never_writes_html_from_data() -> None:
    js = maplayer.read_asset("markers.js")
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js
    assert "document.write" not in js and "eval(" not in js


# ------------------------------------------------------------------ size and speed


@pytest.mark.parametrize(("n", "limit"), [(20, 80_000), (200, 200_000)])
def test_payload_bytes_stay_small(n: int, limit: int) -> None:
    m = build_map(frame(n), center=(14.9, -92.3), radius_km=50)
    size = map_payload_bytes(m)
    assert size < limit, size


def test_neighbouring_land_is_drawn_near_the_view_only() -> None:
    from rcm_map.core.boundaries import neighbour_land

    land = neighbour_land()
    names = {f["properties"]["name"] for f in land["features"]}
    assert {"Belize", "Cuba", "Colombia", "United States of America"} <= names
    assert not names & {"Mexico", "Guatemala", "Canada", "Panama"}  # drawn from admin-1
    near_tapachula = render_html(build_map(frame(), center=(14.9, -92.26), radius_km=50,
                                           land=land))
    assert '"name":"Belize"' in near_tapachula
    assert '"name":"Greenland"' not in near_tapachula  # far from the view: not sent
