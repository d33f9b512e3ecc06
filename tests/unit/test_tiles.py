"""Online tiles: a deployment setting, validated; absent means offline only."""

from __future__ import annotations

import pytest

from rcm_map.core.tiles import TILE_ATTRIBUTION_ENV, TILE_URL_ENV, tile_server
from rcm_map.render.mapping import build_map, render_html

URL = "https://tiles.example.org/{z}/{x}/{y}.png"


def test_unset_means_offline():
    assert tile_server({}) is None


def test_a_server_needs_a_template_and_an_attribution():
    server = tile_server({TILE_URL_ENV: URL, TILE_ATTRIBUTION_ENV: "© Example"})
    assert server is not None and server.host == "tiles.example.org"
    with pytest.raises(ValueError, match=TILE_ATTRIBUTION_ENV):
        tile_server({TILE_URL_ENV: URL})
    with pytest.raises(ValueError, match=r"\{x\}, \{y\}"):
        tile_server({TILE_URL_ENV: "https://t.example.org/{z}", TILE_ATTRIBUTION_ENV: "x"})
    with pytest.raises(ValueError, match="https://"):
        tile_server({TILE_URL_ENV: "http://t.example.org/{z}/{x}/{y}", TILE_ATTRIBUTION_ENV: "x"})


def test_map_uses_the_template_and_credits_it():
    import pandas as pd

    frame = pd.DataFrame({"id": ["a"], "name": ["A"], "lon": [-92.26], "lat": [14.9]})
    html = render_html(build_map(frame, tiles=URL, tile_attribution="© Example"))
    assert "tiles.example.org" in html and "\\u00a9 Example" in html
    assert "tiles.example.org" not in render_html(build_map(frame))
    with pytest.raises(ValueError, match="attribution"):
        build_map(frame, tiles=URL)
