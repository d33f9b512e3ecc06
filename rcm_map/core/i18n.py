"""Translations: gettext catalogues read with Babel, one `Translator` per session.

Catalogues
    ``locales/<lang>/LC_MESSAGES/messages.po`` for es, en and fr hold every string
    a reader sees: interface messages, vocabulary labels (``vocab.<vocabulary>.<code>``,
    e.g. ``vocab.service_types.shelter``; report kinds ``vocab.report_kind.<code>``,
    distance bands ``vocab.distance_band.<code>``), HSDS field names
    (``hsds.field.<name>``) and the names of spoken languages CLDR does not know
    (``language.<code>``, e.g. Mam). Codes stay codes everywhere else.
    The msgid is a stable key (``search.title``), not source text, and there is no
    msgctxt: keys already carry their context, call sites stay ``t("search.title")``,
    and editing a Spanish sentence never orphans its translations. Placeholders
    are ``{name}``; the tests check every language has the same ones.
    The files are read with Babel's ``read_po`` at first use and cached per process
    (about 0.1 s for the three): no compiled ``.mo``, nothing generated, a clean
    clone runs as is. A new message goes into all three files (any text editor or
    Poedit; ``msgfmt --check`` accepts them); tests/unit/test_catalogues.py fails
    until it is there.

Plurals
    Entries with a ``msgid_plural`` (the same key) carry one msgstr per plural form of
    the language's ``Plural-Forms`` header, which is Babel's (CLDR): es and fr have
    three (one, many, other; "many" is for exact millions), en two. `Translator.plural`
    picks the form with Babel's CLDR rule, ``Locale.plural_form``; the tests check
    header and rule agree. `Translator.t` reads singular entries only.

Fallback
    Spanish, the project's first language and the one every message is written in
    first, is the one fallback: a message missing, empty or fuzzy in en or fr is
    read from Spanish (messages, plurals, labels, map and sheet strings alike), an
    unknown language is Spanish, and a browser asking for none of es, en and fr gets
    Spanish. A key missing even in Spanish shows as the key (never a crash); the
    tests keep that from shipping.

Numbers, dates and names
    `Translator.number`, `km` and `date` are the one place numbers and dates are
    formatted (Babel/CLDR). Names of languages come from CLDR (`Translator.language`,
    `LANGUAGE_NAMES`) unless the catalogue has one (Mayan languages, Garifuna, ...).

Pure module (no Streamlit). The UI builds one `Translator` for the session's
language and passes it around; nothing is installed globally (no
``gettext.install``) so two sessions in one server never share a language.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po
from babel.numbers import format_decimal
from babel.plural import PluralRule

from rcm_map.core import schema

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
LANGUAGES: tuple[str, ...] = schema.LANGUAGES_UI  # ("es", "en", "fr")
FALLBACK_LANGUAGE = "es"
_PLURAL_TAGS = ("zero", "one", "two", "few", "many", "other")  # gettext msgstr order


def po_path(lang: str, locales_dir: Path | None = None) -> Path:
    """Where the catalogue of `lang` lives (under `LOCALES_DIR` by default)."""
    return (locales_dir or LOCALES_DIR) / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _check_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"Expected a language in {LANGUAGES!r}, instead got: {lang!r}.")


@cache
def read_catalogue(lang: str, locales_dir: Path | None = None) -> Catalog:
    """The Babel catalogue of `lang` as written in its .po file, read once per process."""
    _check_language(lang)
    path = po_path(lang, locales_dir)
    try:
        with open(path, "rb") as handle:
            return read_po(handle, locale=lang, domain=DOMAIN, abort_invalid=True)
    except (OSError, PoFileError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the message catalogue: {exc}") from exc


@cache
def plural_rule(lang: str) -> PluralRule:
    """The CLDR plural rule of `lang` (Babel)."""
    return Locale.parse(lang).plural_form


@cache
def plural_tags(lang: str) -> tuple[str, ...]:
    """CLDR plural categories of `lang` in msgstr order (``('one', 'many', 'other')`` in es)."""
    tags = plural_rule(lang).tags | {"other"}
    return tuple(tag for tag in _PLURAL_TAGS if tag in tags)


def plural_index(lang: str, count: float) -> int:
    """Which msgstr of a plural entry `count` takes in `lang`."""
    return plural_tags(lang).index(plural_rule(lang)(abs(count)))


@dataclass(frozen=True)
class Messages:
    """The usable messages of one catalogue: translated, not fuzzy, forms complete."""

    lang: str
    singular: Mapping[str, str]
    plural: Mapping[str, tuple[str, ...]]


@cache
def messages(lang: str) -> Messages:
    """Usable messages of `lang`, without fallback."""
    forms = len(plural_tags(lang))
    singular: dict[str, str] = {}
    plural: dict[str, tuple[str, ...]] = {}
    for message in read_catalogue(lang):
        if not message.id or message.fuzzy:
            continue
        if message.pluralizable:
            texts = tuple(message.string or ())
            if len(texts) == forms and all(texts):
                plural[message.id[0]] = texts
        elif isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            singular[message.id] = message.string
    return Messages(lang, singular, plural)


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """Every singular message in `lang` (key -> text), Spanish where `lang` has none."""
    _check_language(lang)
    return {**messages(FALLBACK_LANGUAGE).singular, **messages(lang).singular}


def placeholders(text: str) -> set[str]:
    """Names of the ``{name}`` placeholders in a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


def autonym(lang: str) -> str:
    """A language's name in itself, from CLDR ("Español", "English", "Français")."""
    return _capitalised(Locale.parse(lang).get_display_name(lang) or lang)


LANGUAGE_NAMES: dict[str, str] = {code: autonym(code) for code in LANGUAGES}
"""Interface languages by their own names, for the language picker."""


class Translator:
    """Messages and vocabulary labels in one language, Spanish where it has none.

    >>> Translator("en").t("nav.about")
    'About'
    """

    def __init__(self, lang: str = FALLBACK_LANGUAGE):
        self.lang = lang if lang in LANGUAGES else FALLBACK_LANGUAGE
        self._own = messages(self.lang)
        self._fallback = messages(FALLBACK_LANGUAGE)

    def gettext(self, key: str) -> str:
        """The message `key` unformatted; the key itself when no catalogue has it."""
        return self._own.singular.get(key) or self._fallback.singular.get(key) or key

    def t(self, key: str, **kwargs: object) -> str:
        """The message `key`, formatted with `kwargs`."""
        text = self.gettext(key)
        return text.format(**kwargs) if kwargs else text

    def ngettext(self, key: str, count: float) -> str:
        """The plural entry `key` in the form `count` takes (CLDR rule), unformatted."""
        forms = self._own.plural.get(key)
        if forms:
            return forms[plural_index(self.lang, count)]
        forms = self._fallback.plural.get(key)
        if forms:
            return forms[plural_index(FALLBACK_LANGUAGE, count)]
        return key

    def plural(self, key: str, count: int, **kwargs: object) -> str:
        """The plural entry `key` for `count`, with ``{n}`` the formatted count:
        "1 servicio", "2 servicios", "0 service"."""
        return self.ngettext(key, count).format(n=self.number(count, 0), **kwargs)

    def label(self, vocabulary: str, code: str) -> str:
        """Display label of a vocabulary code (``label("service_types", "shelter")``);
        the code itself when the catalogue has no label for it."""
        key = f"vocab.{vocabulary}.{code}"
        text = self.gettext(key)
        return code if text == key else text

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

    def date(self, value: dt.date) -> str:
        """A date in the language's medium format ("1 mar 2025", "Mar 1, 2025")."""
        return format_date(value, format="medium", locale=self.lang)

    def language(self, code: str) -> str:
        """Name of a spoken language in this language: the catalogue's ``language.<code>``
        (languages CLDR lacks or misnames, e.g. Mam, K'iche'), else CLDR, else the code."""
        key = f"language.{code}"
        name = self.gettext(key)
        if name != key:
            return name
        cldr = Locale.parse(self.lang).languages.get(code)
        return _capitalised(cldr) if cldr else code

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"


def label(vocabulary: str, code: str, lang: str = FALLBACK_LANGUAGE) -> str:
    """Display label of a vocabulary code in `lang` (see `Translator.label`)."""
    return Translator(lang).label(vocabulary, code)


_TAG = re.compile(r"^[a-z]{1,8}(?:-[a-z0-9]{1,8})*$")


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, best first (ties keep their order).

    >>> parse_accept_language("fr-CA,fr;q=0.9,en;q=0.8")
    ['fr-ca', 'fr', 'en']
    """
    if not header or not isinstance(header, str):
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower().replace("_", "-")
        if not _TAG.match(tag):
            continue  # also "*": any language is no preference
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if 0 < quality <= 1:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate_language(
    requested: str | None = None,
    accept_language: str | None = None,
    locale: str | None = None,
) -> str:
    """The session language: ``?lang=``, else the browser's (Babel's
    ``negotiate_locale``: ``fr-CA`` gives fr), else Spanish.

    Parameters
    ----------
    requested
        Value of the ``lang`` query parameter (ignored unless es, en or fr).
    accept_language
        The browser's Accept-Language header.
    locale
        The browser's ``navigator.language`` (``st.context.locale``), e.g. ``fr-CA``,
        tried after the header.
    """
    if isinstance(requested, str) and requested.strip().lower() in LANGUAGES:
        return requested.strip().lower()
    candidates = parse_accept_language(accept_language)
    if isinstance(locale, str):
        candidates += parse_accept_language(locale.split(",")[0])
    found = negotiate_locale(candidates, LANGUAGES, sep="-")
    return found if found in LANGUAGES else FALLBACK_LANGUAGE
