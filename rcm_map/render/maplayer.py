"""The map's one data element: a JSON payload plus our own script, never a template.

Why not one ``folium.Marker`` + ``Popup`` per service: it costs ~1.6 s per 1,000
markers, folium writes popup text raw into HTML and JS template literals, and folium
re-parses element output as Jinja template source, so registry text such as
``{{ 7*191 }}`` is evaluated on the server. Instead `ServiceLayer` embeds the results
as ONE JSON array made by `rcm_map.core.safety.json_for_script` (every ``<``, ``{``,
``}``, ``%``, backtick, ``$`` ... inside strings is a ``\\uXXXX`` escape) and our own
script (``rcm_map/render/js/markers.js``) builds markers, popups (DOM text nodes only),
the legend, the search point and radius, and the admin-1 boundaries in the browser.

The payload comes from `rcm_map.render.mappayload`; `rcm_map.render.mapping` adds the
layer to the folium map.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from rcm_map.core.safety import json_for_script

JS_DIR = Path(__file__).resolve().parent / "js"


@functools.lru_cache(maxsize=8)
def read_asset(name: str) -> str:
    """Text of one of our own browser files in ``rcm_map/render/js/``."""
    return (JS_DIR / name).read_text(encoding="utf-8")


class ServiceLayer(MacroElement):
    """Everything the map draws from data, as one JSON payload plus our script.

    Jinja sees the payload and the script only as *output* of ``{{ ... }}``; branca
    then re-parses that output as a template, which is harmless because the JSON
    has no ``{``, ``}`` or ``%`` inside strings and ``markers.js`` / ``markers.css``
    contain no ``{{``, ``{%`` or ``{#`` (tests check both).
    """

    _template = Template(
        "{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}\n"
        "{% macro script(this, kwargs) %}\n{{ this.js }}\n"
        "{{ this.call }}({{ this._parent.get_name() }}, {{ this.payload }});\n{% endmacro %}"
    )
    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, payload: Mapping[str, Any], boundaries: Mapping[str, Any] | None = None,
                 land: Mapping[str, Any] | None = None):
        """`payload` is ``{"config": ..., "services": [...]}``; with ``"services"``
        absent the layer draws the map only (``rcmBase``) and `ServiceMarkers` adds
        the services."""
        super().__init__()
        self._name = "RcmServiceLayer"
        config = dict(payload["config"])
        config.pop("boundaries", None)
        places = config.pop("places", [])
        config_json = json_for_script(config)
        # The outlines and the place names are the bulk of the payload and the same on
        # every rerun: their escaped JSON is cached per object (`TextByObject`; the
        # map builder hands out the same outline features and place lists again).
        outlines = "null" if boundaries is None else _boundaries_json(boundaries)
        around = "null" if land is None else _boundaries_json(land)
        self.payload = (f'{{"config":{config_json[:-1]},"boundaries":{outlines},'
                        f'"land":{around},"places":{_list_json(places)}}}')
        if "services" in payload:
            self.call = "rcmRender"
            self.payload += f',"services":{json_for_script(payload["services"])}}}'
        else:
            self.call = "rcmBase"
            self.payload += "}"
        self.js = read_asset("markers.js")
        self.css = read_asset("markers.css")

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # branca's returns None too
        """Add our header and script to the page as plain text.

        branca's `MacroElement.render` wraps each macro's output in a new
        `Element`, i.e. compiles the *output* as a Jinja template again: a second
        parse of the whole JSON payload (~30 ms per rerun at 200 services) and the
        mechanism that evaluates registry text such as ``{{ 7*191 }}`` on the
        server. Our output is final text, so it skips that.
        streamlit-folium calls the macros directly and is unaffected.
        """
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("ServiceLayer must be added to a map inside a Figure.")
        module = self._template.module
        figure.header.add_child(RawText(module.header(self, kwargs)), name=self.get_name())
        figure.script.add_child(RawText(module.script(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class ServiceMarkers(MacroElement):
    """The services of one search, for a layer group on a map whose `ServiceLayer`
    drew the base (``rcmBase``): ``rcmServices(map, group, payload)``.

    The app hands this group to streamlit-folium as ``feature_group_to_add``: a
    filter change then swaps the group inside the same map frame instead of loading
    a new frame, Leaflet and the outlines again. Same escaping as `ServiceLayer`.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}\n"
        "rcmServices({{ this._parent._parent.get_name() }}, {{ this._parent.get_name() }}, "
        "{{ this.payload }});\n{% endmacro %}"
    )
    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, config: Mapping[str, Any], services: list[Any]):
        super().__init__()
        self._name = "RcmServiceMarkers"
        self.payload = json_for_script({"config": dict(config), "services": services})

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Nothing to add to a page: streamlit-folium calls the script macro itself."""


class RawText(Element):
    """Text that goes into the page exactly as given: never parsed as a template."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class TextByObject:
    """`make(obj)`, remembered per object (same identity) for the last `size` objects.

    For boundary features: `rcm_map.render.outlines.boundaries_payload` (cached by the
    app, never mutated) hands out the same objects on every rerun, so their escaped
    JSON is made once. An entry keeps its object alive, so an id is never reused
    while it is cached.
    """

    def __init__(self, make: Callable[[Any], str], size: int = 4096) -> None:
        self._make, self._size = make, size
        self._texts: OrderedDict[int, tuple[Any, str]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, obj: Any) -> str:
        key = id(obj)
        with self._lock:
            hit = self._texts.get(key)
            if hit is not None and hit[0] is obj:
                self._texts.move_to_end(key)
                return hit[1]
        text = self._make(obj)
        with self._lock:
            self._texts[key] = (obj, text)
            while len(self._texts) > self._size:
                self._texts.popitem(last=False)
        return text


_feature_json = TextByObject(json_for_script)
_list_json = TextByObject(json_for_script, size=64)


def _boundaries_json(payload: Mapping[str, Any]) -> str:
    """A FeatureCollection's escaped JSON, assembled from per-feature JSON."""
    features = ",".join(_feature_json(f) for f in payload.get("features", []))
    return f'{{"type":"FeatureCollection","features":[{features}]}}'
