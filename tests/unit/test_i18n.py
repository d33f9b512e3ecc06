"""Translations: the Translator, language negotiation, no globals (the catalogues
themselves are checked in test_catalogues.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcm_map.core import i18n
from rcm_map.core.i18n import Translator, negotiate_language, parse_accept_language

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = [ROOT / "app.py", *sorted((ROOT / "rcm_map" / "ui").glob("*.py"))]


# Streamlit calls whose first argument or these keywords are shown to the user.
_SHOWN_KWARGS = {"label", "help", "placeholder", "caption", "title", "body", "page_title"}
_ALLOWED_LITERALS = {"", "- ", "\n- "}


def _literal_texts(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    if isinstance(node, ast.BinOp):
        return _literal_texts(node.left) + _literal_texts(node.right)
    return []


def test_every_visible_string_goes_through_the_translator():
    """No st.* display call in the UI gets a hand-written sentence: words come from t()."""
    offenders = []
    for path in UI_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            base = node.func.value
            is_st = (isinstance(base, ast.Name) and base.id in {"st", "cols", "left", "right"}) or (
                isinstance(base, ast.Attribute) and base.attr == "sidebar") or isinstance(
                base, ast.Subscript)
            if not is_st or node.func.attr in {"cache_resource", "session_state"}:
                continue
            shown = node.args[:1] + [k.value for k in node.keywords if k.arg in _SHOWN_KWARGS]
            for arg in shown:
                words = [t for t in _literal_texts(arg) if any(c.isalpha() for c in t)]
                if words:
                    offenders.append(f"{path.name}:{node.lineno}: {words}")
    assert not offenders, offenders


def test_translator_formats_and_falls_back():
    tr = Translator("en")
    assert tr.t("list.age_range", lo=12, hi=17) == "12-17 years"
    assert tr.t("no.such.key") == "no.such.key"
    assert Translator("xx").lang == "es"
    assert Translator("fr").label("service_types", "shelter") == "Hébergement"
    assert Translator("es").label("service_types", "nope") == "nope"
    assert i18n.label("report_kind", "moved", "en") == "Moved"
    assert i18n.label("country", "MEX", "xx") == "México"  # unknown language: Spanish
    assert Translator("es").number(3.25, 1) in ("3,2", "3,3")


def test_translators_are_independent():
    es, en = Translator("es"), Translator("en")
    assert es.t("nav.about") == "Acerca de"
    assert en.t("nav.about") == "About"
    assert es.t("nav.about") == "Acerca de"


def test_no_global_gettext_and_no_underscore_translator():
    for path in [*UI_FILES, ROOT / "rcm_map" / "core" / "i18n.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            # `_` as a throwaway loop/unpack name is fine; binding a callable to it is not.
            if isinstance(node, ast.Assign):
                assert not any(isinstance(t, ast.Name) and t.id == "_" for t in node.targets), path
            if isinstance(node, (ast.FunctionDef, ast.alias)):
                assert getattr(node, "name", None) != "_" and getattr(node, "asname", None) != "_"
            if isinstance(node, ast.Attribute):
                assert node.attr != "install", path


@pytest.mark.parametrize(("requested", "header", "locale", "expected"), [
    (None, "fr-CA", None, "fr"),
    (None, "en-US", None, "en"),
    (None, "de", None, "es"),
    (None, "pt-BR,de;q=0.8", "de-AT", "es"),
    (None, "FR_ca;q=0.7, xx", None, "fr"),
    (None, "es-419,es;q=0.9,en;q=0.8", None, "es"),
    (None, "en-GB;q=1.5, fr;q=0.4", None, "fr"),  # q above 1 is invalid: ignored
    (None, "*;q=1, en;q=0.1", None, "en"),
    ("fr", "en-US,en;q=0.9", "en-US", "fr"),
    ("EN", None, None, "en"),
    ("de", "de-DE,de;q=0.9", "de-DE", "es"),
    (None, "fr-CA,fr;q=0.9,en;q=0.8", None, "fr"),
    (None, "de-DE,en;q=0.5", None, "en"),
    (None, "en;q=0.2,fr;q=0.9", None, "fr"),
    (None, None, "fr-FR", "fr"),
    (None, "garbage;;;q=x,,", None, "es"),
    (None, None, None, "es"),
    ("", "", "", "es"),
])
def test_negotiate_language(requested, header, locale, expected):
    assert negotiate_language(requested, header, locale) == expected


@settings(max_examples=300, deadline=None)
@given(header=st.text(max_size=80), locale=st.none() | st.text(max_size=20),
       requested=st.none() | st.text(max_size=5))
def test_negotiation_never_fails_and_always_gives_an_interface_language(header, locale,
                                                                        requested):
    assert negotiate_language(requested, header, locale) in i18n.LANGUAGES


def test_parse_accept_language_orders_by_quality():
    assert parse_accept_language("en;q=0.5, fr, es;q=0.8") == ["fr", "es", "en"]
    assert parse_accept_language("fr-CA,fr;q=0.9,en-US;q=0.8") == ["fr-ca", "fr", "en-us"]
    assert parse_accept_language("*, en;q=0") == []
    assert parse_accept_language(None) == []


@pytest.mark.parametrize(("lang", "count", "text"), [
    ("es", 1, "**1** servicio cerca,"), ("es", 2, "**2** servicios cerca,"),
    ("en", 1, "**1** service nearby,"), ("en", 0, "**0** services nearby,"),
    ("fr", 0, "**0** service à proximité,"), ("fr", 1, "**1** service à proximité,"),
    ("fr", 2, "**2** services à proximité,"), ("es", 1500, "**1.500** servicios cerca,"),
    ("en", 1500, "**1,500** services nearby,"),
    ("fr", 1_000_000, "**1 000 000** services à proximité,"),
    ("es", 1_000_000, "**1.000.000** servicios cerca,"),
])
def test_plurals_and_counts_follow_the_language(lang, count, text):
    assert Translator(lang).plural("list.summary_shown", count).replace("\u202f", " ") == text


def test_numbers_dates_and_language_names_per_language():
    import datetime as dt

    assert Translator("es").number(3.25, 1) == "3,2"
    assert Translator("en").number(12345.67, 1) == "12,345.7"
    assert Translator("fr").number(12345.67, 1).replace("\u202f", " ") == "12 345,7"
    assert Translator("fr").km(250.4) == "250 km"
    assert Translator("es").date(dt.date(2025, 3, 1)) == "1 mar 2025"
    assert Translator("en").language("ht") == "Haitian Creole"
    assert Translator("fr").language("de") == "Allemand"  # CLDR when the catalogue has none
    assert Translator("en").language("zzz") == "zzz"
    assert Translator("es").language("mam") == "Mam"  # CLDR has none: the catalogue's
    assert Translator("en").language("quc") == "K'iche'"  # the catalogue's over CLDR's
    assert i18n.LANGUAGE_NAMES == {"es": "Español", "en": "English", "fr": "Français"}
    assert Translator("fr").date(dt.date(2025, 3, 1)) == "1 mars 2025"
    assert Translator("en").plural("search.place_others", 1).startswith("1 other place matches")
