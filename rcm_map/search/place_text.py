"""How to read what a caseworker types as a place: a name, plus a state or country.

`readings("David, Chiriquí")` gives the text as one name and as "David" in the
admin-1 unit Chiriquí; "San José Costa Rica" and "Toronto ON" work without a comma;
"Tapachula, Chiapas, México" names a state and its country; words that are not part
of a name ("frontera", "aduana de", "municipio de") and a leading "Ciudad" are dropped
in further readings. `rcm_map.search.placefinder` tries them all and keeps the best.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rcm_map.core.boundaries import admin1_units
from rcm_map.search.gazetteer import admin1_codes_by_name, normalize

# Country names a caseworker may add after a place (English, Spanish, French).
COUNTRY_NAMES = {
    "CAN": ("Canada", "Canadá"), "CRI": ("Costa Rica",), "SLV": ("El Salvador", "Salvador"),
    "GTM": ("Guatemala",), "HND": ("Honduras",), "MEX": ("Mexico", "México", "Mexique"),
    "NIC": ("Nicaragua",), "PAN": ("Panama", "Panamá"),
}
ISO2 = {"CA": "CAN", "CR": "CRI", "SV": "SLV", "GT": "GTM", "HN": "HND", "MX": "MEX",
        "NI": "NIC", "PA": "PAN"}
_COUNTRY_KEYS = {normalize(n): iso for iso, names in COUNTRY_NAMES.items() for n in names}
_COUNTRY_KEYS.update({normalize(iso): iso for iso in COUNTRY_NAMES})
_CIUDAD = re.compile(r"^(ciudad|cd) (?!del?\b)")
# Words caseworkers put before a place that are not part of its name:
# "frontera El Espino", "aduana de Guasaule", "municipio de Tapachula".
_GENERIC = re.compile(r"^(?:(?:(?:la )?frontera|aduana|garita|(?:puesto|paso) fronterizo|border"
                      r"|crossing|poste frontiere|municipio|municipality|ciudad de|city of"
                      r"|ville de)(?: de| of| del| la)? )+(?=\S)")


@dataclass(frozen=True)
class Reading:
    """One way to read a text: the name to look up and where it must be."""

    key: str
    admin1: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    qualifier: str | None = None
    specificity: int = 1  # 2: names a state or country, 3: both; 0: "Ciudad" dropped

    def allows(self, country: np.ndarray, admin1: np.ndarray) -> np.ndarray:
        """Which rows (their country and admin-1 arrays) the reading allows."""
        if not self.admin1 and not self.countries:
            return np.ones(len(country), dtype=bool)
        return np.isin(admin1, list(self.admin1)) | np.isin(country, list(self.countries))


@lru_cache(maxsize=1)
def _admin1_code_suffixes() -> dict[str, frozenset[str]]:
    """"QC" -> {"CA-QC"}, "CHP" -> {"MX-CHP"}: the part of ISO 3166-2 codes after the dash."""
    suffixes: dict[str, set[str]] = {}
    for unit in admin1_units():
        suffixes.setdefault(unit.code.split("-", 1)[1].upper(), set()).add(unit.code)
    return {k: frozenset(v) for k, v in suffixes.items()}


def _qualifier(text: str, codes_too: bool) -> tuple[frozenset[str], frozenset[str]] | None:
    """(admin-1 codes, countries) a text names, or None: "Chiriquí", "Costa Rica".

    With `codes_too`, short codes count as well: "MX", "HN" (countries) and "QC",
    "ON", "CHP" (states). They are taken after a comma or when typed in capitals
    only, so that "Santa Ana" never reads as Santa + a code.
    """
    key = normalize(text)
    country = _COUNTRY_KEYS.get(key) or (ISO2.get(key.upper()) if codes_too else None)
    codes = set(admin1_codes_by_name().get(key, set()))
    if codes_too:
        codes |= _admin1_code_suffixes().get(key.upper().replace(" ", ""), frozenset())
    if not country and not codes:
        return None
    return frozenset(codes), frozenset([country] if country else [])


def _within(inner: tuple[frozenset[str], frozenset[str]],
            outer: tuple[frozenset[str], frozenset[str]]) -> tuple[frozenset[str], frozenset[str]]:
    """A state qualified by a country ("Chiapas, México"): its codes in that country."""
    prefixes = tuple(f"{code}-" for code, iso3 in ISO2.items() if iso3 in outer[1])
    kept = frozenset(c for c in inner[0] if prefixes and c.startswith(prefixes))
    return (kept, frozenset()) if kept else inner


def _qualified(flat: str) -> list[tuple[str, frozenset[str], frozenset[str], str, int]]:
    """(name, admin-1 codes, countries, qualifier as typed, specificity) for each way to
    read up to two trailing qualifiers: "Tapachula, Chiapas, México", "Toronto ON"."""
    out = []
    parts = [p.strip() for p in re.split(r"[,;]", flat) if p.strip()]
    if len(parts) >= 2:
        if (q := _qualifier(parts[-1], True)) is not None:
            out.append((" ".join(parts[:-1]), *q, parts[-1], 2))
            if len(parts) >= 3 and (q2 := _qualifier(parts[-2], True)) is not None:
                out.append((" ".join(parts[:-2]), *_within(q2, q), ", ".join(parts[-2:]), 3))
        return out
    words = flat.split()
    for n in (1, 2, 3):
        tail = " ".join(words[-n:])
        if len(words) <= n or (q := _qualifier(tail, tail.isupper())) is None:
            continue
        out.append((" ".join(words[:-n]), *q, tail, 2))
        rest = words[:-n]
        for m in (1, 2, 3):
            tail2 = " ".join(rest[-m:])
            if len(rest) > m and (q2 := _qualifier(tail2, tail2.isupper())) is not None:
                out.append((" ".join(rest[:-m]), *_within(q2, q), f"{tail2} {tail}", 3))
    return out


def readings(text: str) -> list[Reading]:
    """The ways to read a typed text: as a name, and as a name plus a state or country.

    Examples
    --------
    >>> [r.key for r in readings("David, Chiriquí")]
    ['david chiriqui', 'david']
    >>> sorted(readings("Flores Petén")[1].admin1)
    ['GT-PE']
    """
    flat = text.replace("(", ",").replace(")", " ")
    out = [Reading(normalize(flat))]
    out += [Reading(normalize(name), codes, countries, typed, specificity)
            for name, codes, countries, typed, specificity in _qualified(flat)]
    for pattern in (_GENERIC, _CIUDAD):
        for reading in list(out):
            bare = pattern.sub("", reading.key)
            if bare != reading.key:
                out.append(Reading(bare, reading.admin1, reading.countries, reading.qualifier,
                                    reading.specificity - 1))
    return [r for r in out if r.key]
