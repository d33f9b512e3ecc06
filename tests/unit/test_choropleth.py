"""The coverage choropleth: offline, escaped, and nothing but code, name and count."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import box

from rcm_map.render import choropleth
from rcm_map.render.mapping import assert_offline, render_html

LABELS = {"title": "Albergue", "count": "Servicios", "gap": "Ninguno (brecha)"}


def _units(name: str = "Chiapas") -> gpd.GeoDataFrame:
    """Two square admin-1 units, one with a hostile name."""
    return gpd.GeoDataFrame(
        {"admin1_code": ["MX-CHP", "GT-SM"], "name": [name, "San Marcos"],
         "secret_column": ["do-not-embed", "do-not-embed"]},
        geometry=[box(-93, 14, -92, 15), box(-92, 14, -91, 15)], crs="EPSG:4326")


def test_offline_and_counts():
    m = choropleth.build_choropleth(_units(), {"MX-CHP": 3}, LABELS, "es")
    assert_offline(m)
    html = render_html(m)
    assert '"count":3' in html and '"count":0' in html
    assert "do-not-embed" not in html
    # Leaflet only: no marker here, so nothing else is loaded before the map is drawn
    assert [u for _, u in m.default_js] == ["/app/static/vendor/leaflet/leaflet.js"]
    assert [u for _, u in m.default_css] == ["/app/static/vendor/leaflet/leaflet.css"]


def test_hostile_names_are_inert():
    payload = "<img src=x onerror=alert(1)>{{ 7*191 }}${x}`"
    html = render_html(choropleth.build_choropleth(_units(payload), {}, LABELS, "es"))
    assert "1337" not in html
    assert "<img src=x" not in html
    assert "{{ 7*191 }}" not in html


def test_script_has_no_template_tags():
    for tag in ("{{", "{%", "{#"):
        assert tag not in choropleth._SCRIPT


def test_legend_classes():
    items = choropleth.legend_items(LABELS)
    assert [t for t, _ in items] == ["Ninguno (brecha)", "1", "2-4", "5-9", "10+"]


def test_opens_on_the_corridor_not_canada():
    units = gpd.GeoDataFrame(
        {"admin1_code": ["CA-ON", "MX-CHP", "PA-8"], "name": ["Ontario", "Chiapas", "Panamá"]},
        geometry=[box(-95, 42, -74, 57), box(-94.1, 14.5, -90.4, 18.0),
                  box(-80.0, 7.5, -77.8, 9.6)], crs=4326)
    payload = {"features": [
        {"properties": {"code": c}, "bbox": list(g.bounds)}
        for c, g in zip(units["admin1_code"], units.geometry, strict=True)]}
    assert choropleth.corridor_bounds(payload) == [[7.5, -94.1], [18.0, -77.8]]
    canada_only = {"features": payload["features"][:1]}
    assert choropleth.corridor_bounds(canada_only) == [[42, -95], [57, -74]]
    html = render_html(choropleth.build_choropleth(units, {"MX-CHP": 3}, {
        "title": "t", "count": "c", "gap": "g"}))
    assert '"fit":[[7.5,-94.1],[18.0,-77.8]]' in html.replace(" ", "")
