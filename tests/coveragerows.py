"""The coverage table counted the slow, obvious way, as `rcm_map.search.coverage` first
did: a row per (service, type) (`coverage.service_rows`), then distinct ids per unit
and type. The oracle of tests/unit/test_coverage.py and the naive baseline of
bench/coverage.py."""

from __future__ import annotations

import pandas as pd

from rcm_map.core import schema
from rcm_map.search import coverage


def counted_by_rows(frame: pd.DataFrame, level: str, age: int | None = None,
                    band: str | None = None) -> pd.DataFrame:
    keys = ["country"] if level == "country" else ["country", "admin1"]
    rows = coverage.service_rows(frame[coverage.age_mask(frame, age, band)])
    rows = rows[rows["service_type"].isin(schema.SERVICE_TYPES)]
    table = rows.pivot_table(index=keys, columns="service_type", values="id",
                             aggfunc="nunique", fill_value=0)
    table = table.reindex(columns=list(schema.SERVICE_TYPES), fill_value=0).astype(int)
    table["total"] = rows.groupby(keys)["id"].nunique().reindex(table.index).astype(int)
    table.columns.name = None
    return table.sort_index()
