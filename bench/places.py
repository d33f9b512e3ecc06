"""Benchmark: place search: share of queries answered right, and lookup time.

Runs the 225 queries of tests/data/place_queries.csv through
`rcm_map.search.placefinder` (an answer counts when the place taken is within
5 km of the place meant) and times every lookup, `REPEATS` rounds after the
finder is built; a query's time is the median of its rounds (the machine is
shared: a round that lost the CPU to another process says nothing about the
search), and the figures are percentiles over the queries. In the same run it
times a naive baseline on the same queries: the pandas approach of many
Streamlit apps (accent-free names in a column, ``str.contains``, largest
population first), and counts how often that one is right. Writes the "places"
entry of bench/results.json (the other entries, from bench/run.py, are kept).

Usage: ``python bench/places.py``
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rcm_map.search.gazetteer import Place, default_gazetteer, normalize  # noqa: E402
from rcm_map.search.placefinder import default_finder, distance_km  # noqa: E402

QUERIES = ROOT / "tests" / "data" / "place_queries.csv"
RESULTS_JSON = ROOT / "bench" / "results.json"
TOLERANCE_KM = 5.0
REPEATS = 5
GOAL_P95_MS = 5.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def naive_frame() -> Any:
    """The gazetteer as a DataFrame with an accent-free lower-case name column."""
    import pandas as pd

    gaz = default_gazetteer()
    places = [gaz.place(i) for i in range(len(gaz))]
    return pd.DataFrame({"key": [normalize(p.name) for p in places],
                         "lat": [p.lat for p in places], "lon": [p.lon for p in places],
                         "population": [p.population for p in places]})


def naive_lookup(frame: Any, text: str) -> tuple[float, float] | None:
    hits = frame[frame["key"].str.contains(normalize(text), regex=False)]
    if hits.empty:
        return None
    top = hits.sort_values("population", ascending=False).iloc[0]
    return float(top["lat"]), float(top["lon"])


def run() -> dict[str, Any]:
    with QUERIES.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    started = time.perf_counter()
    finder = default_finder()
    build_s = time.perf_counter() - started
    frame = naive_frame()
    times: dict[int, list[float]] = {}
    cpu_times: dict[int, list[float]] = {}  # CPU time: the work itself, whatever the load
    naive_times: dict[int, list[float]] = {}
    right: dict[str, list[bool]] = {}
    naive_right = 0
    for repeat in range(REPEATS):
        for n, row in enumerate(rows):
            meant = Place("", "", "", "", float(row["lat"]), float(row["lon"]), 0)
            t0, c0 = time.perf_counter(), time.thread_time()
            found = finder.find(row["query"], lang=row["lang"])
            times.setdefault(n, []).append((time.perf_counter() - t0) * 1000)
            cpu_times.setdefault(n, []).append((time.thread_time() - c0) * 1000)
            t0 = time.perf_counter()
            naive = naive_lookup(frame, row["query"])
            naive_times.setdefault(n, []).append((time.perf_counter() - t0) * 1000)
            if repeat:
                continue
            ok = found.chosen is not None and distance_km(found.chosen.place, meant) <= TOLERANCE_KM
            right.setdefault(row["set"], []).append(ok)
            right.setdefault(row["category"], []).append(ok)
            naive_ok = naive is not None and distance_km(
                Place("", "", "", "", naive[0], naive[1], 0), meant) <= TOLERANCE_KM
            naive_right += naive_ok
    finder_ms = [statistics.median(v) for v in times.values()]
    cpu_ms = [statistics.median(v) for v in cpu_times.values()]
    naive_ms = [statistics.median(v) for v in naive_times.values()]
    share = {key: round(sum(v) / len(v), 3) for key, v in sorted(right.items())}
    total = sum(sum(right[s]) for s in ("tuning", "heldout"))
    p95 = percentile(finder_ms, 95)
    return {
        "queries": len(rows), "repeats": REPEATS, "tolerance_km": TOLERANCE_KM,
        "answered_right": total, "share_right": round(total / len(rows), 3),
        "share_right_by_set_and_kind": share,
        "lookup_ms": {"p50": round(statistics.median(finder_ms), 3), "p95": round(p95, 3),
                      "max": round(max(finder_ms), 3)},
        "lookup_cpu_ms": {"p50": round(statistics.median(cpu_ms), 3),
                          "p95": round(percentile(cpu_ms, 95), 3)},
        "goal_p95_ms": GOAL_P95_MS, "goal_met": p95 <= GOAL_P95_MS,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "finder_build_s": round(build_s, 3),
        "naive_baseline": {
            "what": "pandas str.contains on accent-free names, most populous first",
            "share_right": round(naive_right / len(rows), 3),
            "lookup_ms": {"p50": round(statistics.median(naive_ms), 3),
                          "p95": round(percentile(naive_ms, 95), 3)},
            "p50_ratio_naive_over_finder": round(statistics.median(naive_ms)
                                                 / statistics.median(finder_ms), 1),
            "p95_ratio_naive_over_finder": round(percentile(naive_ms, 95) / p95, 1),
        },
    }


def main() -> int:
    places = run()
    results = json.loads(RESULTS_JSON.read_text(encoding="utf-8")) if RESULTS_JSON.is_file() \
        else {}
    results["places"] = places
    # the same layout as bench/run.py writes, so each script changes only its own entry
    RESULTS_JSON.write_text(json.dumps(results, indent=1, default=float) + "\n",
                            encoding="utf-8")
    print(json.dumps(places, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
