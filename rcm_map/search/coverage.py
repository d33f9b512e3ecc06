"""Coverage of the registry for the network: counts per country and admin-1, and gaps.

Pure module (no Streamlit). A service counts in the admin-1 unit of its
``admin1`` field (the unit it serves, also for confidential services whose
public point may lie across a border). Services without an admin-1 code count
only at country level; country-wide services (no location) are reported next
to each gap, since they may reach a unit that has nothing of its own.

Age filters follow the engine (`rcm_map.search.query`): an age must lie inside a
service's [age_min, age_max]; an age band must overlap it; open ends match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rcm_map.core import schema
from rcm_map.registry.model import code_masks

ALL_AGES = "all"


@dataclass(frozen=True)
class Unit:
    """An admin-1 unit as coverage needs it (code, country ISO3, name)."""

    code: str
    country: str
    name: str


def _ages(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    lo = frame["age_min"].astype("Float64").fillna(-np.inf).to_numpy(float)
    hi = frame["age_max"].astype("Float64").fillna(np.inf).to_numpy(float)
    return lo, hi


def age_mask(
    frame: pd.DataFrame, age: int | None = None, age_band: str | None = None
) -> np.ndarray:
    """Services whose age range includes `age`, or overlaps `age_band` (both optional).

    Raises
    ------
    ValueError
        For an age band that is not in `rcm_map.core.schema.AGE_BANDS`.
    """
    lo, hi = _ages(frame)
    mask = np.ones(len(frame), dtype=bool)
    if age is not None:
        mask &= (lo <= age) & (age <= hi)
    if age_band is not None and age_band != ALL_AGES:
        if age_band not in schema.AGE_BANDS:
            raise ValueError(f"Expected an age band in {list(schema.AGE_BANDS)!r}, "
                             f"instead got: {age_band!r}.")
        band_lo, band_hi = schema.AGE_BANDS[age_band]
        mask &= (lo <= band_hi) & (band_lo <= hi)
    return mask


def _located(frame: pd.DataFrame) -> np.ndarray:
    if "geometry" in frame.columns:
        geoms = frame["geometry"]
        return np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if "lat" in frame.columns:
        return frame["lat"].notna().to_numpy()
    return np.ones(len(frame), dtype=bool)


def service_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (service, service type): id, country, admin1, service_type, located,
    age_min, age_max. The input is not modified."""
    base = pd.DataFrame({
        "id": frame["id"].to_numpy(),
        "country": frame["country"].to_numpy(),
        "admin1": frame["admin1"].fillna("").to_numpy(),
        "service_type": list(frame["service_types"]),
        "located": _located(frame),
        "age_min": frame["age_min"].to_numpy(),
        "age_max": frame["age_max"].to_numpy(),
    })
    out = base.explode("service_type", ignore_index=True)
    return out[out["service_type"].notna()].reset_index(drop=True)


def coverage_table(
    frame: pd.DataFrame,
    level: str = "admin1",
    age: int | None = None,
    age_band: str | None = None,
    service_types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Number of services per unit and service type, for the given age or band.

    Parameters
    ----------
    frame
        The registry frame (or any frame with its columns); not modified.
    level
        ``"country"`` (one row per country) or ``"admin1"`` (one row per
        country and admin-1 code; ``""`` holds services without admin-1).
    age, age_band
        Count only services for this age / overlapping this band.
    service_types
        Columns to report, in order (default: every service type).

    Returns
    -------
    pandas.DataFrame
        Index ``country`` or (``country``, ``admin1``); one integer column per
        service type code, plus ``total`` (distinct services of any listed type).
    """
    _check_level(level)
    return _counted(frame, level, age_mask(frame, age, age_band), _type_masks(frame),
                    list(service_types or schema.SERVICE_TYPES))


def _check_level(level: str) -> None:
    if level not in ("country", "admin1"):
        raise ValueError(f"Expected level 'country' or 'admin1', instead got: {level!r}.")


def _type_masks(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Service type code -> its rows (Arrow's dictionary encoding of the list column:
    no row per (service, type) is made, no copy of the frame)."""
    return code_masks(frame["service_types"]) if len(frame) else {}


def _counted(frame: pd.DataFrame, level: str, in_age: np.ndarray,
             masks: Mapping[str, np.ndarray], types: list[str]) -> pd.DataFrame:
    """`coverage_table` from the rows of the age (`in_age`) and the type masks: one sum
    per unit. Registry ids are unique, so a row is a distinct service. At 1M services
    several times faster than exploding the lists and counting distinct ids
    (bench/coverage.py, where both answers are also compared cell by cell)."""
    none = np.zeros(len(frame), dtype=bool)
    columns = {t: masks.get(t, none) & in_age for t in types}
    listed = np.logical_or.reduce(list(columns.values())) if types else none
    if not listed.any():
        keys = ["country"] if level == "country" else ["country", "admin1"]
        empty = pd.DataFrame(columns=[*keys, *types, "total"]).set_index(keys)
        return empty.astype(int)
    rows = np.flatnonzero(listed)
    unit, index = _units_of(frame, rows, level)
    n = len(index)
    table = pd.DataFrame({t: np.bincount(unit, weights=column[rows], minlength=n)
                          for t, column in columns.items()}, index=index)
    table["total"] = np.bincount(unit, minlength=n)
    return table.astype(int).sort_index()


def _units_of(frame: pd.DataFrame, rows: np.ndarray, level: str) -> tuple[np.ndarray, pd.Index]:
    """Each row's unit as a number 0..n-1, and the units' index (``country``, or
    ``country`` and ``admin1`` with "" for none), by factorizing codes, not strings."""
    country, countries = pd.factorize(frame["country"].to_numpy()[rows])
    if level == "country":
        unit, uniques = pd.factorize(country)
        return unit, pd.Index(countries[uniques], name="country")
    admin1 = frame["admin1"].to_numpy()[rows]
    admin1, names = pd.factorize(np.where(pd.isna(admin1), "", admin1))
    unit, uniques = pd.factorize(country.astype(np.int64) * len(names) + admin1)
    return unit, pd.MultiIndex.from_arrays(
        [countries[uniques // len(names)], names[uniques % len(names)]],
        names=["country", "admin1"])


def band_table(
    frame: pd.DataFrame, level: str = "admin1", service_type: str | None = None
) -> pd.DataFrame:
    """Number of services per unit that serve each age band (optionally one type).

    Columns are the codes of `rcm_map.core.schema.AGE_BANDS`; a service open to all
    ages counts in every band.
    """
    if service_type is not None and service_type not in schema.SERVICE_TYPES:
        raise ValueError(f"Expected a service type in {list(schema.SERVICE_TYPES)!r}, "
                         f"instead got: {service_type!r}.")
    _check_level(level)
    masks = _type_masks(frame)  # once for the three bands
    types = [service_type] if service_type else list(schema.SERVICE_TYPES)
    columns = {band: _counted(frame, level, age_mask(frame, age_band=band), masks, types)["total"]
               for band in schema.AGE_BANDS}
    out = pd.DataFrame(columns).fillna(0).astype(int)
    return out.sort_index()


def admin1_counts(
    frame: pd.DataFrame, service_type: str | None = None,
    age: int | None = None, age_band: str | None = None,
) -> dict[str, int]:
    """Admin-1 code -> number of services (of `service_type`, for the age), for a choropleth."""
    table = coverage_table(frame, "admin1", age, age_band,
                           [service_type] if service_type else None)
    counts: dict[str, int] = {}
    for (_, code), total in table["total"].items():
        if code:
            counts[code] = counts.get(code, 0) + int(total)
    return counts


def gaps(
    frame: pd.DataFrame,
    units: Iterable[Unit],
    service_type: str,
    age: int | None = None,
    age_band: str | None = None,
    countries: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Admin-1 units with no service of `service_type` for the age (or band).

    Returns
    -------
    pandas.DataFrame
        Columns ``country``, ``admin1``, ``name`` and ``countrywide`` (number of
        country-wide services of that type for that age in the unit's country),
        sorted by country and name.
    """
    if service_type not in schema.SERVICE_TYPES:
        raise ValueError(f"Expected a service type in {list(schema.SERVICE_TYPES)!r}, "
                         f"instead got: {service_type!r}.")
    # Only the rows of that type for that age, and only the columns needed (at 1M
    # services, the type's mask costs far less than a row per (service, type)).
    offered = age_mask(frame, age, age_band) & _type_masks(frame).get(service_type, False)
    columns = [c for c in ("id", "country", "admin1", "geometry", "lat") if c in frame.columns]
    rows = frame[columns].iloc[np.flatnonzero(offered)]
    admin1 = rows["admin1"].fillna("")
    covered = set(admin1[admin1 != ""])
    wide = rows[~_located(rows)].groupby("country")["id"].nunique().to_dict()
    records = [
        {"country": u.country, "admin1": u.code, "name": u.name,
         "countrywide": int(wide.get(u.country, 0))}
        for u in units
        if u.code not in covered and (not countries or u.country in countries)
    ]
    out = pd.DataFrame(records, columns=["country", "admin1", "name", "countrywide"])
    return out.sort_values(["country", "name", "admin1"]).reset_index(drop=True)
