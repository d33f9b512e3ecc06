"""Ways out of an empty or thin result list (pure functions over a `Registry`).

When a search near a point returns few services, the caseworker needs to know
why and what to try: which one filter, dropped, brings back the most services
within the radius (`relaxations`), and which matching services lie just beyond
the radius (`beyond_radius`). Counting reuses the bitmask filters of
`rcm_map.query`, so it costs a few milliseconds per filter even at 1M services.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcm_map.core.geo import haversine_km_many
from rcm_map.registry.model import Registry
from rcm_map.search.query import Query, filter_mask, search

FEW_RESULTS = 3  # fewer located results than this: offer ways out
BEYOND_COUNT = 3  # nearest matching services beyond the radius to show

# Query fields a caseworker sets, and the value that means "not filtering".
RELAXABLE: dict[str, object] = {
    "service_types": (), "age": None, "age_band": None, "populations": (),
    "languages": (), "countries": (), "admin1": (),
}


@dataclass(frozen=True)
class Relaxation:
    """Dropping the filter `field` would list `count` services within the radius
    (`gain` more than now)."""

    field: str
    count: int
    gain: int


def _is_set(query: Query, field: str) -> bool:
    return getattr(query, field) != RELAXABLE[field]


def active_filters(query: Query) -> list[str]:
    """The relaxable filters this query sets, in `RELAXABLE` order."""
    return [f for f in RELAXABLE if _is_set(query, f)]


def _within_radius(registry: Registry, query: Query) -> np.ndarray:
    """Rows of located services within the query's radius of its point (any filter)."""
    assert query.near is not None and query.radius_km is not None
    lat, lon = query.near
    rows = registry.grid.candidates(lat, lon, query.radius_km)
    if rows is None:
        rows = np.flatnonzero(~np.isnan(registry.lat))
    rows = rows[~np.isnan(registry.lat[rows])]
    dist = haversine_km_many(lat, lon, registry.lat[rows], registry.lon[rows])
    return rows[dist <= query.radius_km]


def relaxations(registry: Registry, query: Query) -> list[Relaxation]:
    """For each filter the query sets, how many services within the radius match
    when only that filter is dropped; most first, then in `RELAXABLE` order.

    Empty without a point and radius. Age and age band count as one filter each.
    """
    if query.near is None or query.radius_km is None:
        return []
    near = _within_radius(registry, query)
    now = int(np.count_nonzero(filter_mask(registry, query)[near]))
    out = []
    for field in active_filters(query):
        relaxed = query.with_(**{field: RELAXABLE[field]})
        count = int(np.count_nonzero(filter_mask(registry, relaxed)[near]))
        out.append(Relaxation(field, count, count - now))
    order = list(RELAXABLE)
    return sorted(out, key=lambda r: (-r.count, order.index(r.field)))


def beyond_radius(registry: Registry, query: Query, count: int = BEYOND_COUNT) -> pd.DataFrame:
    """The `count` nearest services matching every filter but lying beyond the
    radius, with their ``distance_km`` (empty without a point or radius)."""
    if query.near is None or query.radius_km is None:
        return pd.DataFrame()
    inside = search(registry, query.with_(limit=None)).located
    wider = search(registry, query.with_(radius_km=None, limit=len(inside) + count)).located
    if wider.empty:
        return wider
    return wider[wider["distance_km"] > query.radius_km].head(count).reset_index(drop=True)


def next_radius(current: float, choices: Sequence[float]) -> float | None:
    """The next larger radius on offer, or None at the largest."""
    larger = sorted(c for c in choices if c > current)
    return larger[0] if larger else None
