"""Help lines that apply where the child is, whatever the filters.

A caseworker who asks for shelters near Tapachula still needs the country's
child-protection line: when none of the shelters lists a phone, the page would
otherwise offer nothing to call. `lines_query` is the search for the country-wide
help lines (service type ``hotline``) that apply at the searched point: the same
point and radius, the same chosen countries, and none of the other filters (a
line for "every child" does not list an age, a language or a population, and a
province filter would hide the national lines). Which lines apply at a point is
the engine's rule for country-wide services (`rcm_map.search.query.search`): those
of the countries within 25 km, and a province's only in or near that province.

The nearest local lines within the radius come too (a city's child-protection
intake line, say), since a shelter filter would hide them from the list.

`help_lines` orders them for a person: the local lines nearest first, then the
country-wide ones: those of the country the point is in first (at a border the
neighbour's come after), child-protection lines first, then by name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rcm_map.search.query import Query, SearchResult, countries_at

LINE_TYPE = "hotline"
LOCAL_LINES = 3  # nearest located lines within the radius
CHILD_PROTECTION = "child_protection_authority"


def lines_query(query: Query) -> Query | None:
    """The query for the help lines at `query`'s point (None without a point)."""
    if query.near is None:
        return None
    return Query(service_types=(LINE_TYPE,), countries=query.countries, near=query.near,
                 radius_km=query.radius_km, limit=LOCAL_LINES)


def help_lines(found: SearchResult, near: tuple[float, float] | None = None) -> pd.DataFrame:
    """The lines of a `lines_query` result: the located ones (nearest first), then
    the country-wide ones: of the country at `near` (lat, lon) first, then of the
    nearest neighbours, child-protection lines first, then by name."""
    rows = found.countrywide
    if rows.empty or "service_types" not in rows:
        return found.located
    protects = np.fromiter((CHILD_PROTECTION in list(t) for t in rows["service_types"]),
                           dtype=bool, count=len(rows))
    nearest = countries_at(*near) if near is not None else []
    country = rows["country"].to_numpy(dtype=object)
    place = np.array([nearest.index(c) if c in nearest else len(nearest) for c in country])
    order = np.lexsort((rows["name"].to_numpy(dtype=object), country, ~protects, place))
    if found.located.empty:
        return rows.iloc[order]
    return pd.concat([found.located, rows.iloc[order]], ignore_index=True)
