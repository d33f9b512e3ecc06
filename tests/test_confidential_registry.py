"""The bundled registry's confidential services, as the public sees them (issue 12).

Every confidential service is drawn inside its own country, on land and away from
its borders; no public output carries its address or a location hint from its
source note (the fragments are in tests/data/confidential_fragments.csv).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point

from rcm_map.core import standin
from rcm_map.core.geo import haversine_km
from rcm_map.registry import model as registry
from rcm_map.search import boundaries

REPO = Path(__file__).resolve().parent.parent
ACTORS = REPO / "data" / "actors.geojson"


@pytest.fixture(scope="module")
def stored() -> list[dict[str, Any]]:
    """The committed registry's features (true points where a file keeps them)."""
    return json.loads(ACTORS.read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def public() -> registry.Registry:
    """The registry as every public page and export gets it."""
    return registry.load_registry_uncached(ACTORS)


def test_every_confidential_service_is_drawn_at_home_on_land(
    stored: list[dict[str, Any]], public: registry.Registry
) -> None:
    admin0 = boundaries.load_admin0().set_index("country_iso3").geometry
    admin1 = boundaries.load_admin1().set_index("admin1_code").geometry
    frame = public.frame
    checked = 0
    for feature in stored:
        props = feature["properties"]
        if props["location_precision"] != "confidential" or not feature["geometry"]:
            continue
        row = int((frame["id"] == props["id"]).to_numpy().nonzero()[0][0])
        lon, lat = float(public.lon[row]), float(public.lat[row])
        site_lon, site_lat = feature["geometry"]["coordinates"]
        where = Point(lon, lat)
        assert admin0[props["country"]].contains(where), (props["id"], lon, lat)
        assert not boundaries.near_outline([lon], [lat], standin.BORDER_KM)[0], props["id"]
        assert admin1[props["admin1"]].contains(where), (props["id"], lon, lat)
        assert haversine_km(site_lat, site_lon, lat, lon) >= standin.PUBLIC_MIN_KM
        checked += 1
    assert checked >= 30  # the bundled registry holds 31 placed confidential services
