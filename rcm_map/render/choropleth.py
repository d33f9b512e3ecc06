"""Choropleth of admin-1 units by number of services, for the coverage page.

Pure module (no Streamlit). Same safety design as `rcm_map.render.mapping`: the data go
to the browser as ONE JSON payload made by `rcm_map.core.safety.json_for_script`, and
a small script draws the polygons, tooltips (DOM text nodes, never innerHTML)
and the legend. Only the unit code, name and count are sent (folium.GeoJson
would embed every property). Offline: the map loads only the app's own assets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
from branca.element import Figure, MacroElement
from jinja2 import Template

from rcm_map.core.safety import json_for_script
from rcm_map.render import assets
from rcm_map.render.maplayer import RawText, TextByObject
from rcm_map.render.mapping import boundaries_payload

# (lower bound of the class, fill colour). Zero is the gap colour (Okabe-Ito
# vermillion); the rest is a sequential blue ramp, readable with colour-blindness.
CLASSES: tuple[tuple[int, str], ...] = (
    (0, "#D55E00"), (1, "#C6DBEF"), (2, "#6BAED6"), (5, "#2171B5"), (10, "#08306B"),
)  # fmt: skip
NO_DATA = "#f0f0f0"

_SCRIPT = r"""
(function (map, data) {
  function colour(n) {
    var c = data.classes[0][1];
    for (var i = 0; i < data.classes.length; i++) {
      if (n >= data.classes[i][0]) { c = data.classes[i][1]; }
    }
    return c;
  }
  var layer = L.geoJSON(data.units, {
    style: function (f) {
      var n = f.properties.count;
      return {color: "#555", weight: 0.8, fillOpacity: 0.75,
              fillColor: n === null ? data.no_data : colour(n)};
    },
    onEachFeature: function (f, l) {
      var box = document.createElement("div");
      var name = document.createElement("strong");
      name.textContent = f.properties.name;
      box.appendChild(name);
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(data.labels.count + ": " +
        (f.properties.count === null ? "-" : String(f.properties.count))));
      l.bindTooltip(box, {sticky: true});
    }
  }).addTo(map);
  if (data.fit) { map.fitBounds(data.fit); }
  else if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "rcm-choropleth-legend");
    div.style.cssText = "background:#fff;padding:6px 8px;font:12px sans-serif;" +
      "border:1px solid #999;border-radius:4px;line-height:18px";
    var title = document.createElement("strong");
    title.textContent = data.labels.title;
    div.appendChild(title);
    data.legend.forEach(function (item) {
      var row = document.createElement("div");
      var swatch = document.createElement("span");
      swatch.style.cssText = "display:inline-block;width:14px;height:14px;" +
        "margin-right:6px;vertical-align:middle;border:1px solid #555;background:" + item[1];
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(item[0]));
      div.appendChild(row);
    });
    return div;
  };
  legend.addTo(map);
})
"""


class ChoroplethLayer(MacroElement):
    """Admin-1 polygons coloured by count, from one escaped JSON payload."""

    _template = Template(
        "{% macro script(this, kwargs) %}\n{{ this.js }}"
        "({{ this._parent.get_name() }}, {{ this.payload }});\n{% endmacro %}"
    )
    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, payload: Mapping[str, Any] | str):
        super().__init__()
        self._name = "RcmChoropleth"
        self.payload = payload if isinstance(payload, str) else json_for_script(payload)
        self.js = _SCRIPT

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # branca's returns None too
        """Add the script to the page as final text.

        branca's `MacroElement.render` compiles the macro's *output* as a Jinja
        template again: a second parse of the whole payload on every visit. The
        payload is escaped JSON (`json_for_script`), so the text is final.
        """
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("ChoroplethLayer must be added to a map inside a Figure.")
        figure.script.add_child(RawText(self._template.module.script(self, kwargs)),
                                name=self.get_name())


def legend_items(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """(text, colour) of each class: 'gap (0)', '1', '2-4', '5-9', '10+'."""
    items = []
    for i, (low, colour) in enumerate(CLASSES):
        high = CLASSES[i + 1][0] - 1 if i + 1 < len(CLASSES) else None
        if low == 0:
            text = labels["gap"]
        elif high is None:
            text = f"{low}+"
        else:
            text = str(low) if high == low else f"{low}-{high}"
        items.append((text, colour))
    return items


OUTSIDE_CORRIDOR = ("CA-",)  # Canada's units dwarf the corridor on a map fitted to all


def corridor_bounds(payload: Mapping[str, Any]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the units on the Mexico-Panama corridor,
    or of every unit when none is there (e.g. Canada alone); None when empty."""
    features = [f for f in payload.get("features", []) if "bbox" in f]
    corridor = [f for f in features
                if not str(f["properties"].get("code", "")).startswith(OUTSIDE_CORRIDOR)]
    boxes = [f["bbox"] for f in (corridor or features)]
    if not boxes:
        return None
    return [[min(b[1] for b in boxes), min(b[0] for b in boxes)],
            [max(b[3] for b in boxes), max(b[2] for b in boxes)]]


def build_choropleth(
    boundaries: Any,
    counts: Mapping[str, int],
    labels: Mapping[str, str],
    lang: str = "es",
) -> folium.Map:
    """A folium map of `boundaries` (admin-1 GeoDataFrame) coloured by `counts`.

    Parameters
    ----------
    boundaries
        Admin-1 units (columns ``admin1_code``, ``name``/``name_es``, geometry), or
        the dict `rcm_map.render.mapping.boundaries_payload` made of them (cache that
        one; it is not modified).
    counts
        Admin-1 code -> number of services; units missing here count 0 (a gap).
    labels
        ``title`` (legend heading), ``count`` (tooltip) and ``gap`` (legend),
        already translated.
    """
    payload = boundaries if isinstance(boundaries, Mapping) \
        else boundaries_payload(boundaries, lang)
    rest = json_for_script({
        "fit": corridor_bounds(payload),
        "classes": [list(c) for c in CLASSES], "no_data": NO_DATA,
        "labels": {k: labels[k] for k in ("title", "count", "gap")},
        "legend": [list(i) for i in legend_items(labels)],
    })
    m = folium.Map(location=[15.0, -90.0], zoom_start=4, tiles=None, control_scale=True)
    # Leaflet alone: no markers here, so no markercluster to load before drawing.
    m.default_js = [(n, u) for n, u in assets.js_urls() if n == "leaflet"]
    m.default_css = [(n, u) for n, u in assets.css_urls() if n == "leaflet_css"]
    ChoroplethLayer(f'{{"units":{_units_json(payload, counts)},{rest[1:]}').add_to(m)
    return m


def _units_json(payload: Mapping[str, Any], counts: Mapping[str, int]) -> str:
    """The units as an escaped FeatureCollection, each with its count (0 when absent).

    The payload is not modified; each unit's outline is serialised once and reused
    while the payload lives (the coverage page caches it per countries and language).
    """
    features = []
    for feature in payload.get("features", []):
        props = dict(feature["properties"])
        props["count"] = int(counts.get(props.get("code", ""), 0))
        features.append(f'{{"type":"Feature","properties":{json_for_script(props)},'
                        f'{_shape_json(feature)}}}')
    return f'{{"type":"FeatureCollection","features":[{",".join(features)}]}}'


def _shape_text(feature: Mapping[str, Any]) -> str:
    """``"bbox":[...],"geometry":{...}`` of a unit (the fixed part of its feature)."""
    shape = {k: feature[k] for k in ("bbox", "geometry") if k in feature}
    return json_for_script(shape)[1:-1]


_shape_json = TextByObject(_shape_text)  # per feature object, while the payload lives
