"""Coverage tables at scale: `rcm_map.search.coverage.coverage_table` against the naive
way, as it was first written (`tests/coveragerows.py`: one row per service and type,
then ``pivot_table`` counting distinct ids), on the same synthetic registry in the
same run.

Both answers are compared cell by cell for every level, age filter and band before
anything is timed. Usage: ``python bench/coverage.py [--size 100000] [--repeat 3]``
(the registry comes from ``bench/generate.py``; 1M takes minutes the first time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

import generate  # noqa: E402
from coveragerows import counted_by_rows  # noqa: E402

from rcm_map.registry import load_registry  # noqa: E402
from rcm_map.search import coverage  # noqa: E402

CASES = [("country", None, None), ("admin1", None, None), ("admin1", 15, None),
         ("country", None, "0-5"), ("admin1", None, "12-17")]


def seconds(call: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    frame = load_registry(generate.ensure_registry(args.size)).frame
    print(f"coverage tables, {len(frame):,} services, median of {args.repeat}\n")
    print("| level | age | band | naive (s) | rcm_map (s) | ratio |")
    print("|---|---|---|---|---|---|")
    for level, age, band in CASES:
        ours = coverage.coverage_table(frame, level, age=age, age_band=band)
        pd.testing.assert_frame_equal(ours, counted_by_rows(frame, level, age, band),
                                      check_dtype=False, check_index_type=False)
        slow = seconds(partial(counted_by_rows, frame, level, age, band), args.repeat)
        fast = seconds(partial(coverage.coverage_table, frame, level, age=age, age_band=band),
                       args.repeat)
        print(f"| {level} | {age or ''} | {band or ''} | {slow:.3f} | {fast:.3f} "
              f"| {slow / fast:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
