"""Translations: catalogues complete and consistent, language negotiation, no globals."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from rcm_map.core import i18n
from rcm_map.core.i18n import Translator, negotiate_language, parse_accept_language

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = [ROOT / "app.py", *sorted((ROOT / "rcm_map" / "ui").glob("*.py"))]


def test_every_locale_has_every_key():
    keys = {lang: set(i18n.catalogue(lang)) for lang in i18n.LANGUAGES}
    for lang, found in keys.items():
        assert found == keys["es"], (lang, sorted(found ^ keys["es"]))


def test_placeholders_agree_across_locales():
    base = i18n.catalogue("es")
    for lang in i18n.LANGUAGES:
        for key, text in i18n.catalogue(lang).items():
            assert i18n.placeholders(text) == i18n.placeholders(base[key]), (lang, key)


def test_no_empty_messages():
    for lang in i18n.LANGUAGES:
        assert all(v.strip() for v in i18n.catalogue(lang).values()), lang


def test_locale_files_are_plain_json_objects():
    for lang in i18n.LANGUAGES:
        data = json.loads((i18n.LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        assert isinstance(data, dict) and data


def _translation_keys_used() -> set[str]:
    """Literal keys passed to `.t("...")` in the UI (f-string keys are checked apart)."""
    keys: set[str] = set()
    for path in UI_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "t" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                keys.add(node.args[0].value)
    return keys


def test_every_key_used_in_the_ui_exists():
    used = _translation_keys_used()
    assert len(used) > 50
    missing = used - set(i18n.catalogue("es"))
    assert not missing, sorted(missing)


def test_dynamic_keys_exist():
    from rcm_map.ui import search_page

    catalogue = i18n.catalogue("es")
    for mode in search_page.AGE_MODES:
        assert f"search.age_mode.{mode}" in catalogue
    for level in ("country", "admin1"):
        assert f"coverage.level.{level}" in catalogue
    from rcm_map.store.verification import TIERS

    for tier in TIERS:
        assert f"admin.tier_{tier}" in catalogue


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


def test_parse_accept_language_orders_by_quality():
    assert parse_accept_language("en;q=0.5, fr, es;q=0.8") == ["fr", "es", "en"]
    assert parse_accept_language("*, en;q=0") == []
    assert parse_accept_language(None) == []


@pytest.mark.parametrize(("lang", "count", "text"), [
    ("es", 1, "**1** servicio cerca,"), ("es", 2, "**2** servicios cerca,"),
    ("en", 1, "**1** service nearby,"), ("en", 0, "**0** services nearby,"),
    ("fr", 0, "**0** service à proximité,"), ("fr", 1, "**1** service à proximité,"),
    ("fr", 2, "**2** services à proximité,"), ("es", 1500, "**1.500** servicios cerca,"),
    ("en", 1500, "**1,500** services nearby,"),
])
def test_plurals_and_counts_follow_the_language(lang, count, text):
    assert Translator(lang).plural("list.summary_shown", count) == text


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
