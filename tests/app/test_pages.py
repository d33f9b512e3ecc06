"""Every page runs in every language; the language switch changes labels; coverage
and about pages show what the engine and the catalogue say."""

from __future__ import annotations

import pytest
from cardlist import cards_of
from tablehtml import tables_of

from rcm_map.core.i18n import LANGUAGES, Translator
from rcm_map.search import coverage


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", ["search_page", "coverage_page", "about_page"])
def test_every_page_runs_in_every_language(page, name, lang):
    at = page(name, lang=lang)
    assert at.title, name
    assert not at.exception


@pytest.mark.parametrize("lang", LANGUAGES)
def test_router_shows_translated_navigation(app, lang):
    at = app(lang=lang)
    tr = Translator(lang)
    assert at.title[0].value == tr.t("search.title")
    assert at.sidebar.selectbox(key="lang_choice").value == lang
    assert any(c.value == tr.t("sidebar.verify") for c in at.sidebar.caption)


def test_language_switch_changes_labels(app):
    at = app(lang="es")
    assert at.multiselect(key="services").format_func("shelter") == "Albergue"
    at.sidebar.selectbox(key="lang_choice").set_value("fr").run()
    assert at.title[0].value == Translator("fr").t("search.title")
    assert at.multiselect(key="services").format_func("shelter") == "Hébergement"
    assert at.query_params["lang"] == "fr"
    at.sidebar.selectbox(key="lang_choice").set_value("en").run()
    assert at.text_input(key="place_text").label == "Place"


def test_language_switch_keeps_the_search(app):
    at = app(place="Tapachula", services="shelter", lang="es")
    before = cards_of(at)
    assert before
    at.sidebar.selectbox(key="lang_choice").set_value("en").run()
    assert cards_of(at) == before
    assert at.query_params["services"] == "shelter"


def test_browser_language_is_the_default_without_lang(app):
    at = app()  # AppTest sends no Accept-Language: Spanish
    assert at.query_params["lang"] == "es"


def test_coverage_page_tables_and_gaps(page, small_registry):
    from rcm_map.registry import load_registry

    at = page("coverage_page", lang="en")
    assert at.title[0].value == "Service coverage across the network"
    at.selectbox(key="cov_service").set_value("shelter").run()
    at.selectbox(key="cov_band").set_value("12-17").run()
    frame = load_registry(small_registry).frame
    expected = coverage.coverage_table(frame, "country", age_band="12-17")
    table = tables_of(at)[0].set_index("Country")
    assert table.loc["Mexico", "Shelter"] == str(expected.loc["MEX", "shelter"])
    assert table.loc["Mexico", "Total"] == str(expected.loc["MEX", "total"])
    assert not at.dataframe  # HTML tables: no canvas grid to load
    gaps_md = [m.value for m in at.markdown if "states/departments" in m.value]
    assert gaps_md and "**Shelter**" in gaps_md[0]


def test_coverage_level_and_country_filter(page):
    at = page("coverage_page", lang="es")
    at.radio(key="cov_level").set_value("admin1").run()
    assert "Departamento/estado" in tables_of(at)[0].columns
    at.multiselect(key="cov_countries").set_value(["GTM"]).run()
    assert set(tables_of(at)[0]["País"]) == {"Guatemala"}


def test_coverage_gap_list_changes_with_service(page):
    at = page("coverage_page", lang="en")
    at.selectbox(key="cov_service").set_value("shelter").run()
    shelter = len(tables_of(at)[-1])
    at.selectbox(key="cov_service").set_value("health").run()
    health = tables_of(at)[-1]
    assert len(health) == shelter + 1  # shelters in MX-CHP and GT-SM; health only in GT-SM
    assert "Chiapas" in set(health["State/department"])


def test_about_page_has_verify_credit_and_privacy(page):
    at = page("about_page", lang="en")
    text = " ".join(m.value for m in at.markdown) + " ".join(e.value for e in at.error)
    assert "VERIFY BEFORE REFERRAL" in text
    assert "Place data © GeoNames (geonames.org), CC BY 4.0" in text
    assert "Natural Earth" in text and "public domain" in text
    assert "No search is logged or stored" in text
    assert at.metric[0].value == "6"
