"""Speed as a person feels it: Chromium against the running app (issue 15, item 8).

Starts ``streamlit run`` servers and drives Debian's Chromium (offline: a request for
anywhere but this machine goes to a proxy that does not exist and fails; each one is
counted and reported, and must be 0) to time, in the same run:

* **baseline**: an empty Streamlit page (``bench/empty_page.py``), navigation
  to its title on screen;
* **first open**: a search link of app.py, navigation to the markers drawn in
  the map (our script's ``data-rcm-markers`` and at least one marker or cluster);
* **filter change**: on that page, adding "Shelter" to the service types, from
  the key press to new services drawn in the map (the ones drawn before are marked
  first; the app swaps them inside the same map frame) and the cards' text changed;
* **coverage page**: navigation to ``/coverage`` until its first table shows,
  then a click on its map tab until the choropleth is drawn;
* **floor**: the first open and the filter change on ``bench/floor_page.py``, the
  same map and ten cards under one multiselect and nothing else: what Streamlit and
  streamlit-folium (fixed by design) cost alone. Each goal is reported beside its
  floor (for the coverage page, the empty page's title).

Each is the median of ``--runs`` fresh browser contexts. Goals (issue 15): first
open <= 1.3x the empty page's title time; filter change <= 300 ms (at 1M);
coverage page <= 1 s. With the bundled registry by default; ``--registry PATH``
(e.g. a 1M file from ``bench/generate.py``, slow: its cache build takes minutes
and several GB) measures another. Results go to ``bench/app_results.json``.

``--via-http2`` measures both pages through nginx (Debian's ``nginx-light``) serving
HTTP/2 over TLS with a throw-away self-signed certificate, as a hosted deployment's
proxy would (docs/deploy.md): the browser then loads the page's ~60 JavaScript
modules over one connection instead of six at a time.

Usage: ``python bench/app_browser.py [--runs 5] [--registry bench/work/x.geojson]
[--via-http2]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from conftest import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS, free_port  # noqa: E402

EMPTY_PAGE = ROOT / "bench" / "empty_page.py"
FLOOR_PAGE = ROOT / "bench" / "floor_page.py"  # its static/ is a link to the app's
RESULTS = ROOT / "bench" / "app_results.json"
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
SEARCH = ("lang=en&place=Tapachula&lat=14.90541&lon=-92.25891&radius=250&age=15"
          "&populations=unaccompanied")
GOALS = {"first_open_ratio": 1.3, "filter_change_s": 0.300, "coverage_s": 1.0}
TIMEOUT_MS = 120_000
WARM_TIMEOUT_MS = 1_800_000  # the first open of a 1M registry builds its cache
MAP_TAB = "Map"  # coverage.tab_map in English
FIRST_TABLE = ".rcm-table table"  # the coverage page's first table (rcm_map.render.tables)

MARKERS_DRAWN = """([sel, before]) => {
  const frames = document.querySelectorAll(sel);
  if (frames.length !== 1 || frames[0].offsetHeight === 0) return false;
  const doc = frames[0].contentDocument;
  const box = doc && doc.querySelector('.leaflet-container[data-rcm-markers]');
  const layers = doc && doc.defaultView.rcmLayers;
  if (!box || !layers || (before !== null && layers.rcmBenchOld)) return false;
  return !!doc.querySelector('.rcm-marker, .marker-cluster');
}"""
# Marks the services drawn now, so MARKERS_DRAWN waits for new ones (the marker count
# alone does not change when a filter keeps the page full: 25 before and after at 1M).
# Each draw (a new map frame, or the services swapped inside the same frame) makes a
# new `rcmLayers` object.
MARK_OLD_MAP = """(sel) => {
  document.querySelector(sel).contentWindow.rcmLayers.rcmBenchOld = true;
  return true;
}"""
CARDS_TEXT = "() => [...document.querySelectorAll('.rcm-card')].map(c => c.textContent).join('|')"
# An element on screen, checked on every animation frame. Not `locator.wait_for`:
# Playwright retries a locator with growing pauses (up to 500 ms), so it noticed a
# table drawn at 1.36 s only at 1.85 s in about half the runs (bench/README.md);
# `wait_for_function` polls once per frame, as MARKERS_DRAWN always did.
SHOWN = """(sel) => {
  const el = document.querySelector(sel);
  return !!el && el.getBoundingClientRect().height > 0;
}"""
CHOROPLETH_DRAWN = """(sel) => {
  const frames = document.querySelectorAll(sel);
  if (frames.length < 1 || frames[0].offsetHeight === 0) return false;
  const doc = frames[0].contentDocument;
  return !!(doc && doc.querySelector('.leaflet-container path'));
}"""


@contextmanager
def server(script: Path, registry: Path | None) -> Iterator[str]:
    """``streamlit run script`` on a free port; yields its base URL."""
    port = free_port()
    env = dict(os.environ)
    env.pop("RCM_MAP_REGISTRY", None)
    if registry is not None:
        env["RCM_MAP_REGISTRY"] = str(registry)
    cmd = [str(Path(sys.executable).with_name("streamlit")), "run", str(script),
           "--server.port", str(port), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:  # S310: the URL is our own server on 127.0.0.1
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


NGINX = Path("/usr/sbin/nginx")
NGINX_CONF = """worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {dir}/cert.pem; ssl_certificate_key {dir}/key.pem;
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 86400;
        }}
    }}
}}
"""


@contextmanager
def http2_proxy(base: str) -> Iterator[str]:
    """nginx serving `base` as HTTP/2 over TLS on a free port; yields its URL."""
    import tempfile

    if not NGINX.is_file():
        raise SystemExit(f"--via-http2 needs {NGINX}: apt-get install nginx-light")
    with tempfile.TemporaryDirectory(prefix="rcm-bench-nginx-") as tmp:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", f"{tmp}/key.pem", "-out", f"{tmp}/cert.pem", "-days", "1",
                        "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=tmp, port=port,
                                          upstream=urlsplit(base).port), encoding="utf-8")
        subprocess.run([str(NGINX), "-c", str(conf)], check=True, capture_output=True)
        try:
            yield f"https://127.0.0.1:{port}"
        finally:
            subprocess.run([str(NGINX), "-c", str(conf), "-s", "stop"], check=False,
                           capture_output=True)


# Offline without intercepting requests: every request not for this machine goes to a
# proxy that does not exist (port 9, nothing listens) and fails; Chromium never sends
# loopback requests to a proxy. Playwright's `context.route` (the browser tests' guard)
# pauses each request until the Python side answers: ~80 requests of a first open
# through one Python thread added 0.2-0.5 s to the figures it was measuring (bench/README.md).
OFFLINE_ARGS = ["--proxy-server=http://127.0.0.1:9"]
OFF_MACHINE: list[str] = []  # requests that tried to leave the machine (must stay empty)


def offline_context(browser: Any) -> Any:
    """A browser context that can reach only this machine; requests for anywhere else
    are recorded in `OFF_MACHINE` (and fail at the dead proxy)."""
    # ignore_https_errors: --via-http2's certificate is self-signed and throw-away
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  ignore_https_errors=True)

    def watch(request: Any) -> None:
        host = urlsplit(request.url).hostname or ""
        if not request.url.startswith(("data:", "blob:", "about:")) and host not in LOCAL_HOSTS:
            OFF_MACHINE.append(request.url)

    context.on("request", watch)
    return context


def timed(browser: Any, runs: int, step: Callable[[Any], float],
          warm: bool = False) -> dict[str, Any]:
    """Median, min and max seconds of `step(page)` after one untimed warm-up run.

    Each run gets a fresh browser context (an empty HTTP cache: a first visit),
    or with `warm` one context for all (the browser cache primed, as for a
    caseworker who used the app before).
    """
    times = []
    shared = offline_context(browser) if warm else None
    for i in range(runs + 1):
        context = shared or offline_context(browser)
        page = context.new_page()
        try:
            seconds = step(page)
        finally:
            page.close()
            if shared is None:
                context.close()
        if i:  # the first run warms the server's caches
            times.append(seconds)
    if shared is not None:
        shared.close()
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "runs": runs}


def empty_title(base: str) -> Callable[[Any], float]:
    def step(page: Any) -> float:
        start = time.perf_counter()
        page.goto(base)
        page.wait_for_function(SHOWN, arg="h1", timeout=TIMEOUT_MS)
        return time.perf_counter() - start
    return step


def first_open(base: str) -> Callable[[Any], float]:
    def step(page: Any) -> float:
        start = time.perf_counter()
        page.goto(f"{base}/?{SEARCH}")
        page.wait_for_function(MARKERS_DRAWN, arg=[IFRAME, None], timeout=TIMEOUT_MS)
        return time.perf_counter() - start
    return step


def filter_change(base: str) -> Callable[[Any], float]:
    def step(page: Any) -> float:
        page.goto(f"{base}/?{SEARCH}")
        page.wait_for_function(MARKERS_DRAWN, arg=[IFRAME, None], timeout=TIMEOUT_MS)
        page.locator(".rcm-card").first.wait_for(timeout=TIMEOUT_MS)
        page.evaluate(MARK_OLD_MAP, IFRAME)
        cards = page.evaluate(CARDS_TEXT)
        services = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Service types")
        services.locator("input").click()
        services.locator("input").fill("Shelter")
        start = time.perf_counter()
        page.keyboard.press("Enter")
        page.wait_for_function(MARKERS_DRAWN, arg=[IFRAME, "changed"], timeout=TIMEOUT_MS)
        page.wait_for_function(f"(before) => ({CARDS_TEXT})() !== before", arg=cards,
                               timeout=TIMEOUT_MS)
        return time.perf_counter() - start
    return step


def coverage(base: str) -> Callable[[Any], float]:
    def step(page: Any) -> float:
        start = time.perf_counter()
        page.goto(f"{base}/coverage?lang=en")
        page.wait_for_function(SHOWN, arg=FIRST_TABLE, timeout=TIMEOUT_MS)
        return time.perf_counter() - start
    return step


def coverage_map(base: str) -> Callable[[Any], float]:
    def step(page: Any) -> float:
        page.goto(f"{base}/coverage?lang=en")
        page.wait_for_function(SHOWN, arg=FIRST_TABLE, timeout=TIMEOUT_MS)
        start = time.perf_counter()
        page.get_by_role("tab", name=MAP_TAB).click()
        page.wait_for_function(CHOROPLETH_DRAWN, arg=IFRAME, timeout=TIMEOUT_MS)
        return time.perf_counter() - start
    return step


def warm_up(browser: Any, base: str) -> float:
    """Open the search link once, untimed in the figures, with a long timeout: the
    server loads (or, at 1M, builds the cache of) the registry and the place finder.
    Returns the seconds it took."""
    context = offline_context(browser)
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(f"{base}/?{SEARCH}")
        page.wait_for_function(MARKERS_DRAWN, arg=[IFRAME, None], timeout=WARM_TIMEOUT_MS)
        return time.perf_counter() - start
    finally:
        context.close()


@contextmanager
def served(script: Path, registry: Path | None, via_http2: bool) -> Iterator[str]:
    """`server`, optionally behind `http2_proxy`."""
    with server(script, registry) as base:
        if not via_http2:
            yield base
            return
        with http2_proxy(base) as proxied:
            yield proxied


def measure(runs: int, registry: Path | None, via_http2: bool = False) -> dict[str, Any]:
    """Every timing of one run, beside its goal."""
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                           "registry": str(registry or "bundled data/actors.geojson"),
                           "served": "nginx, HTTP/2 over TLS" if via_http2
                           else "streamlit directly, HTTP/1.1",
                           "cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=[*CHROMIUM_ARGS, *OFFLINE_ARGS])
        try:
            with served(EMPTY_PAGE, None, via_http2) as base:
                out["empty_page_title"] = timed(browser, runs, empty_title(base))
                out["empty_page_title_warm"] = timed(browser, runs, empty_title(base), True)
            with served(FLOOR_PAGE, registry, via_http2) as base:
                warm_up(browser, base)
                out["floor_first_open_markers"] = timed(browser, runs, first_open(base))
                out["floor_filter_change"] = timed(browser, runs, filter_change(base))
            with served(ROOT / "app.py", registry, via_http2) as base:
                out["server_warm_up_s"] = round(warm_up(browser, base), 1)
                out["first_open_markers"] = timed(browser, runs, first_open(base))
                out["first_open_markers_warm"] = timed(browser, runs, first_open(base), True)
                out["filter_change"] = timed(browser, runs, filter_change(base))
                out["coverage_page"] = timed(browser, runs, coverage(base))
                out["coverage_map_tab"] = timed(browser, runs, coverage_map(base))
        finally:
            browser.close()
    out["load_average_after"] = os.getloadavg()
    out["requests_off_machine"] = sorted(set(OFF_MACHINE))
    ratio = out["first_open_markers"]["median_s"] / out["empty_page_title"]["median_s"]
    out["first_open_ratio"] = round(ratio, 2)
    warm = (out["first_open_markers_warm"]["median_s"]
            / out["empty_page_title_warm"]["median_s"])
    out["first_open_ratio_warm"] = round(warm, 2)
    floor = out["floor_first_open_markers"]["median_s"] / out["empty_page_title"]["median_s"]
    out["floors"] = {
        "first_open_ratio": round(floor, 2),
        "filter_change_s": out["floor_filter_change"]["median_s"],
        "coverage_s": out["empty_page_title"]["median_s"],
    }
    out["goals"] = {
        "first_open_ratio": [out["first_open_ratio"], GOALS["first_open_ratio"]],
        "first_open_ratio_warm_cache": [out["first_open_ratio_warm"],
                                        GOALS["first_open_ratio"]],
        "filter_change_s": [out["filter_change"]["median_s"], GOALS["filter_change_s"]],
        "coverage_s": [out["coverage_page"]["median_s"], GOALS["coverage_s"]],
        "coverage_map_tab_s": [out["coverage_map_tab"]["median_s"], GOALS["coverage_s"]],
    }
    return out


def report(results: dict[str, Any]) -> str:
    """The results as a small Markdown table (measured vs goal)."""
    lines = [f"Registry: {results['registry']}; {results.get('served', '')}; "
             f"load average before/after "
             f"{results['load_average_before'][0]:.1f}/{results['load_average_after'][0]:.1f}"
             f" on {results['cpus']} CPUs (ratios are within one run)", "",
             "| measure | median | goal | met | floor (Streamlit + streamlit-folium alone) |",
             "|---|---|---|---|---|"]
    floors = results.get("floors", {})
    for name, (value, goal) in results["goals"].items():
        floor = floors.get(name, "")
        lines.append(f"| {name} | {value} | <= {goal} | {'yes' if value <= goal else 'NO'} "
                     f"| {floor} |")
    lines.append(f"| (empty page title, s) | {results['empty_page_title']['median_s']} | | |")
    for key in ("first_open_markers", "empty_page_title_warm", "first_open_markers_warm"):
        lines.append(f"| ({key}, s) | {results[key]['median_s']} | | |")
    lines.append(f"| (requests that tried to leave the machine) | "
                 f"{len(results.get('requests_off_machine', []))} | 0 | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the measurements, print the table, store the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--registry", type=Path, default=None)
    parser.add_argument("--via-http2", action="store_true",
                        help="measure through nginx serving HTTP/2 over TLS")
    args = parser.parse_args(argv)
    results = measure(args.runs, args.registry, args.via_http2)
    stored = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    name = Path(results["registry"]).name + (" via nginx http/2" if args.via_http2 else "")
    stored[name] = results
    RESULTS.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
