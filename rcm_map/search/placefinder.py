"""Place search for caseworkers on the migration corridor.

`PlaceFinder.find` turns what a caseworker types into ranked candidate places:

* **Names people use**: the gazetteer's names, the sourced everyday names of
  `data/place_aliases.csv` ("Xela", "Tegus", "CDMX") and GeoNames' alternate names
  ("Matamoros" for Heroica Matamoros, "Tuxtla Gutiérrez" for Tuxtla).
* **Forms**: "place, state", "place, country", "place (state)" and "place state"
  or "place country" without a comma ("Flores Petén", "San José Costa Rica");
  "Ciudad X" also finds "X" ("Ciudad Ixtepec" -> Ixtepec).
* **Typos**: when no name starts with the text, rapidfuzz's normalised
  Levenshtein ratio against every name, kept from `FUZZY_THRESHOLD` up, and the
  result says "did you mean" (`PlaceLookup.suggestion`).
* **Namesakes**: candidates of the best match kind are ordered by a score that
  prefers the corridor (within `BORDER_KM` of a land border between two of the
  eight countries, services of the registry within `SERVICE_RADIUS_KM`, border
  crossings and border towns of `data/corridor_places.csv`, posts of
  `data/border_posts.csv`), then population;
  a preferred country (the app's country filter) and the interface language break
  ties. `countries=` narrows hard (the CLI's ``--place-country``).

Nothing here logs or stores a query: the text and the place stay with the caller.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz, process

from rcm_map.core.geo import EARTH_RADIUS_KM, haversine_km, haversine_km_many
from rcm_map.registry.model import Registry, default_registry_path
from rcm_map.search.gazetteer import (
    CORRIDOR_KINDS,
    EXACT,
    POST_KINDS,
    PREFIX,
    SUBSTRING,
    WORD,
    WORDS,
    Gazetteer,
    Place,
    default_gazetteer,
)
from rcm_map.search.place_text import Reading, readings

FUZZY_THRESHOLD = 85.0  # rapidfuzz ratio, 0-100: "tapachla" ~ "tapachula" is 94
BORDER_KM = 25.0
# Kinds the ranking prefers: corridor places, and posts shown at their municipality's
# point (a post's candidate says so: `Place.is_post`, `Place.shown_at`).
RANKED_KINDS = CORRIDOR_KINDS + POST_KINDS
SERVICE_RADIUS_KM = 15.0

FUZZY = 10  # a tier after the gazetteer's EXACT..WORDS
# match kinds best first: a typo match beats a name that merely contains the text
_RANK = {EXACT: 0, PREFIX: 1, WORD: 2, WORDS: 3, FUZZY: 4, SUBSTRING: 5}
_MATCH_NAMES = {EXACT: "exact", PREFIX: "prefix", WORD: "word", WORDS: "words",
                FUZZY: "fuzzy", SUBSTRING: "substring"}

# Countries whose places the interface language hints at (a tie-breaker only).
LANGUAGE_COUNTRIES = {"fr": {"CAN"}, "en": {"CAN"},
                      "es": {"CRI", "SLV", "GTM", "HND", "MEX", "NIC", "PAN"}}


@dataclass(frozen=True)
class Candidate:
    """A place that may be the one meant, with what the ranking used."""

    place: Place
    match: str  # exact, prefix, word, words, fuzzy or substring
    border_km: float  # to the nearest land border between two of the 8 countries
    services_nearby: int  # registry services within SERVICE_RADIUS_KM (not confidential)
    score: float

    @property
    def on_corridor(self) -> bool:
        """Near a border, near services, or a crossing/border town/post itself."""
        return (self.border_km <= BORDER_KM or self.services_nearby > 0
                or self.place.kind in RANKED_KINDS)


@dataclass(frozen=True)
class PlaceLookup:
    """What `PlaceFinder.find` made of a text: candidates, best first."""

    query: str
    candidates: tuple[Candidate, ...]
    suggestion: str | None = None  # "did you mean ...": set when a typo was corrected
    qualifier: str | None = None  # the state or country the text named, as typed
    total: int = 0  # places matching as well as the candidates (may exceed the limit)

    @property
    def chosen(self) -> Candidate | None:
        """The candidate taken (the first), or None when nothing matched."""
        return self.candidates[0] if self.candidates else None

    @property
    def runner_up(self) -> Candidate | None:
        """The next candidate, if any."""
        return self.candidates[1] if len(self.candidates) > 1 else None


def points_of(registry: Registry) -> np.ndarray:
    """(n, 2) lat/lon of a registry's located services, confidential ones left out.

    Confidential residences are shown only near their city; they take no part in
    the ranking either, so no search result hints where one is.
    """
    precision = registry.frame["location_precision"].to_numpy(dtype=object)
    keep = ~np.isnan(registry.lat) & (precision != "confidential")
    return np.column_stack([registry.lat[keep], registry.lon[keep]]).astype(float)


def service_points(path: str | Path) -> np.ndarray:
    """`points_of` the registry file at `path` (read through its cache)."""
    from rcm_map.registry import load_registry

    return points_of(load_registry(path))


class PlaceFinder:
    """Ranked place search over a `Gazetteer` and the registry's service points."""

    def __init__(self, gazetteer: Gazetteer, services: np.ndarray | None = None) -> None:
        self.gazetteer = gazetteer
        self._services = _by_latitude(services)
        keys = gazetteer.entry_keys()
        rows = gazetteer.entry_rows()
        by_key: dict[str, list[int]] = {}
        for key, row in zip(keys, rows.tolist(), strict=True):
            by_key.setdefault(key, []).append(row)
        # Typo search looks at names of about the query's length (a ratio of
        # FUZZY_THRESHOLD needs lengths within ~15%), first those with the same first
        # letter (most typos keep it; ~15x fewer names), then all.
        ordered = sorted(by_key, key=lambda k: (len(k), k))
        self._fuzzy_rows = {k: np.unique(np.array(by_key[k], dtype=np.int64)) for k in ordered}
        self._fuzzy_all = (ordered, np.array([len(k) for k in ordered]))
        self._fuzzy_by_letter: dict[str, tuple[list[str], np.ndarray]] = {}
        for letter in {k[0] for k in ordered}:
            same = [k for k in ordered if k[0] == letter]
            self._fuzzy_by_letter[letter] = (same, np.array([len(k) for k in same]))

    def with_services(self, services: np.ndarray | None) -> PlaceFinder:
        """The same finder (indexes shared, not rebuilt) with other service points."""
        twin = copy.copy(self)
        twin._services = _by_latitude(services)
        return twin

    def find(
        self,
        text: str,
        countries: Iterable[str] | None = None,
        prefer_countries: Iterable[str] = (),
        lang: str | None = None,
        limit: int = 8,
    ) -> PlaceLookup:
        """Candidate places for a typed text, best first.

        Parameters
        ----------
        text : str
            As typed: "Xela", "David, Chiriquí", "Tapachla", "San José Costa Rica".
        countries : iterable of str, optional
            Keep only places in these ISO3 countries.
        prefer_countries : iterable of str
            Prefer places in these ISO3 countries (e.g. the search's country filter).
        lang : str, optional
            Interface language ("es", "en", "fr"): a last tie-breaker.
        limit : int, default 8
            At most this many candidates.
        """
        only = frozenset(countries) if countries is not None else None
        best = None
        options = readings(text)
        substrings: dict[str, tuple[np.ndarray, ...]] = {}  # per call: Streamlit threads
        # cheapest first: names and aliases; then all words in any order; then typos
        for stage in ("names", "words", "fuzzy"):
            for index, reading in enumerate(options):
                found = self._match(reading, only, stage, substrings)
                if found is None:
                    continue
                # best match kind first; on a tie the more specific reading wins
                rank = (min(_RANK[int(t)] for t in found[1]), -reading.specificity, index)
                if best is None or rank < best[0]:
                    best = (rank, reading, *found)
            if best is not None:
                break
        if best is None:
            return PlaceLookup(text, ())
        _, reading, rows, tiers, primary, fuzzy_score = best
        candidates, total = self._rank(rows, tiers, primary, fuzzy_score, set(prefer_countries),
                                       LANGUAGE_COUNTRIES.get(lang or "", set()), limit)
        chosen = candidates[0]
        suggestion = chosen.place.name if chosen.match == "fuzzy" else None
        return PlaceLookup(text, tuple(candidates), suggestion, reading.qualifier, total)

    def _match(self, reading: Reading, only: frozenset[str] | None, stage: str,
               substrings: dict[str, tuple[np.ndarray, ...]]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """(rows, tiers, matched a primary name, fuzzy score) of one search stage, or None.

        Stage "names": names, aliases and alternate names starting with the text or
        with a word starting with it; "words": names holding every word of the text,
        in any order; "fuzzy": typos, else names merely containing the text (kept
        aside in `substrings` by the first stage).
        """
        if stage == "names":
            rows, tiers, primary = self.gazetteer.match(reading.key)
            keep = self._allowed(reading, only, rows)
            rows, tiers, primary = rows[keep], tiers[keep], primary[keep]
            good = tiers <= WORD
            if not good.any():
                substrings[reading.key] = (rows, tiers, primary)
                return None
            return rows[good], tiers[good], primary[good], np.full(int(good.sum()), 100.0)
        if stage == "words":
            rows = self._all_words(reading.key)
            tier = WORDS
            scores = np.full(len(rows), 100.0)
        else:
            rows, scores = self._fuzzy(reading.key)
            tier = FUZZY
        keep = self._allowed(reading, only, rows)
        if keep.any():
            n = int(keep.sum())
            return rows[keep], np.full(n, tier), np.ones(n, bool), scores[keep]
        if stage == "fuzzy" and len(substrings.get(reading.key, ((),))[0]):
            rows, tiers, primary = substrings.pop(reading.key)
            return rows, tiers, primary, np.full(len(rows), 100.0)
        return None

    def _all_words(self, key: str) -> np.ndarray:
        """Rows with a word starting with each word of `key`, in any order ("uman tecun")."""
        words = key.split()
        if len(words) < 2:
            return np.empty(0, np.int64)
        common: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):  # rarest (longest) first
            rows, tiers, _ = self.gazetteer.match(word)
            hits = set(rows[tiers <= WORD].tolist())
            common = hits if common is None else common & hits
            if not common:
                break
        return np.array(sorted(common or ()), dtype=np.int64)

    def _allowed(self, reading: Reading, only: frozenset[str] | None,
                 rows: np.ndarray) -> np.ndarray:
        country, admin1 = self.gazetteer.regions(rows)
        keep = reading.allows(country, admin1)
        if only is not None:
            keep &= np.isin(country, list(only))
        return keep

    def _fuzzy(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows whose names are within FUZZY_THRESHOLD of `key`, with their scores."""
        if len(key) < 4:
            return np.empty(0, np.int64), np.empty(0)
        hits = self._similar(key, *self._fuzzy_by_letter.get(key[0], ([], np.empty(0))))
        if not hits:
            hits = self._similar(key, *self._fuzzy_all)
        best: dict[int, float] = {}
        for name, score in hits:
            for row in self._fuzzy_rows[name].tolist():
                best[row] = max(best.get(row, 0.0), score)
        return np.array(list(best), dtype=np.int64), np.array(list(best.values()), dtype=float)

    @staticmethod
    def _similar(key: str, names: list[str], lengths: np.ndarray) -> list[tuple[str, float]]:
        slack = 1.0 - FUZZY_THRESHOLD / 100.0
        low = int(np.searchsorted(lengths, len(key) * (1 - slack) / (1 + slack)))
        high = int(np.searchsorted(lengths, len(key) * (1 + slack) / (1 - slack), side="right"))
        return [(name, float(score)) for name, score, _ in process.extract(
            key, names[low:high], scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD, limit=20)]

    def services_near(self, rows: np.ndarray) -> np.ndarray:
        """Number of registry services within SERVICE_RADIUS_KM of each row.

        The points are sorted by latitude: each place measures only the services
        in its band of latitude (a few percent of a million), not all of them.
        """
        out = np.zeros(len(rows), dtype=np.int64)
        if len(self._services) == 0 or len(rows) == 0:
            return out
        lat, lon = self.gazetteer.coordinates(rows)
        band = math.degrees(SERVICE_RADIUS_KM / EARTH_RADIUS_KM) * 1.001  # + rounding slack
        for i, (p1, l1) in enumerate(zip(lat.tolist(), lon.tolist(), strict=True)):
            lo, hi = np.searchsorted(self._services[:, 0], (p1 - band, p1 + band))
            km = haversine_km_many(p1, l1, self._services[lo:hi, 0], self._services[lo:hi, 1])
            out[i] = int(np.count_nonzero(km <= SERVICE_RADIUS_KM))
        return out

    def _rank(self, rows: np.ndarray, tiers: np.ndarray, primary: np.ndarray,
              fuzzy_score: np.ndarray, prefer: set[str], lang_countries: set[str],
              limit: int) -> tuple[list[Candidate], int]:
        rank = np.array([_RANK[int(t)] for t in tiers])
        top = rank == rank.min()
        rows, tiers, primary, fuzzy_score = rows[top], tiers[top], primary[top], fuzzy_score[top]
        border = self.gazetteer.border_km(rows)
        services = self.services_near(rows)
        country, _ = self.gazetteer.regions(rows)
        kinds = self.gazetteer.kinds(rows)
        score = corridor_score(self.gazetteer.populations(rows), border, services, kinds,
                               primary, fuzzy_score)
        score += 0.5 * np.isin(country, list(prefer))
        score += 0.05 * np.isin(country, list(lang_countries))
        order = np.lexsort((rows, -score))[:limit]
        return [Candidate(self.gazetteer.place(int(rows[i])), _MATCH_NAMES[int(tiers[i])],
                          float(border[i]), int(services[i]), round(float(score[i]), 3))
                for i in order], len(rows)


CROSSING_FLOOR = 1000  # a crossing (population 0) counts as a village of this size


def corridor_score(population: np.ndarray, border_km: np.ndarray, services: np.ndarray,
                   kinds: Sequence[str] | np.ndarray, primary: np.ndarray,
                   fuzzy_score: np.ndarray) -> np.ndarray:
    """How likely a caseworker of the network means each namesake (higher: likelier).

    log10 of the population (a town ten times larger gains 1; border crossings and
    border towns count at least CROSSING_FLOOR people), plus 1 within BORDER_KM of a
    land border, 0.8 with at least one registry service within SERVICE_RADIUS_KM
    (1.0 from five), 1.5 for a border crossing, border town or reception point of
    data/corridor_places.csv or a post of data/border_posts.csv, minus 0.6 when only a
    GeoNames alternate name matched, minus 1 for each 10 points a typo match is below
    a perfect 100.
    """
    corridor = np.isin(np.asarray(kinds, dtype=object), RANKED_KINDS)
    people = np.where(corridor, np.maximum(population, CROSSING_FLOOR), population)
    score = np.log10(people.astype(float) + 1.0)
    score += 1.0 * (border_km <= BORDER_KM)
    score += 0.8 * (services > 0) + 0.2 * (services >= 5)
    score += 1.5 * corridor
    score -= 0.6 * ~primary.astype(bool)
    score += (fuzzy_score - 100.0) / 10.0
    return score


@lru_cache(maxsize=1)
def _bundled_finder() -> PlaceFinder:
    finder = PlaceFinder(default_gazetteer())
    for warm_up in ("Tapachula", "Tapachla"):  # one-off costs of a first search and typo
        finder.find(warm_up)
    return finder


def _by_latitude(points: np.ndarray | None) -> np.ndarray:
    """(n, 2) lat/lon sorted by latitude (for `services_near`)."""
    if points is None or len(points) == 0:
        return np.empty((0, 2))
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    return points[np.argsort(points[:, 0], kind="stable")]


_FINDERS: dict[Hashable, PlaceFinder] = {}
_FINDERS_LOCK = threading.Lock()
_FINDERS_KEPT = 4


def finder_for(key: Hashable, points: Callable[[], np.ndarray]) -> PlaceFinder:
    """The bundled gazetteer with the service points of a registry source.

    `key` names the source and changes whenever its services do (a reader's stamp);
    `points` gives their (n, 2) lat/lon, confidential ones left out (`points_of`), and
    is called only for a key not seen before. The store layer passes its reader's
    points, so with a database configured the registry file is never read here.
    """
    with _FINDERS_LOCK:
        found = _FINDERS.get(key)
        if found is None:
            found = _bundled_finder().with_services(points())
            while len(_FINDERS) >= _FINDERS_KEPT:
                _FINDERS.pop(next(iter(_FINDERS)))
            _FINDERS[key] = found
        return found


class PointSource(Protocol):
    """What `finder_of` needs of a registry reader (`rcm_map.store.reading`)."""

    def stamp(self) -> Hashable: ...

    def service_points(self) -> np.ndarray: ...


def finder_of(source: PointSource) -> PlaceFinder:
    """`finder_for` the services of a registry reader, kept per reader and version."""
    return finder_for((id(source), source.stamp()), source.service_points)


def default_finder() -> PlaceFinder:
    """The bundled gazetteer with the services of the registry file in use (the one
    `RCM_MAP_REGISTRY` names, default data/actors.geojson), read again when it changes.
    For a place search next to a `rcm_map.store.reading` reader, prefer `finder_for`."""
    path = default_registry_path()
    if not path.is_file():
        return _bundled_finder()
    info = path.stat()
    return finder_for(("file", str(path), info.st_mtime_ns, info.st_size),
                      lambda: service_points(path))


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance between two places, in km."""
    return haversine_km(a.lat, a.lon, b.lat, b.lon)
