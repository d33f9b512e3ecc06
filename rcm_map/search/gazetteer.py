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
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rcm_map.core.boundaries import admin1_units

GAZETTEER_PATH = Path(__file__).resolve().parents[2] / "data" / "gazetteer.csv.gz"
GAZETTEER_COLUMNS = ("name", "key", "alt_keys", "other_keys", "country_iso3", "admin1_code",
                     "admin1", "lat", "lon", "population", "geonameid", "border_km", "kind")
# Files written before the corridor columns existed still load: these get defaults.
OPTIONAL_COLUMNS = {"other_keys": "", "border_km": "", "kind": "place"}
ATTRIBUTION = "Place data © GeoNames (geonames.org), CC BY 4.0"

# Tiers, best first.
EXACT, PREFIX, WORD, SUBSTRING, WORDS = range(5)

_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe",
                        "Œ": "oe", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ı": "i"})
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_KEY_TEXT = re.compile(r"[\n 0-9a-z|]*")


def normalize(text: str) -> str:
    """Search form of a name: no accents, casefolded, punctuation as single spaces.

    Parameters
    ----------
    text : str
        Any text, e.g. ``"Ciudad Tecún Umán"``.

    Returns
    -------
    str
        ``"ciudad tecun uman"``. Apostrophes are dropped (``"Pop No'j"`` ->
        ``"pop noj"``); every other non-alphanumeric run becomes one space.

    Examples
    --------
    >>> normalize("  San Pedro  Sula! ")
    'san pedro sula'
    >>> normalize("Montréal (Verdun)")
    'montreal verdun'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize expects text, instead got: {text!r}")
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = _APOSTROPHES.sub("", stripped.casefold().translate(_EXTRA))
    return _NON_WORD.sub(" ", folded).strip()


@dataclass(frozen=True)
class Place:
    """A populated place from GeoNames."""

    name: str
    country: str  # ISO 3166-1 alpha-3
    admin1_code: str  # ISO 3166-2
    admin1: str
    lat: float
    lon: float
    population: int
    geonameid: int = 0  # negative: a row of data/corridor_places.csv
    kind: str = "place"  # or border_crossing, border_town, transit_point, town


@dataclass(frozen=True)
class CityMatch:
    """How `Gazetteer.resolve_city` placed a city text: the place, and what it did."""

    place: Place | None
    method: str  # "name", "district", "parenthesised", "admin1_fallback" or "not_found"
    matched: str  # the part of the text that matched, or the admin-1 used
    note: str  # one human-readable sentence for import reports

    @property
    def is_fallback(self) -> bool:
        """True when the point is not the named place itself."""
        return self.method in ("parenthesised", "admin1_fallback", "not_found")


class Gazetteer:
    """An in-memory, read-only place index. Build with `Gazetteer.load`."""

    def __init__(self, columns: Mapping[str, Sequence[str]], source: str = "") -> None:
        self.source = source
        self._names = list(columns["name"])
        self._country = np.array(columns["country_iso3"], dtype=object)
        self._admin1_code = np.array(columns["admin1_code"], dtype=object)
        self._admin1 = list(columns["admin1"])
        self._lat = np.array(columns["lat"], dtype=float)
        self._lon = np.array(columns["lon"], dtype=float)
        self._pop = np.array([p or "0" for p in columns["population"]], dtype=np.int64)
        self._gid = np.array(columns["geonameid"], dtype=np.int64)
        self._name_len = np.array([len(n) for n in self._names], dtype=np.int64)
        self._kind = list(columns.get("kind") or ["place"] * len(self._names))
        self._border_km = np.array([float(b) if b else np.inf for b in
                                    columns.get("border_km") or [""] * len(self._names)])
        keys = list(columns["key"])
        entry_rows = list(range(len(keys)))
        for i, alts in enumerate(columns["alt_keys"]):
            for alt in alts.split("|") if alts else ():
                keys.append(alt)
                entry_rows.append(i)
        primary = len(keys)
        for i, others in enumerate(columns.get("other_keys") or ()):
            for other in others.split("|") if others else ():
                keys.append(other)
                entry_rows.append(i)
        lengths = np.array([len(k) for k in keys], dtype=np.int64)
        # entries past `primary` are GeoNames' alternate names: user search only
        self._entry_primary = np.arange(len(keys)) < primary
        self._entry_rows = np.array(entry_rows, dtype=np.int64)
        self._entry_len = lengths
        self._starts = np.concatenate(([1], 1 + np.cumsum(lengths[:-1] + 1))) if keys else lengths
        self._text = "\n" + "\n".join(keys) + "\n"
        if not _KEY_TEXT.fullmatch(self._text):
            raise ValueError("a 'key' or 'alt_keys' value is not normalised; rebuild the file")
        # normalised keys are ASCII, so byte offsets equal character offsets
        self._bytes = np.frombuffer(self._text.encode("ascii"), dtype=np.uint8)
        self._entry_keys = keys
        after_separator = (self._bytes[:-1] == ord("\n")) | (self._bytes[:-1] == ord(" "))
        starts = np.flatnonzero(after_separator) + 1
        self._word_starts = starts[self._bytes[starts] != ord("\n")]
        self._admin1_rows: dict[str, list[int]] = {}
        for i, code in enumerate(self._admin1_code):
            self._admin1_rows.setdefault(code, []).append(i)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Gazetteer:
        """Read a gazetteer file (the bundled one by default).

        Parameters
        ----------
        path : str or Path, optional
            CSV, or gzip CSV (``.gz``), with the columns in `GAZETTEER_COLUMNS`.

        Returns
        -------
        Gazetteer

        Raises
        ------
        ValueError
            When a column is missing or a value is malformed; the message names the
            file, the row and the column.
        """
        source = Path(path) if path is not None else GAZETTEER_PATH
        raw = source.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        records = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        header = records[0] if records else []
        missing = [c for c in GAZETTEER_COLUMNS if c not in header and c not in OPTIONAL_COLUMNS]
        if missing:
            raise ValueError(f"{source}: missing column(s) {missing}; expected {GAZETTEER_COLUMNS}")
        bad = next((n for n, r in enumerate(records[1:], start=2) if len(r) != len(header)), None)
        if bad is not None:
            raise ValueError(f"{source}: row {bad}: expected {len(header)} fields, instead got "
                             f"{len(records[bad - 1])}: {records[bad - 1]!r}")
        transposed = list(zip(*records[1:], strict=True)) if len(records) > 1 else []
        columns = {
            name: (transposed[header.index(name)] if transposed else ())
            for name in GAZETTEER_COLUMNS if name in header
        }
        try:
            return cls(columns, str(source))
        except ValueError as exc:
            raise ValueError(f"{source}: malformed lat/lon/population/geonameid value or "
                             f"key: {exc}") from exc

    def __len__(self) -> int:
        return len(self._names)

    def points(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Every place as (names, lat, lon, population) arrays, row-aligned (read-only
        views: for map labels)."""
        return self._names, self._lat, self._lon, self._pop

    def place(self, row: int) -> Place:
        """The place at a row index."""
        return Place(self._names[row], str(self._country[row]), str(self._admin1_code[row]),
                     self._admin1[row], float(self._lat[row]), float(self._lon[row]),
                     int(self._pop[row]), int(self._gid[row]), self._kind[row])

    def border_km(self, rows: np.ndarray) -> np.ndarray:
        """Distance (km) of rows to the nearest land border between two of the 8 countries."""
        return self._border_km[rows]

    def coordinates(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) arrays of rows."""
        return self._lat[rows], self._lon[rows]

    def regions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ISO3 country, ISO 3166-2 admin-1) arrays of rows."""
        return self._country[rows], self._admin1_code[rows]

    def populations(self, rows: np.ndarray) -> np.ndarray:
        """Population of rows (0 = unknown)."""
        return self._pop[rows]

    def kinds(self, rows: np.ndarray) -> np.ndarray:
        """`Place.kind` of rows."""
        return np.array([self._kind[int(r)] for r in rows], dtype=object)

    def entry_keys(self) -> list[str]:
        """Every search key (names, aliases, alternate names), one per entry."""
        return list(self._entry_keys)

    def entry_rows(self) -> np.ndarray:
        """Row of each entry of `entry_keys`."""
        return self._entry_rows

    def places_in_bbox(
        self, south: float, west: float, north: float, east: float,
        min_population: int = 0, limit: int | None = None,
    ) -> list[Place]:
        """Places inside a lat/lon box, most populous first (for map labels).

        Parameters
        ----------
        south, west, north, east : float
            Box edges in degrees (``west > east`` is not supported: no place of the 8
            countries straddles the antimeridian).
        min_population : int, default 0
            Leave out smaller places (border crossings have population 0).
        limit : int, optional
            At most this many places.
        """
        inside = ((self._lat >= south) & (self._lat <= north) & (self._lon >= west)
                  & (self._lon <= east) & (self._pop >= min_population))
        rows = np.flatnonzero(inside)
        rows = rows[np.lexsort((self._gid[rows], -self._pop[rows]))][:limit]
        return [self.place(int(r)) for r in rows]

    def match(self, key: str, alternate_names: bool = True
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, best tier, matched a primary name) for a normalised `key`.

        With ``alternate_names=False`` only names and curated aliases count, as in
        `search`; otherwise GeoNames' alternate names count too.
        """
        return self._matches(key, alternate_names, with_primary=True)  # type: ignore[return-value]

    def _matches(self, key: str, alternate_names: bool = False, with_primary: bool = False
                 ) -> tuple[np.ndarray, ...]:
        """(rows, best tier) for every entry containing `key` (tiers EXACT..SUBSTRING)."""
        if not key:
            empty = np.empty(0, np.int64)
            return (empty, empty, empty.astype(bool)) if with_primary else (empty, empty)
        if len(key) <= 2:
            # one- and two-letter queries match word starts only ("a" is in most names),
            # found with array operations: a regex scan would take ~20 ms
            pos = self._word_starts
            for i, char in enumerate(key.encode("ascii")):
                pos = pos[self._bytes[pos + i] == char]
        else:
            pos = np.fromiter((m.start() for m in re.finditer(re.escape(key), self._text)),
                              dtype=np.int64)
        entry = np.searchsorted(self._starts, pos, side="right") - 1
        if not alternate_names:
            keep = self._entry_primary[entry]
            entry, pos = entry[keep], pos[keep]
        offset = pos - self._starts[entry]
        exact = (offset == 0) & (self._entry_len[entry] == len(key))
        tier = np.where(offset == 0, np.where(exact, EXACT, PREFIX),
                        np.where(self._bytes[pos - 1] == ord(" "), WORD, SUBSTRING))
        rows = self._entry_rows[entry]
        # best tier per row; on equal tiers a primary name before an alternate one
        primary = self._entry_primary[entry]
        order = np.lexsort((~primary, tier, rows))
        rows, tier, primary = rows[order], tier[order], primary[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = rows[1:] != rows[:-1]
        if with_primary:
            return rows[first], tier[first], primary[first]
        return rows[first], tier[first]

    def _ranked(
        self,
        query: str,
        country: str | Iterable[str] | None,
        admin1: str | None,
        limit: int | None = None,
    ) -> list[tuple[int, Place]]:
        key = normalize(query)
        rows, tiers = self._matches(key)
        words = key.split()
        if len(rows) == 0 and len(words) > 1:
            # every word present as a word start, in any order: "uman tecun"
            common: set[int] | None = None
            for word in words:
                r, t = self._matches(word)
                hits = set(r[t <= WORD].tolist())
                common = hits if common is None else common & hits
            rows = np.array(sorted(common or ()), dtype=np.int64)
            tiers = np.full(len(rows), WORDS, dtype=np.int64)
        keep = np.ones(len(rows), dtype=bool)
        if country is not None:
            countries = [country] if isinstance(country, str) else list(country)
            keep &= np.isin(self._country[rows], countries)
        if admin1:
            keep &= self._admin1_code[rows] == admin1
        rows, tiers = rows[keep], tiers[keep]
        order = np.lexsort((self._gid[rows], self._name_len[rows], -self._pop[rows], tiers))
        if limit is not None:
            order = order[:limit]
        return [(int(tiers[i]), self.place(int(rows[i]))) for i in order]

    def search(
        self,
        query: str,
        limit: int = 10,
        country: str | Iterable[str] | None = None,
        admin1: str | None = None,
    ) -> list[Place]:
        """Places matching `query`, best first.

        Parameters
        ----------
        query : str
            Full or partial name, any accents or case: ``"tapachula"``, ``"Tecun Uman"``.
        limit : int, default 10
            Maximum number of results.
        country : str or iterable of str, optional
            Keep only these ISO3 countries.
        admin1 : str, optional
            Keep only this ISO 3166-2 unit.

        Returns
        -------
        list of Place
            Exact names first, then names starting with the query, then names with a
            word starting with it, then other substrings, then names holding every
            query word in another order; larger population first within each tier.
        """
        return [place for _, place in self._ranked(query, country, admin1, max(limit, 0))]

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
            for variant in (text, _CIUDAD.sub("", text)):
                place = self._best(variant, country, admin1) if variant else None
                if place is not None:
                    return place, text
        return None, ""

    def find_city(
        self, city: str, country_iso3: str, admin1_name_or_code: str | None = None
    ) -> Place | None:
        """The place for a source city text, or None (see `resolve_city` for the rules)."""
        return self.resolve_city(city, country_iso3, admin1_name_or_code).place


_PARENS = re.compile(r"\(([^()]*)\)")
# "Ciudad Ixtepec" is "Ixtepec" in GeoNames; "Ciudad de/del ..." keeps its article
_CIUDAD = re.compile(r"^\s*(ciudad|cd\.)\s+(?!del?\b)", re.IGNORECASE)


def split_city(city: str) -> tuple[list[str], list[str]]:
    """Split ``"Main A / Main B (Inner 1/Inner 2)"`` into main and parenthesised names.

    Parameters
    ----------
    city : str

    Returns
    -------
    (list of str, list of str)
        Non-empty stripped alternatives, in source order.

    Examples
    --------
    >>> split_city("La Palma / Metetí (Darién)")
    (['La Palma', 'Metetí'], ['Darién'])
    >>> split_city("Peel Region (Mississauga/Brampton)")
    (['Peel Region'], ['Mississauga', 'Brampton'])
    """
    inner = [p.strip() for group in _PARENS.findall(city) for p in re.split(r"[/,;]", group)]
    main = [p.strip() for p in re.split(r"[/;]", _PARENS.sub(" ", city))]
    return [m for m in main if m], [i for i in inner if i]


def _km(a: Place, b: Place) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


# Other names for admin-1 units (normalised). Official renamings and common short forms.
_ADMIN1_ALIASES = {
    "distrito federal": "MX-CMX", "cdmx": "MX-CMX", "mexico city": "MX-CMX",
    "edomex": "MX-MEX", "veracruz de ignacio de la llave": "MX-VER",
    "michoacan de ocampo": "MX-MIC",
    "atlantico norte": "NI-AN", "raan": "NI-AN", "raccn": "NI-AN",
    "region autonoma de la costa caribe norte": "NI-AN",
    "atlantico sur": "NI-AS", "raas": "NI-AS", "raccs": "NI-AS",
    "region autonoma de la costa caribe sur": "NI-AS",
    "kuna yala": "PA-KY", "comarca guna yala": "PA-KY",
    # Not separate units in Natural Earth: mapped to the unit that contains them.
    "panama oeste": "PA-8", "naso tjer di": "PA-1", "comarca naso tjer di": "PA-1",
    "quebec": "CA-QC",
}  # fmt: skip


@lru_cache(maxsize=1)
def _admin1_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for unit in admin1_units():
        for text in (unit.name, unit.name_es, unit.code):
            names.setdefault(normalize(text), set()).add(unit.code)
    for alias, code in _ADMIN1_ALIASES.items():
        names.setdefault(alias, set()).add(code)
    return names


def admin1_codes_by_name() -> Mapping[str, set[str]]:
    """Normalised admin-1 names (English, Spanish, old names, codes) -> ISO 3166-2 codes."""
    return _admin1_names()


def resolve_admin1(name_or_code: str | None, country: str | None = None) -> str | None:
    """ISO 3166-2 code of an admin-1 name or code, or None when unknown or ambiguous.

    Parameters
    ----------
    name_or_code : str
        English or Spanish name in any case and accents (``"Québec"``, ``"Chiapas"``,
        ``"Ciudad de México"``, ``"Panamá"``), an old name (``"Distrito Federal"``,
        ``"Atlántico Norte"``) or a code (``"MX-CHP"``, ``"MX-DIF"``).
    country : str, optional
        ISO3 country; needed for names used in several countries (``"La Paz"``).

    Returns
    -------
    str or None
    """
    if not name_or_code or not isinstance(name_or_code, str):
        return None
    key = normalize(name_or_code)
    if key == "mx dif":
        key = "mx cmx"
    codes = _admin1_names().get(key, set())
    if country is not None:
        valid = {u.code for u in admin1_units(country)}
        codes = codes & valid
    return next(iter(codes)) if len(codes) == 1 else None


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
