"""Validation of a parsed registry: every problem at once, one `Issue` each.

This is the reference validator: `validate_collection` walks parsed GeoJSON feature by
feature (`feature_issues`), then checks ids across features and points against their
country. The fast reader (`rcm_map.registry.fastscan`) gives the same issues in the
same order; it sends every feature its vectorised checks do not clear to
`feature_issues`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rcm_map.core import boundaries, schema
from rcm_map.core.geo import lat_lon_problem
from rcm_map.core.schema import Issue
from rcm_map.registry.reading import MAX_FEATURES, RegistryError, read_json_file


def _coordinate_problem(coords: Any) -> str | None:
    if not isinstance(coords, list) or len(coords) < 2:
        return "Point coordinates must be [longitude, latitude]"
    problem = lat_lon_problem(coords[1], coords[0], numbers_only=True)
    return None if problem is None else problem.message


def feature_issues(feature: Any, index: int, file: str) -> list[Issue]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        got = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
        return [Issue("not a GeoJSON Feature", file, index, field="type", value=got)]
    props = feature.get("properties")
    issues = schema.validate_properties(props, file=file, index=index)
    fid = props.get("id", "") if isinstance(props, dict) else ""
    fid = fid if isinstance(fid, str) else ""
    geometry = feature.get("geometry")
    if geometry is None:
        # RFC 7946 "unlocated" feature: a country-wide service, listed but not mapped.
        return issues + _precision_issues(props, geometry, file, index, fid)
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        got = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        issues.append(Issue("geometry must be a Point (or null for a country-wide service)",
                            file, index, fid, "geometry", got))
        return issues
    problem = _coordinate_problem(geometry.get("coordinates"))
    if problem:
        issues.append(Issue(problem, file, index, fid, "geometry.coordinates",
                            geometry.get("coordinates")))
        return issues
    return issues + _precision_issues(props, geometry, file, index, fid)


def _precision_issues(props: Any, geometry: Any, file: str, index: int, fid: str) -> list[Issue]:
    """`location_precision` and geometry must agree (issue 12).

    A street address, a city centre or a confidential site is a point; a service
    without a point is country-wide and says so, so nobody reads a missing point
    as "somewhere in this city".
    """
    precision = props.get("location_precision") if isinstance(props, dict) else None
    if not isinstance(precision, str) or precision not in schema.LOCATION_PRECISIONS:
        return []  # already reported by the vocabulary check
    if geometry is None and precision in schema.POINT_PRECISIONS:
        return [Issue(f"location_precision {precision!r} needs a point; a service without "
                      "one must have location_precision 'country_wide'", file, index, fid,
                      "location_precision", precision)]
    if geometry is not None and precision not in schema.POINT_PRECISIONS:
        return [Issue("a 'country_wide' service has no point: set geometry to null, or "
                      "choose address, city or confidential", file, index, fid,
                      "location_precision", precision)]
    return []


def country_issues(index: Sequence[int], ids: Sequence[str], lons: np.ndarray,
                   lats: np.ndarray, countries: Sequence[str], file: str) -> list[Issue]:
    """Points that lie outside their declared country (with tolerance for 1:10m borders).

    One entry per located feature without errors: its index, id, longitude,
    latitude and declared country (arrays, so a million points cost no tuples).
    """
    if not len(index):
        return []
    outside = np.flatnonzero(~boundaries.points_in_country(lons, lats, countries)).tolist()
    swapped = boundaries.points_in_country(lats[outside], lons[outside],
                                           [countries[k] for k in outside])
    issues = []
    for k, looks_swapped in zip(outside, swapped, strict=True):
        hint = " (longitude and latitude look swapped)" if looks_swapped else ""
        issues.append(Issue(f"point lies outside its country {countries[k]}{hint}", file,
                            int(index[k]), ids[k], "geometry.coordinates",
                            [float(lons[k]), float(lats[k])]))
    return issues


def validate_collection(obj: Any, file: str = "", check_countries: bool = True) -> list[Issue]:
    """Every problem in a parsed GeoJSON object; an empty list means a valid registry."""
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection":
        got = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        return [Issue("not a GeoJSON FeatureCollection", file, field="type", value=got)]
    features = obj.get("features")
    if not isinstance(features, list):
        return [Issue("'features' must be a list", file, field="features",
                      value=type(features).__name__)]
    if len(features) > MAX_FEATURES:
        return [Issue(f"{len(features):,} features, more than the limit of {MAX_FEATURES:,}",
                      file)]
    issues: list[Issue] = []
    located: list[tuple[int, str, float, float, str]] = []
    for index, feature in enumerate(features):
        found = feature_issues(feature, index, file)
        issues.extend(found)
        if any(i.severity == "error" for i in found):
            continue
        props, geometry = feature["properties"], feature.get("geometry")
        if geometry is not None:
            lon, lat = geometry["coordinates"][:2]
            located.append((index, props["id"], float(lon), float(lat), props["country"]))
    ids = Counter(
        f["properties"].get("id") for f in features
        if isinstance(f, dict) and isinstance(f.get("properties"), dict)
        and isinstance(f["properties"].get("id"), str)
    )
    for index, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        fid = props.get("id") if isinstance(props, dict) else None
        if isinstance(fid, str) and ids[fid] > 1:
            issues.append(Issue("duplicate id; every service needs its own id",
                                file, index, fid, "id", fid))
    if check_countries and located:
        idx, fids, lons, lats, countries = map(list, zip(*located, strict=True))
        issues.extend(country_issues(idx, fids, np.array(lons), np.array(lats), countries, file))
    return issues


def validate_file(path: str | Path) -> list[Issue]:
    """Every problem in a registry file, never raising on bad content."""
    try:
        obj = read_json_file(path)
    except RegistryError as exc:
        return exc.issues
    return validate_collection(obj, str(path))


def errors(issues: list[Issue]) -> list[Issue]:
    """Only the issues that make a registry unusable."""
    return [i for i in issues if i.severity == "error"]
