"""Place-name text: the search form of a name, city texts of source lists, admin-1 names.

Belongs here: `normalize` (accents, case and punctuation folded; the form every
place key is stored in), `split_city` (main and parenthesised names of a source
city text) and `resolve_admin1` (an admin-1 name in English or Spanish, an old
name or a code -> ISO 3166-2). Pure functions; no gazetteer file is read.

May import `core` only (`core.boundaries` for the admin-1 units).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from rcm_map.core.boundaries import admin1_units

_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe",
                        "Œ": "oe", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ı": "i"})
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_NON_WORD = re.compile(r"[^0-9a-z]+")


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


_PARENS = re.compile(r"\(([^()]*)\)")
# "Ciudad Ixtepec" is "Ixtepec" in GeoNames; "Ciudad de/del ..." keeps its article
CIUDAD = re.compile(r"^\s*(ciudad|cd\.)\s+(?!del?\b)", re.IGNORECASE)


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
