"""Admin-1 outlines for the maps: simplified once, then cut to the area in view.

`boundaries_payload` turns a boundaries GeoDataFrame into a small GeoJSON dict (the
app caches it); `boundaries_near` keeps only the units near a map's bounds, so the
payload stays bounded whatever the registry size. Used by the results map
(`rcm_map.render.mapping`) and the coverage map (`rcm_map.render.choropleth`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely

from rcm_map.render.formatting import cell_text

BOUNDARY_TOLERANCE_DEG = 0.01  # ~1 km: enough for an admin-1 outline on screen
SIMPLIFY_FRACTION = 0.003  # of a unit's bbox diagonal: coarser for huge units


def boundaries_payload(
    boundaries: Any, lang: str = "es", tolerance: float = BOUNDARY_TOLERANCE_DEG
) -> dict[str, Any]:
    """Simplified admin-1 boundaries as a GeoJSON FeatureCollection dict.

    Only ``code`` and ``name`` properties are kept (folium would embed every
    column). Each unit is simplified to `tolerance` degrees or 0.3 % of its
    bounding-box diagonal, whichever is larger (Canada's territories would
    otherwise outweigh all of Central America), rounded to 3 decimals (~100 m),
    and carries its ``bbox`` so `boundaries_near` can send only units near the view.
    The code comes from ``admin1_code``/``code``/``admin1``, the name from
    ``name_<lang>`` or ``name``. Cache the result in the UI.
    """
    gdf = boundaries.to_crs(4326) if boundaries.crs is not None else boundaries
    code_col = next((c for c in ("admin1_code", "code", "admin1") if c in gdf), None)
    name_col = next((c for c in (f"name_{lang}", "name") if c in gdf), None)
    geoms = gdf.geometry.to_numpy()
    boxes = shapely.bounds(geoms)
    diag = np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    tolerances = np.maximum(tolerance, np.nan_to_num(diag) * SIMPLIFY_FRACTION)
    simple = shapely.simplify(geoms, tolerances, preserve_topology=True)
    simple = shapely.transform(simple, lambda xy: np.round(xy, 3))
    features = []
    for idx, geom in enumerate(simple):
        if geom is None or geom.is_empty:
            continue
        props = {
            "code": cell_text(gdf[code_col].iloc[idx]) if code_col else "",
            "name": cell_text(gdf[name_col].iloc[idx]) if name_col else "",
        }
        features.append({"type": "Feature", "properties": props,
                         "bbox": [round(float(v), 3) for v in boxes[idx]],
                         "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": features}


def boundaries_near(
    payload: Mapping[str, Any], bounds: list[list[float]] | None, margin_deg: float = 4.0
) -> dict[str, Any]:
    """Only the features whose bbox meets `bounds` grown by `margin_deg` degrees.

    Keeps the map payload bounded, whatever the registry size, while leaving
    context to pan into (4 degrees: ~440 km; 8 doubled the outlines sent on every
    rerun, ~130 KB for a 250 km search at Tapachula, for provinces nobody pans to).
    """
    if bounds is None:
        return dict(payload)
    (south, west), (north, east) = bounds
    keep = [
        f for f in payload.get("features", [])
        if "bbox" not in f or (
            f["bbox"][0] <= east + margin_deg and f["bbox"][2] >= west - margin_deg
            and f["bbox"][1] <= north + margin_deg and f["bbox"][3] >= south - margin_deg
        )
    ]
    return {"type": "FeatureCollection", "features": keep}
