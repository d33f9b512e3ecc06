"""Translations: one `Translator` per session, catalogues in ``locales/*.json``.

Pure module (no Streamlit). The UI builds one `Translator` for the session's
language and passes it around; nothing is installed globally (no
``gettext.install``) so two sessions in one server never share a language.
Vocabulary labels (service types, populations, ...) live in `rcm_map.core.schema`
and are reached through `Translator.label`, so codes stay codes everywhere and
only the edge of the UI shows words.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from rcm_map.core import schema

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES: tuple[str, ...] = schema.LANGUAGES_UI  # ("es", "en", "fr")
DEFAULT_LANGUAGE = "es"
LANGUAGE_NAMES = {"es": "Español", "en": "English", "fr": "Français"}


@cache
def catalogue(lang: str, locales_dir: Path = LOCALES_DIR) -> Mapping[str, str]:
    """The message catalogue of `lang` (key -> text), read once per process."""
    if lang not in LANGUAGES:
        raise ValueError(f"Expected a language in {LANGUAGES!r}, instead got: {lang!r}.")
    path = locales_dir / f"{lang}.json"
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{path}: expected a JSON object of text keys and text values")
    return data


def placeholders(text: str) -> set[str]:
    """Names of the ``{name}`` placeholders in a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Translator:
    """Messages and vocabulary labels in one language.

    >>> Translator("en").t("nav.about")
    'About'
    """

    def __init__(self, lang: str = DEFAULT_LANGUAGE):
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._messages = catalogue(self.lang)

    def t(self, key: str, **kwargs: object) -> str:
        """The message `key`, formatted with `kwargs`.

        An unknown key returns the key itself (visible, never a crash); the
        catalogue test makes sure that does not ship.
        """
        text = self._messages.get(key)
        if text is None:
            return key
        return text.format(**kwargs) if kwargs else text

    def label(self, vocabulary: str, code: str) -> str:
        """Display label of a vocabulary code (e.g. ``label("service_types", "shelter")``)."""
        return schema.label(vocabulary, code, self.lang)

    def labels(self, vocabulary: str, codes: Iterable[str]) -> list[str]:
        """Labels of several codes, in the given order."""
        return [self.label(vocabulary, c) for c in codes]

    def number(self, value: float, decimals: int = 1) -> str:
        """A number in the language's format (Babel/CLDR): ``1,234.5`` in en,
        ``1234,5`` in es, ``1 234,5`` in fr."""
        pattern = "#,##0." + "0" * decimals if decimals > 0 else "#,##0"
        return format_decimal(value, format=pattern, locale=self.lang)

    def km(self, km: float) -> str:
        """A distance: one decimal under 100 km, whole km beyond (``3,2 km``)."""
        return f"{self.number(km, 1 if km < 100 else 0)} km"

    def plural(self, key: str, count: int, **kwargs: object) -> str:
        """``key.one`` or ``key.other`` by the language's plural rule (Babel/CLDR),
        with ``{n}`` the formatted count: "1 servicio", "2 servicios", "0 service"."""
        form = Locale.parse(self.lang).plural_form(abs(count))
        chosen = f"{key}.{form}" if f"{key}.{form}" in self._messages else f"{key}.other"
        return self.t(chosen, n=self.number(count, 0), **kwargs)

    def date(self, value: dt.date) -> str:
        """A date in the language's medium format ("1 mar 2025", "Mar 1, 2025")."""
        return format_date(value, format="medium", locale=self.lang)

    def language(self, code: str) -> str:
        """Name of a spoken language in this language (catalogue, then CLDR, then code)."""
        name = self._messages.get(f"language.{code}")
        if name:
            return name
        cldr = Locale.parse(self.lang).languages.get(code)
        return cldr[:1].upper() + cldr[1:] if cldr else code

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"


def parse_accept_language(header: str | None) -> list[str]:
    """Primary language subtags of an Accept-Language header, best first.

    >>> parse_accept_language("fr-CA,fr;q=0.9,en;q=0.8")
    ['fr', 'fr', 'en']
    """
    if not header or not isinstance(header, str):
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.split("-")[0]))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate_language(
    requested: str | None = None,
    accept_language: str | None = None,
    locale: str | None = None,
) -> str:
    """The session language: ``?lang=``, else the browser's, else Spanish.

    Parameters
    ----------
    requested
        Value of the ``lang`` query parameter (ignored unless es, en or fr).
    accept_language
        The browser's Accept-Language header.
    locale
        The browser's ``navigator.language`` (``st.context.locale``), e.g. ``fr-CA``.
    """
    if isinstance(requested, str) and requested.strip().lower() in LANGUAGES:
        return requested.strip().lower()
    candidates = parse_accept_language(accept_language)
    if isinstance(locale, str) and locale:
        candidates.append(locale.split("-")[0].lower())
    for tag in candidates:
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE
