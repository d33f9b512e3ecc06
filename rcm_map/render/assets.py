"""Browser assets for the offline map.

Leaflet and Leaflet.markercluster are installed from the npm registry at
set-up (`make setup` runs `npm ci`), then copied here into `static/vendor/`, which
Streamlit serves at `/app/static/vendor/` when `server.enableStaticServing` is on.
Nothing third-party is committed. Paths are absolute because streamlit-folium loads
them inside its component iframe, where relative paths resolve under the
component's own URL and fail: with no CDN reachable the iframe then stays at
height 0 and the page shows no map and no error.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
VENDOR_DIR = ROOT / "static" / "vendor"
URL_PREFIX = "/app/static/vendor"
STAMP = VENDOR_DIR / ".installed"

# name -> (path under node_modules, path under static/vendor)
JS: dict[str, tuple[str, str]] = {
    "leaflet": ("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    "markercluster": (
        "leaflet.markercluster/dist/leaflet.markercluster.js",
        "markercluster/leaflet.markercluster.js",
    ),
}
CSS: dict[str, tuple[str, str]] = {
    "leaflet_css": ("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
    "markercluster_css": (
        "leaflet.markercluster/dist/MarkerCluster.css",
        "markercluster/MarkerCluster.css",
    ),
    "markercluster_default_css": (
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
        "markercluster/MarkerCluster.Default.css",
    ),
}
EXTRA_DIRS = {"leaflet/dist/images": "leaflet/images"}
# No jQuery: folium's map and popups call it only for folium.Popup HTML and
# objects_to_stay_in_front, neither of which our maps use (tests/unit/test_mapping.py
# checks the pages). Each script here is loaded one after the other in the map's
# frame, before the first marker is drawn.


def js_urls() -> list[tuple[str, str]]:
    """(name, absolute URL) of every script the map needs, in load order."""
    return [(name, f"{URL_PREFIX}/{dest}") for name, (_, dest) in JS.items()]


def css_urls() -> list[tuple[str, str]]:
    """(name, absolute URL) of every stylesheet the map needs."""
    return [(name, f"{URL_PREFIX}/{dest}") for name, (_, dest) in CSS.items()]


def install(node_modules: Path = NODE_MODULES, vendor_dir: Path = VENDOR_DIR) -> None:
    """Copy the assets from node_modules/ into static/vendor/."""
    for src, dest in (*JS.values(), *CSS.values()):
        source = node_modules / src
        if not source.is_file():
            raise FileNotFoundError(f"{source} is missing: run `npm ci` first")
        target = vendor_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for src, dest in EXTRA_DIRS.items():
        shutil.copytree(node_modules / src, vendor_dir / dest, dirs_exist_ok=True)
    (vendor_dir / ".installed").write_text("installed from node_modules by rcm_map.render.assets\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python -m rcm_map.render.assets install")
    install()
    print(f"map assets installed in {VENDOR_DIR}")
