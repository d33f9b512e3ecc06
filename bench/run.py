"""Benchmark: rcm_map's engine against the naive Streamlit + Folium approach.

For synthetic registries of 10k, 100k and 1M services (bench/generate.py) it
measures, in one run and on this machine:

* cache build: validating and indexing the GeoJSON once, writing the cache (time
  and peak RSS, one subprocess), beside the standard library's ``json.load`` of
  the same file in another subprocess of the same run (the baseline for ingest);
* cold start: a fresh process loads the registry from its cache and builds
  every index the interaction uses (time and peak RSS; one subprocess per run);
* one interaction, as the search page does it: filters + nearest 20, filters +
  within 50 km (at most 200 nearest, the app's largest page), and the map page
  built by `rcm_map.render.mapping.build_map` and rendered to HTML (p50/p95 over 30
  random realistic queries), plus the bytes of that HTML;
* the naive baseline on the same queries: distances with ``DataFrame.apply``
  over every row, filters with ``apply``, one ``folium.Marker`` with an HTML
  ``folium.Popup`` per service within 50 km (all of them), rendered to HTML;
* in headless Chromium, the time from navigation to drawn markers (10k, 100k).

Writes bench/results.json and the results table in bench/README.md.
Usage: ``python bench/run.py [--sizes 10000,100000,1000000] [--quick]``;
``--ingest-only`` measures only the cache build and ``json.load`` (fresh, for the
given sizes) and updates those rows of bench/results.json and the README table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

from rcm_map.core import schema  # noqa: E402
from rcm_map.core.geo import haversine_km  # noqa: E402
from rcm_map.registry import cache as registry_cache  # noqa: E402
from rcm_map.registry import load_registry  # noqa: E402
from rcm_map.registry.model import Registry, plain_lists  # noqa: E402
from rcm_map.search.query import Query, search  # noqa: E402

RESULTS_JSON = ROOT / "bench" / "results.json"
README = ROOT / "bench" / "README.md"
SIZES = (10_000, 100_000, 1_000_000)
RADIUS_KM = 50.0
NEAREST = 20
MAP_LIMIT = 200  # rcm_map.search.urlstate.MAX_LIMIT: the most results the search page shows
QUERIES = 30
QUERY_SEED = 6
COLD_RUNS = {10_000: 5, 100_000: 5, 1_000_000: 3}
NAIVE_QUERIES = {10_000: 5, 100_000: 3, 1_000_000: 2}
NAIVE_MARKER_CAP = 5_000  # beyond this many markers: measure 5,000, extrapolate linearly
BROWSER_SIZES = (10_000, 100_000)
BROWSER_RUNS = 5
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
TARGETS = {"interaction_p50_ms_100k": 50.0, "interaction_p50_ms_1m": 250.0,
           "payload_max_mb": 1.5, "cold_start_s_1m": 3.0, "speedup_vs_naive_100k": 20.0,
           # issue 13 item 6: validate + cache build of 1M services in no more time than
           # the standard library's json.load of the same file takes, and under 2 GB
           "ingest_time_over_json_load_1m": 1.0, "ingest_peak_rss_mb_1m": 2048.0}


def log(message: str) -> None:
    """Progress on stderr (results go to files)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (linear interpolation), as numpy computes it."""
    return float(np.percentile(np.asarray(values, dtype=float), q))


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class BenchQuery:
    """A caseworker's search: a point near a real place and some filters."""

    near: tuple[float, float]
    service_types: tuple[str, ...]
    age: int | None
    populations: tuple[str, ...]

    def query(self, radius_km: float | None, limit: int | None) -> Query:
        """The engine query with this point, these filters, radius and limit."""
        return Query(service_types=self.service_types, age=self.age,
                     populations=self.populations, near=self.near,
                     radius_km=radius_km, limit=limit)


def make_queries(n: int = QUERIES, seed: int = QUERY_SEED) -> list[BenchQuery]:
    """`n` searches near places chosen by population (where caseworkers are), with
    the filters caseworkers use: one or two service types, an age, a population."""
    rng = np.random.default_rng(seed)
    places = generate.load_places()
    idx = rng.choice(len(places), size=n, p=generate.place_weights(
        places["population"].to_numpy(float)))
    types = list(schema.SERVICE_TYPES)
    pops = list(schema.POPULATIONS)
    out = []
    for k in idx:
        lat = float(places["lat"].iloc[k]) + rng.normal(0, 0.03)
        lon = float(places["lon"].iloc[k]) + rng.normal(0, 0.03)
        chosen = tuple(rng.choice(types, size=rng.integers(1, 3), replace=False).tolist()) \
            if rng.random() < 0.7 else ()
        age = int(rng.integers(0, 18)) if rng.random() < 0.6 else None
        population = (str(rng.choice(pops)),) if rng.random() < 0.3 else ()
        out.append(BenchQuery((round(lat, 5), round(lon, 5)), chosen, age, population))
    return out


# --------------------------------------------------------------------------- ours


class Boundaries:
    """Admin-1 outlines per set of countries, built once (the app caches them too)."""

    def __init__(self) -> None:
        from rcm_map.core.boundaries import load_admin1

        self.frame = load_admin1()
        self.cache: dict[tuple[str, ...], dict[str, Any]] = {}

    def payload(self, countries: tuple[str, ...]) -> dict[str, Any]:
        """The boundaries payload of `countries` (all when empty), as the search page."""
        from rcm_map.render.mapping import boundaries_payload

        if countries not in self.cache:
            frame = self.frame[self.frame["country_iso3"].isin(countries)] if countries \
                else self.frame
            self.cache[countries] = boundaries_payload(frame, "es")
        return self.cache[countries]


def interaction(registry: Registry, bq: BenchQuery, bounds: Boundaries) -> dict[str, Any]:
    """One rerun of the search page: nearest 20, within 50 km, the rendered map."""
    from rcm_map.render.mapping import build_map

    t0, c0 = time.perf_counter(), time.process_time()
    nearest = search(registry, bq.query(None, NEAREST))
    t1 = time.perf_counter()
    within = search(registry, bq.query(RADIUS_KM, MAP_LIMIT))
    t2 = time.perf_counter()
    countries = tuple(sorted(set(within.located["country"])))
    fmap = build_map(within.located, center=bq.near, radius_km=RADIUS_KM,
                     boundaries=bounds.payload(countries), lang="es")
    page = fmap.get_root().render()
    t3, c3 = time.perf_counter(), time.process_time()
    return {"total_ms": (t3 - t0) * 1e3, "cpu_ms": (c3 - c0) * 1e3,
            "nearest_ms": (t1 - t0) * 1e3, "within_ms": (t2 - t1) * 1e3,
            "map_ms": (t3 - t2) * 1e3, "bytes": len(page.encode("utf-8")),
            "nearest": len(nearest.located), "on_map": len(within.located), "page": page}


def measure_interactions(registry: Registry, queries: list[BenchQuery]) -> dict[str, Any]:
    """p50/p95 of the interaction over `queries`, after one untimed pass (the app
    builds each set of boundary outlines once per process, and so do we)."""
    bounds = Boundaries()
    for bq in queries:
        interaction(registry, bq, bounds)
    runs = [interaction(registry, bq, bounds) for bq in queries]
    summary: dict[str, Any] = {"queries": len(runs)}
    for key in ("total_ms", "cpu_ms", "nearest_ms", "within_ms", "map_ms"):
        values = [r[key] for r in runs]
        summary[key] = {"p50": percentile(values, 50), "p95": percentile(values, 95),
                        "max": max(values)}
    sizes = [r["bytes"] for r in runs]
    summary["bytes"] = {"p50": percentile(sizes, 50), "max": max(sizes)}
    summary["on_map"] = {"p50": percentile([r["on_map"] for r in runs], 50),
                         "max": max(r["on_map"] for r in runs)}
    summary["per_query_total_ms"] = [round(r["total_ms"], 2) for r in runs]
    summary["per_query_bytes"] = sizes
    summary["_pages"] = [r["page"] for r in runs[:1]]
    return summary


# --------------------------------------------------------------------------- naive


def naive_popup(row: Any, km: float) -> str:
    """The popup HTML a typical Folium app writes for one service."""
    types = ", ".join(row.service_types)
    phones = ", ".join(row.phones)
    return (f"<b>{html.escape(row.name)}</b><br>{html.escape(row.organization)}<br>"
            f"<i>{html.escape(types)}</i><br>{html.escape(row.address)}, "
            f"{html.escape(row.city)}<br>Tel: {html.escape(phones)}<br>"
            f"{html.escape(row.hours)}<br>{km:.1f} km")


def naive_matches(df: Any, bq: BenchQuery) -> Any:
    """Filters and distances the naive way: `apply` over every row."""
    lat, lon = bq.near
    dist = df.apply(lambda r: haversine_km(lat, lon, r["lat"], r["lon"]), axis=1)
    keep = dist <= RADIUS_KM
    if bq.service_types:
        keep &= df["service_types"].apply(lambda v: any(t in v for t in bq.service_types))
    if bq.populations:
        keep &= df["populations"].apply(lambda v: any(p in v for p in bq.populations))
    if bq.age is not None:
        age = bq.age
        keep &= df.apply(lambda r: (r["age_min"] is None or r["age_min"] <= age)
                         and (r["age_max"] is None or age <= r["age_max"]), axis=1)
    return df[keep].assign(distance_km=dist[keep]).sort_values("distance_km")


def naive_map(hits: Any, bq: BenchQuery) -> str:
    """One folium.Marker + folium.Popup per service, rendered to the HTML page."""
    import folium

    fmap = folium.Map(location=list(bq.near), zoom_start=10)
    for row in hits.itertuples():
        folium.Marker([row.lat, row.lon],
                      popup=folium.Popup(naive_popup(row, row.distance_km), max_width=300),
                      tooltip=html.escape(row.name)).add_to(fmap)
    return fmap.get_root().render()


def naive_interaction(df: Any, bq: BenchQuery) -> dict[str, Any]:
    """The naive rerun; above NAIVE_MARKER_CAP markers the map part is extrapolated."""
    t0 = time.perf_counter()
    hits = naive_matches(df, bq)
    t1 = time.perf_counter()
    shown = hits.head(NAIVE_MARKER_CAP)
    page = naive_map(shown, bq)
    t2 = time.perf_counter()
    scale = len(hits) / len(shown) if len(shown) else 1.0
    return {"markers": len(hits), "extrapolated": len(hits) > len(shown),
            "search_ms": (t1 - t0) * 1e3, "map_ms": (t2 - t1) * 1e3 * scale,
            "total_ms": ((t1 - t0) + (t2 - t1) * scale) * 1e3,
            "bytes": int(len(page.encode("utf-8")) * scale)}


def naive_frame(registry: Registry) -> Any:
    """The registry as a naive app holds it: a DataFrame of Python objects with lon/lat."""
    import pandas as pd

    df = plain_lists(pd.DataFrame(registry.frame.drop(columns="geometry")))
    df["lon"], df["lat"] = registry.lon, registry.lat
    df["age_min"] = df["age_min"].astype(object).where(df["age_min"].notna(), None)
    df["age_max"] = df["age_max"].astype(object).where(df["age_max"].notna(), None)
    return df


# --------------------------------------------------------------------------- processes


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """User + system CPU time of this process so far (every thread), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_cache_build(path: str) -> None:
    """(Subprocess) validate, index and cache the GeoJSON; print JSON figures."""
    registry_cache.clear_cache(path)
    started, cpu = time.perf_counter(), cpu_s()
    registry = load_registry(path)
    print(json.dumps({"build_s": time.perf_counter() - started, "build_cpu_s": cpu_s() - cpu,
                      "peak_rss_mb": peak_rss_mb(),
                      "rows": len(registry),
                      "cache_mb": cache_mb(Path(path)),
                      "geojson_mb": Path(path).stat().st_size / 1e6}))


def child_json_load(path: str) -> None:
    """(Subprocess) the baseline: the standard library's json.load of the file."""
    started, cpu = time.perf_counter(), cpu_s()
    with open(path, encoding="utf-8") as handle:
        features = len(json.load(handle)["features"])
    print(json.dumps({"json_load_s": time.perf_counter() - started,
                      "json_load_cpu_s": cpu_s() - cpu,
                      "json_load_peak_rss_mb": peak_rss_mb(), "json_load_features": features}))


COLD_START = """
import json, resource, sys, time
started = time.perf_counter()
import geopandas, pandas, pyarrow.parquet  # the libraries every start pays for, timed apart
from rcm_map.registry import load_registry
imported = time.perf_counter()
rss_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
registry = load_registry(sys.argv[1])
registry.ids, registry.languages, registry.attributes, registry.grid  # indexes the interaction uses
done = time.perf_counter()
print(json.dumps({"load_s": done - imported, "imports_s": imported - started,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_after_imports_mb": rss_imports, "rows": len(registry)}))
"""


def cache_mb(path: Path) -> float:
    """Size of the registry's cache file(s) in MB."""
    return sum(p.stat().st_size for p in registry_cache.cache_files(path)) / 1e6


def run_child(kind: str, path: Path) -> dict[str, Any]:
    """Measure in a fresh process (honest peak RSS); parse its JSON line."""
    command = [sys.executable, "-c", COLD_START, str(path)] if kind == "cold" \
        else [sys.executable, __file__, f"--child-{kind}", str(path)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_start(path: Path, runs: int) -> dict[str, Any]:
    """Medians of `runs` cold starts, each in a fresh process."""
    results = [run_child("cold", path) for _ in range(runs)]
    return {"runs": runs,
            **{k: statistics.median(r[k] for r in results)
               for k in ("load_s", "imports_s", "peak_rss_mb", "rss_after_imports_mb")},
            "load_s_all": [round(r["load_s"], 3) for r in results]}


def cache_build(path: Path, fresh: bool = False) -> dict[str, Any]:
    """Build the cache in a subprocess (after json.load of the file in another one)
    unless a current cache exists and not `fresh`; then reuse the figures measured
    when it was built (bench/work/, labelled as such)."""
    record = path.with_name(path.name + ".build.json")
    digest = registry_cache.known_digest(path)
    if not fresh and digest and registry_cache.cache_path(path, digest).exists() \
            and record.exists():
        return {**json.loads(record.read_text()), "cache_mb": cache_mb(path),
                "measured_in_this_run": False}
    figures = {**run_child("json-load", path), **run_child("build", path)}
    record.write_text(json.dumps(figures))
    return {**figures, "measured_in_this_run": True}


# --------------------------------------------------------------------------- browser


def serve(directory: Path) -> tuple[Any, str]:
    """A local HTTP server: /app/static/... from static/, everything else from `directory`."""
    import functools
    import http.server
    import threading

    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            if path.startswith("/app/static/"):
                return str(ROOT / "static" / path[len("/app/static/"):].split("?")[0])
            return super().translate_path(path)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


MARKERS_DRAWN = """() => {
  const n = document.querySelectorAll('.leaflet-marker-icon').length;
  return n > 0 ? [performance.now(), n] : false;
}"""


def browser_times(pages: dict[int, str]) -> dict[int, dict[str, Any]]:
    """Median ms from navigation start to the first drawn markers, per size."""
    from playwright.sync_api import sync_playwright

    folder = generate.WORK_DIR / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    for size, page_html in pages.items():
        (folder / f"map-{size}.html").write_text(page_html, encoding="utf-8")
    server, base = serve(folder)
    out: dict[int, dict[str, Any]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            for size in pages:
                times, markers = [], 0
                for _ in range(BROWSER_RUNS):
                    context = browser.new_context(viewport={"width": 1200, "height": 800})
                    page = context.new_page()
                    page.goto(f"{base}/map-{size}.html", wait_until="commit")
                    handle = page.wait_for_function(MARKERS_DRAWN, polling="raf",
                                                    timeout=120_000)
                    ms, markers = handle.json_value()
                    times.append(ms)
                    context.close()
                out[size] = {"ms_to_markers_p50": statistics.median(times),
                             "runs_ms": [round(t, 1) for t in times],
                             "marker_elements": markers,
                             "page_bytes": len(pages[size].encode("utf-8"))}
            browser.close()
    finally:
        server.shutdown()
    return out


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM and load of this machine."""
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as handle:
        total_kb = int(handle.readline().split()[1])
    return {"cpu": model, "cores": os.cpu_count(), "ram_gb": round(total_kb / 1024**2, 1),
            "os": platform.platform(), "load_average_1_5_15": os.getloadavg()}


def versions() -> dict[str, str]:
    """Versions of Python, the libraries measured and Chromium."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "geopandas", "shapely", "pyarrow", "folium", "branca",
                 "streamlit", "streamlit-folium", "playwright"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "-"
    try:
        out["chromium"] = subprocess.run([CHROMIUM, "--version"], capture_output=True,
                                         text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out["chromium"] = "-"
    return out


def targets(sizes: dict[str, Any]) -> dict[str, Any]:
    """Each target with the measured value and whether it holds."""
    def get(size: int, *keys: str) -> float | None:
        node: Any = sizes.get(str(size))
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    values = {
        "interaction_p50_ms_100k": get(100_000, "interaction", "total_ms", "p50"),
        "interaction_p50_ms_1m": get(1_000_000, "interaction", "total_ms", "p50"),
        "payload_max_mb": max((s["interaction"]["bytes"]["max"] / 1e6 for s in sizes.values()),
                              default=None),
        "cold_start_s_1m": get(1_000_000, "cold_start", "load_s"),
        "speedup_vs_naive_100k": get(100_000, "ratios", "speedup_time"),
        "ingest_time_over_json_load_1m": _ratio(get(1_000_000, "cache_build", "build_s"),
                                                get(1_000_000, "cache_build", "json_load_s")),
        "ingest_peak_rss_mb_1m": get(1_000_000, "cache_build", "peak_rss_mb"),
    }
    out = {}
    for key, target in TARGETS.items():
        value = values[key]
        met = None if value is None else (value >= target if key.startswith("speedup")
                                          else value <= target)
        out[key] = {"target": target, "value": value, "met": met}
    return out


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or not bottom else top / bottom


def fmt(value: Any, digits: int = 1) -> str:
    """A number for the table ('-' when not measured)."""
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def table(results: dict[str, Any]) -> str:
    """The markdown results table (one column per size)."""
    sizes = results["sizes"]
    keys = list(sizes)
    head = "| figure | " + " | ".join(f"{int(k):,} services" for k in keys) + " |"
    rows = [head, "|---|" + "---|" * len(keys)]

    def row(label: str, fn: Any) -> None:
        cells = []
        for k in keys:
            try:
                cells.append(fn(sizes[k]))
            except (KeyError, TypeError):
                cells.append("-")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    row("GeoJSON size (MB)", lambda s: fmt(s["cache_build"]["geojson_mb"]))
    row("cache build: validate + index + write (s)", lambda s: fmt(s["cache_build"]["build_s"])
        + ("" if s["cache_build"]["measured_in_this_run"] else " (earlier run)"))
    row("cache build peak RSS (MB)", lambda s: fmt(s["cache_build"]["peak_rss_mb"], 0))
    row("baseline: json.load of the same file (s)",
        lambda s: fmt(s["cache_build"]["json_load_s"]))
    row("baseline: json.load peak RSS (MB)",
        lambda s: fmt(s["cache_build"]["json_load_peak_rss_mb"], 0))
    row("**cache build time / json.load time** (goal at 1M: <= 1)",
        lambda s: f"{s['cache_build']['build_s'] / s['cache_build']['json_load_s']:.2f}")
    row("cache build CPU, user + system (s)", lambda s: fmt(s["cache_build"]["build_cpu_s"]))
    row("json.load CPU, user + system (s)", lambda s: fmt(s["cache_build"]["json_load_cpu_s"]))
    row("cache build CPU / json.load CPU",
        lambda s: f"{s['cache_build']['build_cpu_s'] / s['cache_build']['json_load_cpu_s']:.2f}")
    row("cache file (MB)", lambda s: fmt(s["cache_build"]["cache_mb"]))
    row("**cold start from cache: load + indexes (s)**", lambda s: fmt(s["cold_start"]["load_s"],
                                                                      2))
    row("cold start: library imports (s)", lambda s: fmt(s["cold_start"]["imports_s"], 2))
    row("cold start peak RSS (MB)", lambda s: fmt(s["cold_start"]["peak_rss_mb"], 0))
    row("**interaction p50 (ms)**", lambda s: fmt(s["interaction"]["total_ms"]["p50"]))
    row("interaction p95 (ms)", lambda s: fmt(s["interaction"]["total_ms"]["p95"]))
    row("interaction CPU p50 (ms)", lambda s: fmt(s["interaction"]["cpu_ms"]["p50"]))
    row("- nearest 20 p50 (ms)", lambda s: fmt(s["interaction"]["nearest_ms"]["p50"]))
    row("- within 50 km (200 nearest) p50 (ms)",
        lambda s: fmt(s["interaction"]["within_ms"]["p50"]))
    row("- build + render map p50 (ms)", lambda s: fmt(s["interaction"]["map_ms"]["p50"]))
    row("services on the map p50 / max", lambda s: f"{s['interaction']['on_map']['p50']:.0f} / "
        f"{s['interaction']['on_map']['max']}")
    row("**map payload p50 / max (MB)**", lambda s: f"{s['interaction']['bytes']['p50'] / 1e6:.3f}"
        f" / {s['interaction']['bytes']['max'] / 1e6:.3f}")
    row("naive: queries measured", lambda s: f"{s['naive']['queries']}"
        + (" (map part extrapolated)" if s["naive"]["extrapolated"] else ""))
    row("naive: markers p50 (all within 50 km)", lambda s: fmt(s["naive"]["markers_p50"], 0))
    row("naive: interaction p50 (ms)", lambda s: fmt(s["naive"]["total_ms_p50"], 0))
    row("naive: map payload p50 (MB)", lambda s: fmt(s["naive"]["bytes_p50"] / 1e6, 2))
    row("ours, same queries, p50 (ms)", lambda s: fmt(s["ratios"]["ours_same_queries_ms"]))
    row("**speed-up: naive time / ours**", lambda s: fmt(s["ratios"]["speedup_time"], 0) + "x")
    row("ours time / naive time", lambda s: f"{1 / s['ratios']['speedup_time']:.4f}")
    row("ours bytes / naive bytes", lambda s: f"{s['ratios']['bytes_ratio']:.3f}")
    row("**browser: navigation to drawn markers p50 (ms)**",
        lambda s: fmt(s["browser"]["ms_to_markers_p50"], 0))
    return "\n".join(rows)


def targets_table(results: dict[str, Any]) -> str:
    """Markdown list of the targets and whether they hold."""
    lines = ["| target | goal | measured | met |", "|---|---|---|---|"]
    for key, t in results["targets"].items():
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        lines.append(f"| {key} | {t['target']} | {fmt(t['value'], 3)} | {met} |")
    return "\n".join(lines)


def write_readme(results: dict[str, Any]) -> None:
    """Replace the generated block of bench/README.md with this run's tables."""
    m, v = results["machine"], results["versions"]
    block = "\n".join([
        "<!-- results:start (written by bench/run.py; do not edit by hand) -->",
        f"Run of {results['date']} on {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM "
        f"({m['os']}); load average at start {results['load_average_start']}, at end "
        f"{m['load_average_1_5_15']} (other jobs shared the machine when above ~0.5).",
        "", f"Python {v['python']}, numpy {v['numpy']}, pandas {v['pandas']}, geopandas "
        f"{v['geopandas']}, shapely {v['shapely']}, pyarrow {v['pyarrow']}, folium "
        f"{v['folium']}, {v['chromium']}. Total run time {results['run_s'] / 60:.1f} min.",
        *([f"Cache build and json.load rows re-measured on {results['ingest_date']} "
           f"(`bench/run.py --ingest-only`; load average at start {results['ingest_load']}, "
           f"at end {results.get('ingest_load_end', '-')})."]
          if results.get("ingest_date") else []),
        "", table(results), "", targets_table(results), "",
        "<!-- results:end -->"])
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    start, end = "<!-- results:start", "<!-- results:end -->"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text + "\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- main


def bench_size(size: int, queries: list[BenchQuery], quick: bool) -> tuple[dict[str, Any], str]:
    """Every figure for one registry size; also returns one map page for the browser."""
    started = time.perf_counter()
    path = generate.registry_path(size)
    if not path.exists():
        log(f"{size:,}: generating the synthetic registry")
    path = generate.ensure_registry(size)
    log(f"{size:,}: cache build")
    out: dict[str, Any] = {"generate_s_if_generated": time.perf_counter() - started}
    out["cache_build"] = cache_build(path)
    log(f"{size:,}: cold starts")
    out["cold_start"] = cold_start(path, 2 if quick else COLD_RUNS[size])
    registry = load_registry(path)
    log(f"{size:,}: {len(queries)} interactions")
    inter = measure_interactions(registry, queries)
    page = inter.pop("_pages")[0]
    out["interaction"] = inter
    log(f"{size:,}: naive baseline")
    naive_n = 1 if quick else NAIVE_QUERIES[size]
    df = naive_frame(registry)
    naive = [naive_interaction(df, bq) for bq in queries[:naive_n]]
    del df
    out["naive"] = {"queries": naive_n, "extrapolated": any(r["extrapolated"] for r in naive),
                    "markers_p50": statistics.median(r["markers"] for r in naive),
                    "total_ms_p50": statistics.median(r["total_ms"] for r in naive),
                    "bytes_p50": statistics.median(r["bytes"] for r in naive),
                    "runs": naive}
    ours_same = statistics.median(inter["per_query_total_ms"][:naive_n])
    ours_bytes = statistics.median(inter["per_query_bytes"][:naive_n])
    out["ratios"] = {"ours_same_queries_ms": ours_same,
                     "speedup_time": out["naive"]["total_ms_p50"] / ours_same,
                     "bytes_ratio": ours_bytes / out["naive"]["bytes_p50"]}
    return out, page


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write results.json and the README table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke test)")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--ingest-only", action="store_true",
                        help="measure only the cache build and json.load; update results")
    parser.add_argument("--child-build", help=argparse.SUPPRESS)
    parser.add_argument("--child-json-load", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_build:
        child_cache_build(args.child_build)
        return 0
    if args.child_json_load:
        child_json_load(args.child_json_load)
        return 0
    if args.ingest_only:
        return ingest_only([int(s) for s in args.sizes.split(",")])
    started = time.perf_counter()
    load_start = os.getloadavg()
    queries = make_queries()
    sizes: dict[str, Any] = {}
    pages: dict[int, str] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        sizes[str(size)], page = bench_size(size, queries, args.quick)
        if size in BROWSER_SIZES:
            pages[size] = page
    if pages and not args.no_browser:
        log("browser")
        for size, figures in browser_times(pages).items():
            sizes[str(size)]["browser"] = figures
    results = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": machine(), "versions": versions(),
               "load_average_start": load_start,
               "settings": {"radius_km": RADIUS_KM, "nearest": NEAREST, "map_limit": MAP_LIMIT,
                            "queries": len(queries), "query_seed": QUERY_SEED,
                            "registry_seed": generate.DEFAULT_SEED,
                            "naive_marker_cap": NAIVE_MARKER_CAP, "quick": args.quick},
               "sizes": sizes}
    results["targets"] = targets(sizes)
    results["run_s"] = time.perf_counter() - started
    RESULTS_JSON.write_text(json.dumps(results, indent=1, default=float) + "\n",
                            encoding="utf-8")
    write_readme(results)
    log(f"done in {results['run_s'] / 60:.1f} min: {RESULTS_JSON}")
    print(table(results))
    print(targets_table(results))
    return 0


def ingest_only(sizes: list[int]) -> int:
    """Measure the cache build and json.load afresh; update results.json and the README."""
    results = json.loads(RESULTS_JSON.read_text(encoding="utf-8"))
    results["ingest_load"] = list(os.getloadavg())
    for size in sizes:
        path = generate.ensure_registry(size)
        log(f"{size:,}: json.load, then cache build")
        figures = cache_build(path, fresh=True)
        results["sizes"].setdefault(str(size), {})["cache_build"] = figures
        log(f"{size:,}: {json.dumps(figures)}")
    results["ingest_date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    results["ingest_load_end"] = list(os.getloadavg())
    results["targets"] = targets(results["sizes"])
    RESULTS_JSON.write_text(json.dumps(results, indent=1, default=float) + "\n",
                            encoding="utf-8")
    write_readme(results)
    print(targets_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
