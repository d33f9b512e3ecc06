"""Build data/admin_boundaries/neighbours.geojson: the land around the eight countries.

The search map has no tiles by default: water is its background and land is
drawn from our outlines. Without the neighbours (Belize, the United States,
Colombia, Cuba, the Caribbean) they would read as sea. Source: Natural Earth
1:50m countries (public domain) as packaged in the npm package ``world-atlas``
2.0.2 (TopoJSON, ISC; installed by ``npm ci``), read with GDAL's TopoJSON driver.

This script keeps the countries other than the eight that meet the region's box
(`REGION`), clips them to it, simplifies to `TOLERANCE_DEG`, keeps only ``name``,
and writes RFC 7946 GeoJSON (5 decimals, one feature per line, sorted by name).

Usage: python scripts/build_neighbours.py [--source FILE] [--out FILE]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import mapping

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.script_io import source_out_args, write_file  # noqa: E402 - after the path tweak

DEFAULT_SOURCE = ROOT / "node_modules" / "world-atlas" / "countries-50m.json"
DEFAULT_OUT = ROOT / "data" / "admin_boundaries" / "neighbours.geojson"
# ISO 3166-1 numeric codes of the eight countries (drawn from admin1.geojson).
RCM_NUMERIC = {"124", "188", "222", "320", "340", "484", "558", "591"}
REGION = (-170.0, -6.0, -45.0, 84.0)  # west, south, east, north
TOLERANCE_DEG = 0.02  # ~2 km: land shapes for context, not borders to test against


def build(source: Path, out: Path) -> int:
    """Write the neighbours file; return the number of features."""
    frame = gpd.read_file(source, layer="countries")
    frame = frame[~frame["id"].astype(str).isin(RCM_NUMERIC)]
    frame = frame.set_crs(4326, allow_override=True)
    box = shapely.box(*REGION)
    lines = []
    for name, geom in sorted(zip(frame["name"], frame.geometry, strict=True)):
        if geom is None or not geom.intersects(box):
            continue
        clipped = shapely.intersection(shapely.make_valid(geom), box)
        simple = shapely.simplify(clipped, TOLERANCE_DEG, preserve_topology=True)
        simple = shapely.orient_polygons(shapely.make_valid(simple))
        simple = shapely.transform(simple, lambda xy: xy.round(5))
        if simple.is_empty or simple.area < 1e-4:
            continue
        feature = {"type": "Feature", "properties": {"name": str(name)},
                   "geometry": mapping(simple)}
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    write_file(out, text)
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    args = source_out_args(__doc__ or "", DEFAULT_SOURCE, DEFAULT_OUT, argv)
    if not args.source.is_file():
        print(f"{args.source} is missing: run `npm ci` first", file=sys.stderr)
        return 1
    count = build(args.source, args.out)
    print(f"{args.out}: {count} features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
