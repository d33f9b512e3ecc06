"""Search page (AppTest): each filter changes the list exactly as the engine says,
query parameters restore a search, and the URL follows the widgets."""

from __future__ import annotations

import pytest

from rcm_map.registry import load_registry
from rcm_map.registry.model import default_registry_path
from rcm_map.search.query import search
from rcm_map.search.urlstate import decode

TAPACHULA = {"place": "Tapachula", "lang": "es"}


def listed(at) -> list[str]:
    """Names in the results table, in order."""
    if not at.dataframe:
        return []
    return list(at.dataframe[0].value["name"])


def engine(at) -> list[str]:
    """What the engine returns for the state the page wrote into the URL."""
    state = decode(dict(at.query_params)).state
    result = search(load_registry(default_registry_path()), state.to_query())
    return list(result.located["name"])


def test_page_renders_with_notice_and_results(app):
    at = app(lang="es")
    assert at.title[0].value.startswith("Servicios de protección")
    assert any("Verifique antes de referir" in w.value for w in at.warning)
    assert len(listed(at)) == 5  # every located service, no place chosen yet
    assert listed(at) == engine(at)


def test_place_search_sets_point_and_sorts_by_distance(app):
    at = app(lang="es")
    at.text_input(key="place_text").set_value("tapachula").run()
    assert at.query_params["lat"] == "14.90541"
    assert at.selectbox(key="place_choice").options[0].startswith("Tapachula, Chiapas")
    names = listed(at)
    assert names == engine(at)
    assert names[0] == "Procuraduría de Protección (prueba)"
    assert at.dataframe[0].value["distance"].iloc[0].endswith("km")


def test_accent_insensitive_place_with_choice(app):
    at = app(lang="es")
    at.text_input(key="place_text").set_value("tecun uman").run()
    choice = at.selectbox(key="place_choice")
    assert "Tecún Umán" in choice.options[0]
    assert listed(at)[0] == "Casa del Migrante (prueba)"
    if len(choice.options) > 1:
        before = at.query_params["lat"]
        choice.set_value(choice.options[1]).run()
        assert at.query_params["lat"] != before
        assert listed(at) == engine(at)


def test_typed_coordinates(app):
    at = app(lang="es")
    at.text_input(key="place_text").set_value("43.65, -79.38").run()
    assert listed(at)[0] == "Legal Clinic (test)"
    assert (at.query_params["lat"], at.query_params["lon"]) == ("43.65", "-79.38")


def test_unknown_place_says_so(app):
    at = app(lang="en")
    at.text_input(key="place_text").set_value("Qwxzzy").run()
    assert any("not found" in c.value for c in at.caption)
    assert "lat" not in at.query_params


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("services", ["shelter"], ["Albergue Ejemplo Tapachula", "Casa del Migrante (prueba)",
                               "Casa confidencial (prueba)"]),
    ("populations", ["families"], ["Procuraduría de Protección (prueba)",
                                   "Casa del Migrante (prueba)"]),
    ("languages", ["mam"], ["Albergue Ejemplo Tapachula"]),
    ("countries", ["GTM"], ["Casa del Migrante (prueba)"]),
    ("admin1", ["GT-SM"], ["Casa del Migrante (prueba)"]),
])
def test_each_multiselect_filter(app, key, value, expected):
    at = app(**TAPACHULA)
    baseline = listed(at)
    at.multiselect(key=key).set_value(value).run()
    names = listed(at)
    assert names == engine(at)
    assert names != baseline
    assert sorted(names) == sorted(expected)
    assert at.query_params[key] == ",".join(value)


def test_exact_age(app):
    at = app(**TAPACHULA)
    at.radio(key="age_mode").set_value("age").run()
    at.number_input(key="age").set_value(15).run()
    assert "Casa confidencial (prueba)" not in listed(at)  # serves 0-11
    assert listed(at) == engine(at)
    assert at.query_params["age"] == "15"


def test_age_band(app):
    at = app(**TAPACHULA)
    at.radio(key="age_mode").set_value("band").run()
    at.selectbox(key="band").set_value("0-5").run()
    assert "Albergue Ejemplo Tapachula" not in listed(at)  # serves 12-17
    assert listed(at) == engine(at)
    assert at.query_params["band"] == "0-5"


def test_radius(app):
    at = app(**TAPACHULA)
    assert "Casa del Migrante (prueba)" in listed(at)  # 27.7 km away
    at.select_slider(key="radius").set_value(10).run()
    assert "Casa del Migrante (prueba)" not in listed(at)
    assert listed(at) == engine(at)
    assert at.query_params["radius"] == "10"


def test_limit_from_url(app):
    at = app(**TAPACHULA, limit="2")
    assert len(listed(at)) == 2
    assert listed(at) == engine(at)


def test_query_params_restore_a_search(app):
    at = app(place="Tapachula", lat="14.90541", lon="-92.25891", radius="50", age="15",
             services="shelter", populations="unaccompanied", lang="en")
    assert at.text_input(key="place_text").value == "Tapachula"
    assert at.radio(key="age_mode").value == "age"
    assert at.number_input(key="age").value == 15
    assert at.multiselect(key="services").value == ["shelter"]
    assert at.multiselect(key="populations").value == ["unaccompanied"]
    assert listed(at) == engine(at) == ["Albergue Ejemplo Tapachula"]
    assert at.title[0].value == "Protection services near a child"


def test_garbage_params_fall_back(app):
    at = app(lat="abc", lon="-92", age="200", services="shelter,<b>x</b>", lang="zz")
    assert at.title[0].value.startswith("Servicios")  # default language
    assert at.multiselect(key="services").value == ["shelter"]
    assert any("lat" in c.value for c in at.caption)
    assert "<b>" not in "".join(c.value for c in at.caption)
    assert listed(at) == engine(at)


def test_countrywide_section(app):
    at = app(place="Tegucigalpa", lang="en")
    assert any(s.value.startswith("Country-wide") for s in at.subheader)
    assert list(at.dataframe[-1].value["name"]) == ["Programa nacional (prueba)"]


def test_downloads_present(app):
    at = app(**TAPACHULA)
    labels = [b.label for b in at.get("download_button")]
    assert labels[:2] == ["Descargar CSV", "Descargar GeoJSON"]
    assert labels[2].startswith("Hoja de referencia")
    assert labels[3:] == ["Descargar HSDS 3.0 (ZIP)", "Descargar CSV con etiquetas HXL"]


def test_state_survives_a_trip_to_another_page(app):
    """Changing page drops the query string; the session keeps the search."""
    at = app(**TAPACHULA)
    at.multiselect(key="services").set_value(["shelter"]).run()
    before = listed(at)
    for key in list(at.query_params):
        del at.query_params[key]
    at.run()
    assert listed(at) == before
    assert at.query_params["services"] == "shelter"
