"""Build data/admin_boundaries/admin{0,1}.geojson from ../shared/data/sources.

The sources are Natural Earth 1:10m admin-1 polygons (public domain), already
clipped to the eight countries, simplified and snapped to 1e-5 degrees (see
../shared/data/sources/PROVENANCE.md). This script only:

* keeps a small set of properties (the app never needs the 30 translations);
* updates codes and names that changed after the Natural Earth release
  (CODE_FIXES, NAME_FIXES below; each one is listed in data/README.md);
* writes RFC 7946 GeoJSON: counter-clockwise exterior rings, 5-decimal
  coordinates, no `crs` member, features sorted by code, one feature per line
  so that a change to one unit is a one-line diff. Same input, same bytes.

Usage: python scripts/build_boundaries.py [--sources DIR] [--out DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.script_io import source_out_args, write_file  # noqa: E402 - after the path tweak

DEFAULT_SOURCES = ROOT.parent / "shared" / "data" / "sources"
DEFAULT_OUT = ROOT / "data" / "admin_boundaries"
COUNTRIES = ("CAN", "CRI", "GTM", "HND", "MEX", "NIC", "PAN", "SLV")
PRECISION = 5

# ISO 3166-2 changes after the Natural Earth release.
CODE_FIXES = {"MX-DIF": "MX-CMX"}  # ISO 3166-2 newsletter II-3 (2016-11-15)
# code (after CODE_FIXES) -> (name, name_es, type_en or None to keep)
NAME_FIXES: dict[str, tuple[str, str, str | None]] = {
    # Distrito Federal became Ciudad de México, a federal entity, in 2016.
    "MX-CMX": ("Ciudad de México", "Ciudad de México", "Federal Entity"),
    # Regiones Autónomas de la Costa Caribe Norte/Sur since the 2014 constitutional
    # reform; ISO 3166-2 keeps the codes NI-AN and NI-AS.
    "NI-AN": ("Costa Caribe Norte", "Costa Caribe Norte", None),
    "NI-AS": ("Costa Caribe Sur", "Costa Caribe Sur", None),
    # Comarca Kuna Yala was renamed Guna Yala in 2010 (Ley 88 de 2010); ISO uses it.
    "PA-KY": ("Guna Yala", "Guna Yala", None),
}


def _round_coords(coords: Any) -> Any:
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), PRECISION) + 0.0 for c in coords]  # + 0.0 turns -0.0 into 0.0
    return [_round_coords(c) for c in coords]


def _geometry(geojson_geometry: dict[str, Any]) -> dict[str, Any]:
    """Valid, RFC 7946-oriented (exterior rings counter-clockwise) geometry, 5 decimals."""
    geom = shapely.make_valid(shape(geojson_geometry))
    geom = shapely.orient_polygons(geom, exterior_cw=False)
    out = mapping(geom)
    return {"type": out["type"], "coordinates": _round_coords(out["coordinates"])}


def _feature(props: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def build_admin1(source: dict[str, Any]) -> list[dict[str, Any]]:
    """Admin-1 features with small properties and the code/name fixes applied.

    Parameters
    ----------
    source : dict
        The parsed source FeatureCollection (``admin1.geojson``).

    Returns
    -------
    list of dict
        GeoJSON features sorted by ``admin1_code``.
    """
    features = []
    for feat in source["features"]:
        p = feat["properties"]
        if p["country_iso3"] not in COUNTRIES:
            continue
        code = CODE_FIXES.get(p["admin1_code"], p["admin1_code"])
        name, name_es, type_en = p["name"], p["name_es"], p["type_en"]
        if code in NAME_FIXES:
            name, name_es, fixed_type = NAME_FIXES[code]
            type_en = fixed_type or type_en
        props = {
            "country_iso3": p["country_iso3"],
            "admin1_code": code,
            "name": name,
            "name_es": name_es,
            "type_en": type_en,
        }
        features.append(_feature(props, _geometry(feat["geometry"])))
    features.sort(key=lambda f: f["properties"]["admin1_code"])
    return features


def build_admin0(source: dict[str, Any]) -> list[dict[str, Any]]:
    """Admin-0 features (country_iso3, name, name_es) sorted by ISO3 code."""
    features = []
    for feat in source["features"]:
        p = feat["properties"]
        if p["country_iso3"] not in COUNTRIES:
            continue
        props = {"country_iso3": p["country_iso3"], "name": p["name"], "name_es": p["name_es"]}
        features.append(_feature(props, _geometry(feat["geometry"])))
    features.sort(key=lambda f: f["properties"]["country_iso3"])
    return features


def dumps_feature_collection(features: list[dict[str, Any]]) -> str:
    """Deterministic RFC 7946 text: one feature per line, compact separators."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    body = ",\n".join(lines)
    return '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    args = source_out_args(__doc__ or "", DEFAULT_SOURCES, DEFAULT_OUT, argv, "--sources")
    for name, builder in (("admin0", build_admin0), ("admin1", build_admin1)):
        src = args.source / f"{name}.geojson"
        if not src.is_file():
            print(f"{src}: source file not found (see data/README.md)", file=sys.stderr)
            return 2
        with src.open(encoding="utf-8") as fh:
            features = builder(json.load(fh))
        out = args.out / f"{name}.geojson"
        write_file(out, dumps_feature_collection(features))
        print(f"{out}: {len(features)} features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
