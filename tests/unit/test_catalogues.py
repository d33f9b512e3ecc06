"""The gettext catalogues: complete in es, en and fr, consistent, and covering every
key the code asks for (read from the .po files themselves, not through the fallback)."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from rcm_map.core import i18n, safety, schema
from rcm_map.store.base import REPORT_KINDS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "app.py", *sorted(p for p in (ROOT / "rcm_map").rglob("*.py")
                                     if p.name != "i18n.py")]


def entries(lang: str) -> dict[str, str | tuple[str, ...]]:
    """msgid -> msgstr (a tuple for plural entries) as written in the .po file."""
    out: dict[str, str | tuple[str, ...]] = {}
    for message in i18n.read_catalogue(lang):
        if message.id:
            key = message.id[0] if message.pluralizable else message.id
            out[key] = tuple(message.string) if message.pluralizable else message.string
    return out


def texts(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def test_every_msgid_exists_in_every_language_with_a_translation():
    ids = {lang: set(entries(lang)) for lang in i18n.LANGUAGES}
    assert len(ids["es"]) > 300
    for lang in i18n.LANGUAGES:
        assert ids[lang] == ids["es"], (lang, sorted(ids[lang] ^ ids["es"]))
        empty = [k for k, v in entries(lang).items() if not all(t.strip() for t in texts(v))]
        assert not empty, (lang, empty)
        fuzzy = [m.id for m in i18n.read_catalogue(lang) if m.id and m.fuzzy]
        assert not fuzzy, (lang, fuzzy)
        # Babel's own checks (what `pybabel compile --statistics` would report).
        assert not list(i18n.read_catalogue(lang).check()), lang


def test_plural_entries_are_plural_everywhere_with_the_forms_the_language_needs():
    plural = {lang: {k for k, v in entries(lang).items() if isinstance(v, tuple)}
              for lang in i18n.LANGUAGES}
    assert plural["es"] and all(p == plural["es"] for p in plural.values())
    for lang in i18n.LANGUAGES:
        needed = len(i18n.plural_tags(lang))
        assert i18n.read_catalogue(lang).num_plurals == needed, lang
        for key in plural[lang]:
            assert len(entries(lang)[key]) == needed, (lang, key)
    assert i18n.plural_tags("es") == ("one", "many", "other")
    assert i18n.plural_tags("en") == ("one", "other")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_plural_forms_header_agrees_with_the_cldr_rule(lang):
    """Poedit and msgfmt choose forms by the header; the app by Babel's CLDR rule."""
    catalogue: Catalog = i18n.read_catalogue(lang)
    header = gettext.c2py(catalogue.plural_expr)
    counts = [*range(0, 2_100), 10_000, 999_999, 1_000_000, 2_000_000, 1_000_001]
    assert [header(n) for n in counts] == [i18n.plural_index(lang, n) for n in counts]


def test_placeholders_are_the_same_in_every_language_and_form():
    base = entries("es")
    for lang in i18n.LANGUAGES:
        for key, value in entries(lang).items():
            expected = i18n.placeholders(texts(base[key])[-1])
            for text in texts(value):
                found = i18n.placeholders(text)
                # A singular form may spell the count out ("Un autre lieu") instead of {n}.
                assert found == expected or (isinstance(value, tuple)
                                             and found == expected - {"n"}), (lang, key, text)


def test_every_vocabulary_code_has_a_label_and_no_label_is_orphaned():
    vocabularies = {**schema.VOCABULARIES, "report_kind": REPORT_KINDS,
                    "distance_band": tuple(c for c, _ in safety.DISTANCE_BANDS)}
    wanted = {f"vocab.{name}.{code}" for name, codes in vocabularies.items() for code in codes}
    present = {k for k in entries("es") if k.startswith("vocab.")}
    assert wanted == present, (sorted(wanted - present), sorted(present - wanted))


def dynamic_keys() -> dict[str, tuple[str, ...]]:
    """Keys built at run time (prefix -> the codes completing it), so the scan checks them."""
    from rcm_map.formats import workbook
    from rcm_map.search.deadends import RELAXABLE
    from rcm_map.search.placeindex import POST_KINDS
    from rcm_map.store.base import ACTIONS
    from rcm_map.store.verification import TIERS
    from rcm_map.ui import search_page

    return {
        "search.age_mode.": search_page.AGE_MODES,
        "coverage.level.": ("country", "admin1"),
        "deadend.filter.": tuple(RELAXABLE),
        "xlsx.col.": (*workbook.COLUMNS_BEFORE, *workbook.COLUMNS_AFTER),
        "admin.tier_": tuple(TIERS),
        "import.action_": ACTIONS,
        "import.service_": ("added", "changed", "removed"),  # store.records.ServiceChange
        "search.place_kind.": POST_KINDS,  # render.placechoice: border posts only
    }


def variable_keys() -> dict[tuple[str, str], tuple[str, ...]]:
    """Keys passed in a variable: (file, variable) -> the keys it can hold."""
    from rcm_map.formats.taxonomy import TAXONOMIES

    return {("admin.py", "key"): (),  # _failed(tr, key, exc): keys read at its call sites
            ("taxonomy.py", "key"): tuple(t.label_key(code) for t in TAXONOMIES.values()
                                          for code in t.terms)}


_CALL = re.compile(r"""\.(t|plural|ngettext|gettext)\(\s*(f?)(["'])(.*?)\3\s*([,)+])""")
_VARIABLE = re.compile(r"""\.(?:t|plural|ngettext|gettext)\(\s*([A-Za-z_]\w*)\s*[,)]""")
# A helper handed the translator and a literal key: `_failed(tr, "admin.conflict", exc)`.
_HELPER = re.compile(r"""\b(\w+)\(\s*tr\s*,\s*["']([a-z0-9_]+\.[a-z0-9_.]+)["']""")
HELPERS_WITH_KEYS = {("admin.py", "_failed")}
_LABEL = re.compile(r"""\.labels?\(\s*["']([a-z_]+)["']""")
_SHEET = re.compile(r"""texts\[\s*["']([a-z_]+)["']\s*\]""")


def _keys_used() -> tuple[set[str], set[str], set[str], set[str]]:
    """Literal keys passed to t (singular) and plural, prefixes of keys built at run
    time, and vocabulary names passed to label/labels."""
    keys: set[str] = set()
    plurals: set[str] = set()
    prefixes: set[str] = set()
    vocabularies: set[str] = set()
    variables = variable_keys()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for call, is_f, _, key, after in _CALL.findall(text):
            if is_f or after == "+":
                prefixes.add(key.split("{", 1)[0])
            else:
                (plurals if call in ("plural", "ngettext") else keys).add(key)
        helped = {(path.name, name) for name, _ in _HELPER.findall(text)}
        assert helped <= HELPERS_WITH_KEYS, f"{path}: list the helpers in {helped}"
        keys.update(key for _, key in _HELPER.findall(text))
        for variable in _VARIABLE.findall(text):
            assert (path.name, variable) in variables, f"{path}: list .t({variable}) keys"
            keys.update(variables[path.name, variable])
        vocabularies.update(_LABEL.findall(text))
        if path.name in ("referral.py", "referral_pdf.py", "workbook.py"):  # sheet_labels
            keys.update(f"sheet.{name}" for name in _SHEET.findall(text))
    return keys, plurals, prefixes, vocabularies


def test_every_key_the_code_uses_is_in_the_catalogues():
    keys, plurals, prefixes, vocabularies = _keys_used()
    assert len(keys) > 150 and "search.title" in keys and "sheet.title" in keys
    assert "list.summary_shown" in plurals
    singular = {k for k, v in entries("es").items() if isinstance(v, str)}
    ids = set(entries("es"))
    # t() reads singular entries only, plural() plural ones: a mix-up shows the key.
    assert not keys - singular, sorted(keys - singular)
    assert not plurals - (ids - singular), sorted(plurals - (ids - singular))
    built = dynamic_keys()
    assert prefixes == set(built), sorted(prefixes ^ set(built))
    dynamic = {p + s for p, suffixes in built.items() for s in suffixes}
    assert not dynamic - ids, sorted(dynamic - ids)
    assert {"service_types", "country", "report_kind"} <= vocabularies
    for name in vocabularies:
        assert any(k.startswith(f"vocab.{name}.") for k in ids), name


# Read by name outside Python: the map's strings go to js/markers.js whole; language
# names by the code of the language; vocabulary and HSDS labels are checked above.
READ_WHOLESALE = ("popup.", "language.", "vocab.", "hsds.field.")


def test_no_message_is_left_unused():
    keys, plurals, _, _ = _keys_used()
    used = keys | plurals | {p + s for p, suffixes in dynamic_keys().items() for s in suffixes}
    unused = {k for k in entries("es") if k not in used and not k.startswith(READ_WHOLESALE)}
    assert not unused, f"no code reads these; delete them from the three catalogues: {unused}"
    render = ROOT / "rcm_map" / "render"
    markers = (render / "js" / "markers.js").read_text(encoding="utf-8")
    payload = (render / "mappayload.py").read_text(encoding="utf-8")
    built_in_js = '"precision_" + s.q'  # the popup's precision note
    assert built_in_js in markers
    for key in (k for k in entries("es") if k.startswith("popup.")):
        name = key.removeprefix("popup.")
        assert (re.search(rf"\b{name}\b", markers) or f'"{name}"' in payload
                or name.startswith("precision_")), f"no code reads {key}"


def test_a_message_missing_in_a_language_falls_back_to_spanish(tmp_path, monkeypatch):
    """Everywhere: t, plural, labels and the map/sheet catalogues read Spanish for it."""
    for lang in i18n.LANGUAGES:
        source = i18n.po_path(lang).read_text(encoding="utf-8")
        if lang == "fr":  # drop two entries and blank a third
            source = re.sub(r'\nmsgid "nav\.about"\nmsgstr "[^"]*"\n', "\n", source)
            source = re.sub(r'\nmsgid "vocab\.service_types\.shelter"\nmsgstr "[^"]*"\n', "\n",
                            source)
            source = re.sub(r'(\nmsgid "sheet\.title"\nmsgstr )"[^"]*"', r'\1""', source)
            source = re.sub(r'\nmsgid "list\.summary_shown"\n(msgid_plural .*\n)(msgstr.*\n)+',
                            "\n", source)
        target = i18n.po_path(lang, tmp_path)
        target.parent.mkdir(parents=True)
        target.write_text(source, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    for cached in (i18n.read_catalogue, i18n.messages, i18n.catalogue):
        cached.cache_clear()
    try:
        fr = i18n.Translator("fr")
        assert fr.t("nav.about") == "Acerca de"
        assert fr.label("service_types", "shelter") == "Albergue"
        assert i18n.catalogue("fr")["sheet.title"] == i18n.catalogue("es")["sheet.title"]
        assert fr.plural("list.summary_shown", 2) == "**2** servicios cerca,"
        assert fr.t("nav.search") == "Chercher des services"  # the rest is still French
    finally:
        for cached in (i18n.read_catalogue, i18n.messages, i18n.catalogue):
            cached.cache_clear()


def test_a_broken_catalogue_is_named_in_the_error(tmp_path):
    target = i18n.po_path("fr", tmp_path)
    target.parent.mkdir(parents=True)
    target.write_text('msgid "a"\nmsgstr "b"\nnot a po line\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"fr/LC_MESSAGES/messages\.po"):
        i18n.read_catalogue("fr", tmp_path)


def test_catalogues_ship_with_the_package():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"core/locales/*/LC_MESSAGES/*.po"' in pyproject
    assert not list(i18n.LOCALES_DIR.glob("*.json")), "translations live in the .po catalogues only"
