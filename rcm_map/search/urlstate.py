"""The search state as URL query parameters, so that a link reopens the same search.

Pure module (no Streamlit). Only codes and numbers go into the URL, never
labels: ``?place=Tapachula&lat=14.9&lon=-92.26667&radius=50&age=15&services=shelter``.
`decode` never raises: anything it cannot use (garbage, unknown codes, values
out of range) is dropped, the default is kept, and the dropped parameter is
reported as a `Dropped` so the UI can say so in the user's language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rcm_map.core import schema
from rcm_map.core.geo import lat_lon_problem, parse_lat_lon, validate_lat_lon
from rcm_map.search.query import Query

DEFAULT_RADIUS_KM = 50
RADIUS_CHOICES_KM: tuple[int, ...] = (5, 10, 25, 50, 100, 250, 500)
MAX_RADIUS_KM = 2000.0
DEFAULT_LIMIT = 25
LIMIT_CHOICES: tuple[int, ...] = (10, 25, 50, 100, 200)
MAX_LIMIT = 200
MAX_PARAM_LENGTH = 500
COORD_DECIMALS = 5  # ~1 m: a named place's point, short in a URL
LINK_COORD_DECIMALS = 2  # ~1.1 km: any other point written into a URL

PARAMS: tuple[str, ...] = (
    "place", "lat", "lon", "radius", "limit", "age", "band", "services", "populations",
    "languages", "countries", "admin1", "lang",
)  # fmt: skip
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_ADMIN1 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SearchState:
    """Everything that defines a search, as codes and numbers."""

    place: str = ""
    lat: float | None = None
    lon: float | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    limit: int = DEFAULT_LIMIT
    age: int | None = None
    age_band: str | None = None
    services: tuple[str, ...] = ()
    populations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    admin1: tuple[str, ...] = ()
    lang: str | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        """The search point as (lat, lon), or None when no place is chosen."""
        if self.lat is None or self.lon is None:
            return None
        return self.lat, self.lon

    def with_(self, **changes: Any) -> SearchState:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_query(self) -> Query:
        """The engine query for this state (no radius/limit without a point)."""
        near = self.point
        return Query(
            service_types=self.services,
            age=self.age,
            age_band=None if self.age is not None else self.age_band,
            populations=self.populations,
            languages=self.languages,
            countries=self.countries,
            admin1=self.admin1,
            near=near,
            radius_km=float(self.radius_km) if near is not None else None,
            limit=self.limit,
        )


@dataclass(frozen=True)
class Dropped:
    """A query parameter that was ignored, and its value (for the user's notice)."""

    param: str
    value: str


@dataclass(frozen=True)
class Decoded:
    state: SearchState
    dropped: tuple[Dropped, ...] = field(default=())


# --------------------------------------------------------------------------- encode


def _number(value: float, decimals: int = COORD_DECIMALS) -> str:
    text = f"{round(float(value), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def is_named_place(place: str) -> bool:
    """True for a place name ("Tapachula"), False for nothing or typed coordinates."""
    text = place.strip()
    if not text:
        return False
    try:
        parse_lat_lon(text)
    except ValueError:
        return True
    return False


def encode(state: SearchState) -> dict[str, str]:
    """Query parameters for `state`; defaults and empty filters are left out."""
    out: dict[str, str] = {}
    named = is_named_place(state.place)
    if named:
        out["place"] = state.place.strip()
    if state.point is not None:
        # A point not chosen from the place list (a map click, typed coordinates) may
        # be the site a caseworker stands at: links and reloads put the URL in proxy
        # logs, so it goes there rounded to ~1 km (issue 12).
        decimals = COORD_DECIMALS if named else LINK_COORD_DECIMALS
        out["lat"] = _number(state.lat, decimals)  # type: ignore[arg-type]
        out["lon"] = _number(state.lon, decimals)  # type: ignore[arg-type]
    if state.radius_km != DEFAULT_RADIUS_KM:
        out["radius"] = _number(state.radius_km, 1)
    if state.limit != DEFAULT_LIMIT:
        out["limit"] = str(state.limit)
    if state.age is not None:
        out["age"] = str(state.age)
    elif state.age_band is not None:
        out["band"] = state.age_band
    for name, codes in (
        ("services", state.services), ("populations", state.populations),
        ("languages", state.languages), ("countries", state.countries),
        ("admin1", state.admin1),
    ):
        if codes:
            out[name] = ",".join(codes)
    if state.lang:
        out["lang"] = state.lang
    return out


# --------------------------------------------------------------------------- decode


def _last(value: Any) -> str | None:
    """The value of a parameter given once or several times (the last one wins)."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return value if isinstance(value, str) else None


def _float(text: str, lo: float, hi: float) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and lo <= value <= hi else None


def _int(text: str, lo: int, hi: int) -> int | None:
    text = text.strip()
    if not re.fullmatch(r"\d{1,4}", text):
        return None
    value = int(text)
    return value if lo <= value <= hi else None


def _codes(text: str, valid: Any) -> tuple[tuple[str, ...], list[str]]:
    """Known codes of a comma-separated list (deduplicated, in order) and the rest."""
    good: list[str] = []
    bad: list[str] = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        ok = valid(item) if callable(valid) else item in valid
        if ok and item not in good:
            good.append(item)
        elif not ok:
            bad.append(item)
    return tuple(good), bad


_LIST_PARAMS: dict[str, Any] = {
    "services": schema.SERVICE_TYPES,
    "populations": schema.POPULATIONS,
    "languages": lambda c: bool(_LANGUAGE.match(c)),
    "countries": schema.COUNTRIES,
    "admin1": lambda c: bool(_ADMIN1.match(c)),
}
_STATE_FIELD = {"services": "services", "populations": "populations",
                "languages": "languages", "countries": "countries", "admin1": "admin1"}


def decode(params: Mapping[str, Any]) -> Decoded:
    """The search state in `params` (e.g. ``st.query_params.to_dict()``).

    Unknown parameters are ignored silently (other tools add their own);
    known ones with unusable values are reported in `Decoded.dropped`.
    """
    raw = {k: _last(params.get(k)) for k in PARAMS}
    dropped: list[Dropped] = []
    changes: dict[str, Any] = {}

    def drop(name: str, value: str) -> None:
        dropped.append(Dropped(name, value[:80]))

    for name, value in list(raw.items()):
        if value is not None and (len(value) > MAX_PARAM_LENGTH or _CONTROL.search(value)):
            drop(name, value)
            raw[name] = None

    if raw["place"] is not None:
        changes["place"] = raw["place"].strip()
    _decode_point(raw, changes, drop)
    if raw["radius"] is not None:
        radius = _float(raw["radius"], 0.1, MAX_RADIUS_KM)
        if radius is None:
            drop("radius", raw["radius"])
        else:
            changes["radius_km"] = radius
    if raw["limit"] is not None:
        limit = _int(raw["limit"], 1, MAX_LIMIT)
        if limit is None:
            drop("limit", raw["limit"])
        else:
            changes["limit"] = limit
    _decode_age(raw, changes, drop)
    for name, valid in _LIST_PARAMS.items():
        if raw[name] is None:
            continue
        codes, bad = _codes(raw[name], valid)
        changes[_STATE_FIELD[name]] = codes
        if bad:
            drop(name, ",".join(bad))
    if raw["lang"] is not None:
        lang = raw["lang"].strip().lower()
        if lang in schema.LANGUAGES_UI:
            changes["lang"] = lang
        else:
            drop("lang", raw["lang"])
    return Decoded(SearchState(**changes), tuple(dropped))


def _decode_point(raw: dict[str, str | None], changes: dict[str, Any], drop: Any) -> None:
    """lat and lon come together or not at all."""
    lat_text, lon_text = raw["lat"], raw["lon"]
    if lat_text is None and lon_text is None:
        return
    if lat_text is None or lon_text is None or lat_lon_problem(lat_text, lon_text):
        if lat_text is not None:
            drop("lat", lat_text)
        if lon_text is not None:
            drop("lon", lon_text)
        return
    lat, lon = validate_lat_lon(lat_text, lon_text)
    changes["lat"] = round(lat, COORD_DECIMALS)
    changes["lon"] = round(lon, COORD_DECIMALS)


def _decode_age(raw: dict[str, str | None], changes: dict[str, Any], drop: Any) -> None:
    """An age, or else an age band; a band given with a valid age is dropped."""
    if raw["age"] is not None:
        age = _int(raw["age"], *schema.AGE_LIMITS)
        if age is None:
            drop("age", raw["age"])
        else:
            changes["age"] = age
    if raw["band"] is not None:
        band = raw["band"].strip()
        if band not in schema.AGE_BANDS or "age" in changes:
            drop("band", raw["band"])
        else:
            changes["age_band"] = band


# --------------------------------------------------------------------------- map clicks


def click_point(
    last_clicked: Any, previous: tuple[float, float] | None = None
) -> tuple[float, float] | None:
    """The new search point from streamlit-folium's ``last_clicked``, or None.

    ``st_folium`` returns the last click on every rerun, so a click is new only
    when it differs from `previous` (the click already applied). Invalid values
    (missing keys, strings, NaN, out of range) give None.

    >>> click_point({"lat": 14.9, "lng": -92.26})
    (14.9, -92.26)
    >>> click_point({"lat": 14.9, "lng": -92.26}, previous=(14.9, -92.26)) is None
    True
    """
    if not isinstance(last_clicked, Mapping):
        return None
    lat, lon = last_clicked.get("lat"), last_clicked.get("lng")
    if isinstance(lon, float) and math.isfinite(lon):
        lon = (lon + 180.0) % 360.0 - 180.0  # Leaflet reports wrapped-around worlds
    elif isinstance(lon, int) and not isinstance(lon, bool):
        lon = (lon + 180) % 360 - 180
    if lat_lon_problem(lat, lon, numbers_only=True) is not None:
        return None
    point = (round(float(lat), COORD_DECIMALS), round(float(lon), COORD_DECIMALS))
    return None if point == previous else point
