"""The in-memory place index behind the gazetteer: load the file, search names, bbox.

Belongs here: reading `data/gazetteer.csv.gz` (or a test file), the `Place`
record, and name search ranked in tiers then by population, plus the array
accessors the place finder uses. Placing a source list's city text is
`search.gazetteer`; the text folding is `search.placenames`.

May import `core` and `search.placenames`.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from rcm_map.search.placenames import normalize

GAZETTEER_PATH = Path(__file__).resolve().parents[2] / "data" / "gazetteer.csv.gz"
GAZETTEER_COLUMNS = ("name", "key", "alt_keys", "other_keys", "country_iso3", "admin1_code",
                     "admin1", "lat", "lon", "population", "geonameid", "border_km", "kind",
                     "shown_at")
# Files written before the corridor columns existed still load: these get defaults.
OPTIONAL_COLUMNS = {"other_keys": "", "border_km": "", "kind": "place", "shown_at": ""}
ATTRIBUTION = "Place data © GeoNames (geonames.org), CC BY 4.0"

# `Place.kind` of the rows of data/corridor_places.csv: places on the migration route.
CORRIDOR_KINDS = ("border_crossing", "border_town", "transit_point")
# `Place.kind` of the rows of data/border_posts.csv: posts known by name and municipality
# only, shown at that town's point (`Place.shown_at`). Only the place finder sees them:
# `search`, `resolve_city`, `places_in_bbox` and `points` (map labels) leave them out.
POST_KINDS = ("border_post", "entry_point")
# Tiers, best first.
EXACT, PREFIX, WORD, SUBSTRING, WORDS = range(5)

_KEY_TEXT = re.compile(r"[\n 0-9a-z|]*")


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
    geonameid: int = 0  # negative: a row of data/corridor_places.csv or border_posts.csv
    kind: str = "place"  # or border_crossing, border_town, transit_point, POST_KINDS
    shown_at: str = ""  # a post (POST_KINDS): the town whose point it is shown at

    @property
    def is_post(self) -> bool:
        """True for a border post whose exact point is not known (shown at `shown_at`)."""
        return self.kind in POST_KINDS


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


class PlaceIndex:
    """An in-memory, read-only place index. Build with `load` (of `Gazetteer`)."""

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
        self._shown_at = list(columns.get("shown_at") or [""] * len(self._names))
        self._post = np.isin(np.array(self._kind, dtype=object), POST_KINDS)
        towns = np.flatnonzero(~self._post)
        # map labels: GeoNames places only (a post's point is its town's)
        self._points = ([self._names[i] for i in towns], self._lat[towns], self._lon[towns],
                        self._pop[towns])
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
            if not self._post[i]:
                self._admin1_rows.setdefault(code, []).append(i)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Self:
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
        """Every place but the posts as (names, lat, lon, population) arrays, aligned
        with each other (read-only: for map labels)."""
        return self._points

    def place(self, row: int) -> Place:
        """The place at a row index."""
        return Place(self._names[row], str(self._country[row]), str(self._admin1_code[row]),
                     self._admin1[row], float(self._lat[row]), float(self._lon[row]),
                     int(self._pop[row]), int(self._gid[row]), self._kind[row],
                     self._shown_at[row])

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
                  & (self._lon <= east) & (self._pop >= min_population) & ~self._post)
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
        keep = ~self._post[rows]  # a post is the place finder's, not a source list's
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
