"""Ways out of an empty or thin result list, asked of any store's search.

When a search near a point returns few services, the caseworker needs to know
why and what to try: which one filter, dropped, brings back the most services
within the radius (`relaxations`), and which matching services lie just beyond
the radius (`beyond_radius`). Both only run searches (`search` is a store's
``search(query)``: the file engine or PostGIS), one per filter the query sets,
so they cost a few searches and never load the whole registry. Counts stop at
`COUNT_CAP` (a search returns at most that many); `Relaxation.capped` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from rcm_map.search.query import Query, SearchResult

FEW_RESULTS = 3  # fewer located results than this: offer ways out
BEYOND_COUNT = 3  # nearest matching services beyond the radius to show
COUNT_CAP = 200  # counts within the radius stop here (the page's largest limit)

Search = Callable[[Query], SearchResult]

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

    @property
    def capped(self) -> bool:
        """True when `count` is `COUNT_CAP` and more services may match."""
        return self.count >= COUNT_CAP


def _is_set(query: Query, field: str) -> bool:
    return getattr(query, field) != RELAXABLE[field]


def active_filters(query: Query) -> list[str]:
    """The relaxable filters this query sets, in `RELAXABLE` order."""
    return [f for f in RELAXABLE if _is_set(query, f)]


def _count_within(search: Search, query: Query) -> int:
    """Services matching `query` within its radius, at most `COUNT_CAP`."""
    return len(search(query.with_(limit=COUNT_CAP)).located)


def relaxations(search: Search, query: Query) -> list[Relaxation]:
    """For each filter the query sets, how many services within the radius match
    when only that filter is dropped; most first, then in `RELAXABLE` order.

    Empty without a point and radius. Age and age band count as one filter each.
    """
    if query.near is None or query.radius_km is None:
        return []
    now = _count_within(search, query)
    out = []
    for field in active_filters(query):
        count = _count_within(search, query.with_(**{field: RELAXABLE[field]}))
        out.append(Relaxation(field, count, count - now))
    order = list(RELAXABLE)
    return sorted(out, key=lambda r: (-r.count, order.index(r.field)))


def beyond_radius(search: Search, query: Query, count: int = BEYOND_COUNT) -> pd.DataFrame:
    """The `count` nearest services matching every filter but lying beyond the
    radius, with their ``distance_km`` (empty without a point or radius)."""
    if query.near is None or query.radius_km is None:
        return pd.DataFrame()
    inside = _count_within(search, query)
    wider = search(query.with_(radius_km=None, limit=inside + count)).located
    if wider.empty:
        return wider
    return wider[wider["distance_km"] > query.radius_km].head(count).reset_index(drop=True)


def next_radius(current: float, choices: Sequence[float]) -> float | None:
    """The next larger radius on offer, or None at the largest."""
    larger = sorted(c for c in choices if c > current)
    return larger[0] if larger else None
