"""Offline place search over GeoNames populated places, and admin-1 name lookup.

Place data © GeoNames (geonames.org), CC BY 4.0. The bundled file
`data/gazetteer.csv.gz` is built by `scripts/build_gazetteer.py`.

Search is accent-, case- and punctuation-insensitive (`normalize`) and tolerant
of partial names: "tecun uman" finds "Ciudad Tecún Umán". Matches rank in tiers
(exact name, name starts with the query, a word of the name starts with it,
substring anywhere, all query words present in any order), then by population.
All names are kept in one newline-separated string, so one C-level scan finds
every match: a query takes about 0.5 ms on the 22,000 places (up to ~3 ms for
very common fragments such as "san"); loading takes ~0.3 s once per process
(`default_gazetteer` is cached).

Belongs here: `Gazetteer` (the `placeindex.PlaceIndex` plus placing a source
list's city text: `resolve_city`) and the bundled gazetteer's shortcuts. The index
itself is `search.placeindex`, name folding and admin-1 names `search.placenames`;
their public names are importable from here too.

May import `core` and those two modules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

from rcm_map.search.placeindex import (
    ATTRIBUTION,
    CORRIDOR_KINDS,
    EXACT,
    GAZETTEER_COLUMNS,
    GAZETTEER_PATH,
    OPTIONAL_COLUMNS,
    POST_KINDS,
    PREFIX,
    SUBSTRING,
    WORD,
    WORDS,
    CityMatch,
    Place,
    PlaceIndex,
)
from rcm_map.search.placenames import (
    CIUDAD,
    admin1_codes_by_name,
    normalize,
    resolve_admin1,
    split_city,
)


class Gazetteer(PlaceIndex):
    """The place index, able to place a source list's city text (`resolve_city`)."""

    def largest_in_admin1(self, admin1_code: str) -> Place | None:
        """The most populous place of an admin-1 unit (usually, not always, its seat)."""
        rows = self._admin1_rows.get(admin1_code)
        if not rows:
            return None
        return self.place(min(rows, key=lambda i: (-self._pop[i], self._gid[i])))

    def _best(self, text: str, country: str, admin1: str | None) -> Place | None:
        ranked = self._ranked(text, country, admin1, limit=1)
        return ranked[0][1] if ranked and ranked[0][0] <= WORD else None

    def resolve_city(
        self, city: str, country_iso3: str, admin1: str | None = None
    ) -> CityMatch:
        """Place a city text from a source list, saying how it was done.

        Parameters
        ----------
        city : str
            As written in the source: ``"Tapachula"``, ``"Tecún Umán (Ayutla)"``,
            ``"Ciudad de México (Iztapalapa)"``, ``"La Palma / Metetí (Darién)"``.
        country_iso3 : str
            The place must be in this country.
        admin1 : str, optional
            Admin-1 name or ISO 3166-2 code; when it resolves, the place must be in it.

        Returns
        -------
        CityMatch
            In order of preference: the main name (``method="name"``); the
            parenthesised part when the main name is a city of 300,000 or more and the
            part is a place within 30 km of it, i.e. a borough (``"district"``); the
            parenthesised part when the main name is not found (``"parenthesised"``);
            the most populous place of the admin-1 unit (``"admin1_fallback"``);
            nothing (``"not_found"``). Only exact, prefix and word-start matches count.
        """
        code = resolve_admin1(admin1, country_iso3) if admin1 else None
        main, inner = split_city(city)
        if code is None:
            # "Agua Caliente (Ocotepeque)": a parenthesised admin-1 name narrows the search
            inner_units = {resolve_admin1(text, country_iso3) for text in inner} - {None}
            code = inner_units.pop() if len(inner_units) == 1 else None
        province = [t for t in main if resolve_admin1(t, country_iso3)]
        if province and not inner and len(province) == len(main) and not any(
            self._ranked(t, country_iso3, code, limit=1)[:1] and
            self._ranked(t, country_iso3, code, limit=1)[0][0] == EXACT for t in main
        ):
            # "Darién": the source names a province, not a town
            unit = resolve_admin1(province[0], country_iso3)
            seat = self.largest_in_admin1(unit) if unit else None
            if seat is not None:
                return CityMatch(seat, "admin1_fallback", seat.admin1,
                                 f"{city!r} names a province, not a town; placed at "
                                 f"{seat.name!r}, the most populous place of {seat.admin1}")
        main_place, main_text = self._first(main, country_iso3, code)
        inner_place, inner_text = self._first(inner, country_iso3, code)
        if main_place and inner_place and main_place.population >= 300_000 and (
            _km(main_place, inner_place) <= 30.0
        ):
            return CityMatch(inner_place, "district", inner_text,
                             f"placed at {inner_place.name!r}, a district of {main_place.name!r}")
        if main_place:
            return CityMatch(main_place, "name", main_text,
                             f"placed at {main_place.name!r} ({main_place.admin1})")
        if inner_place:
            return CityMatch(inner_place, "parenthesised", inner_text,
                             f"{' / '.join(main)!r} is not in GeoNames; placed at the "
                             f"parenthesised {inner_place.name!r} ({inner_place.admin1})")
        seat = self.largest_in_admin1(code) if code else None
        if seat:
            return CityMatch(seat, "admin1_fallback", seat.admin1,
                             f"{city!r} is not in GeoNames; placed at {seat.name!r}, the most "
                             f"populous place of {seat.admin1}")
        return CityMatch(None, "not_found", "",
                         f"{city!r} is not in GeoNames for {country_iso3}"
                         + (f" / {admin1}" if admin1 else ""))

    def _first(
        self, texts: list[str], country: str, admin1: str | None
    ) -> tuple[Place | None, str]:
        for text in texts:
            for variant in (text, CIUDAD.sub("", text)):
                place = self._best(variant, country, admin1) if variant else None
                if place is not None:
                    return place, text
        return None, ""

    def find_city(
        self, city: str, country_iso3: str, admin1_name_or_code: str | None = None
    ) -> Place | None:
        """The place for a source city text, or None (see `resolve_city` for the rules)."""
        return self.resolve_city(city, country_iso3, admin1_name_or_code).place


def _km(a: Place, b: Place) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


@lru_cache(maxsize=4)
def _default(path: str) -> Gazetteer:
    return Gazetteer.load(path)


def default_gazetteer() -> Gazetteer:
    """The bundled gazetteer, loaded once per process."""
    return _default(str(GAZETTEER_PATH))


def search(
    query: str, limit: int = 10, country: str | Iterable[str] | None = None
) -> list[Place]:
    """`Gazetteer.search` on the bundled gazetteer."""
    return default_gazetteer().search(query, limit=limit, country=country)


def places_in_bbox(
    south: float, west: float, north: float, east: float,
    min_population: int = 0, limit: int | None = None,
) -> list[Place]:
    """`Gazetteer.places_in_bbox` on the bundled gazetteer (map labels)."""
    return default_gazetteer().places_in_bbox(south, west, north, east, min_population, limit)


def find_city(
    city: str, country_iso3: str, admin1_name_or_code: str | None = None
) -> Place | None:
    """`Gazetteer.find_city` on the bundled gazetteer."""
    return default_gazetteer().find_city(city, country_iso3, admin1_name_or_code)


__all__ = [
    "ATTRIBUTION", "CORRIDOR_KINDS", "EXACT", "GAZETTEER_COLUMNS", "GAZETTEER_PATH",
    "OPTIONAL_COLUMNS", "POST_KINDS", "PREFIX", "SUBSTRING", "WORD", "WORDS", "CityMatch",
    "Gazetteer", "Place",
    "admin1_codes_by_name", "default_gazetteer", "find_city", "normalize", "places_in_bbox",
    "resolve_admin1", "search", "split_city",
]
