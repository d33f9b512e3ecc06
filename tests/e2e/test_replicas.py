"""Two app replicas on one PostGIS database, in Chromium (issue 13, "replicas see each
other's writes").

Two real `streamlit run app.py` processes share a throwaway PostgreSQL/PostGIS
cluster, as two replicas behind a load balancer would. A focal point applies an
update on the Focal points page of replica A (browser context 1); a caseworker's
search on replica B (context 2) finds the new name, without restarting B. Both
servers point RCM_MAP_REGISTRY at a damaged decoy file that neither may read.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serving import start_streamlit, stop

pytestmark = [pytest.mark.browser, pytest.mark.postgis]

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.geojson"
PASSWORD = "long password 1"
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
NEW_NAME = "Casa renamed across replicas"
TIMEOUT_MS = 90_000
SEARCH = "lang=en&lat=14.9&lon=-92.2667&radius=50"

MAP_HOLDS = """([sel, name]) => {
  const frames = document.querySelectorAll(sel);
  if (frames.length !== 1) return false;
  const doc = frames[0].contentDocument;
  return !!doc && !!doc.querySelector('.leaflet-container[data-rcm-markers]')
    && doc.documentElement.innerHTML.includes(name);
}"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A throwaway cluster holding tests/data/small.geojson."""
    sys.path.insert(0, str(ROOT / "tests" / "store"))
    pgcluster = importlib.import_module("pgcluster")
    made = pgcluster.cluster_for_tests()
    from rcm_map.store.postgis import PostGISStore

    store = PostGISStore(made.url)
    pgcluster.seed(store, json.loads(SMALL.read_text(encoding="utf-8"))["features"])
    store.close()
    try:
        yield made
    finally:
        made.stop()


def _start(url: str, folder: Path, name: str) -> tuple[str, subprocess.Popen[bytes]]:
    """One replica: `streamlit run app.py` on its own port, on the database."""
    env = {**os.environ, "RCM_MAP_DATABASE_URL": url,
           "RCM_MAP_REGISTRY": str(folder / "decoy.geojson")}
    return start_streamlit(ROOT / "app.py", folder / f"{name}.log", "--secrets.files",
                           str(folder / "secrets.toml"), env=env, timeout_s=90)


@pytest.fixture(scope="module")
def replicas(cluster: Any, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """Base URLs of replicas A and B, and B's process."""
    from rcm_map.store.auth import hash_password

    folder = tmp_path_factory.mktemp("replicas")
    (folder / "decoy.geojson").write_bytes(b'{"type": "FeatureCollection", "features": [')
    (folder / "secrets.toml").write_text(
        f'[focal_points.ana]\ncountry = "GTM"\npassword_hash = "{hash_password(PASSWORD)}"\n',
        encoding="utf-8")
    started = [_start(cluster.url, folder, "a"), _start(cluster.url, folder, "b")]
    try:
        yield started[0][0], started[1][0], started[1][1]
    finally:
        for _, proc in started:
            stop(proc)
        assert (folder / "decoy.geojson").read_bytes().endswith(b"[")  # never touched


def _gtm_update(cluster_url: str) -> bytes:
    """Guatemala's listing with its shelter renamed (what the focal point uploads)."""
    from rcm_map.store.postgis import PostGISStore

    store = PostGISStore(cluster_url, migrate=False)
    try:
        features = [s.feature for s in store.all_features("GTM")]
    finally:
        store.close()
    features[0]["properties"]["name"] = NEW_NAME
    return json.dumps({"type": "FeatureCollection", "features": features}).encode("utf-8")


def _apply_on(page: Any, base: str, upload: Path) -> None:
    """Sign in as the GTM focal point on `base`, upload, preview and apply."""
    page.goto(f"{base}/admin?lang=en")
    page.get_by_role("textbox", name="User").fill("ana", timeout=TIMEOUT_MS)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator('input[type="file"]').set_input_files(str(upload), timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Apply these changes").click(timeout=TIMEOUT_MS)
    page.get_by_text("Changes applied").wait_for(timeout=TIMEOUT_MS)


def test_update_on_one_replica_is_found_on_the_other(
        browser: Any, cluster: Any, replicas: tuple[str, str, Any], tmp_path: Path) -> None:
    base_a, base_b, proc_b = replicas
    caseworker = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    caseworker.goto(f"{base_b}/?{SEARCH}")
    caseworker.wait_for_function(MAP_HOLDS, arg=[IFRAME, "Casa del Migrante"],
                                 timeout=TIMEOUT_MS)
    upload = tmp_path / "gtm.geojson"
    upload.write_bytes(_gtm_update(cluster.url))
    focal_point = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    _apply_on(focal_point, base_a, upload)
    applied = time.monotonic()
    caseworker.goto(f"{base_b}/?{SEARCH}")  # a new search on replica B
    caseworker.wait_for_function(MAP_HOLDS, arg=[IFRAME, NEW_NAME], timeout=TIMEOUT_MS)
    seen_after = time.monotonic() - applied
    assert proc_b.poll() is None  # B was not restarted
    with urllib.request.urlopen(f"{base_b}/_stcore/health", timeout=5) as resp:
        assert resp.status == 200
    print(f"replica B showed the update {seen_after:.1f} s after A applied it "
          "(page load and map render included)")
    focal_point.context.close()
    caseworker.context.close()
