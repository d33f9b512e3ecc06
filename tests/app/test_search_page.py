"""Search page (AppTest): each filter changes the list exactly as the engine says,
query parameters restore a search, and the URL follows the widgets."""

from __future__ import annotations

import re

import pytest
from cardlist import cards_of

from rcm_map.registry import load_registry
from rcm_map.registry.model import default_registry_path
from rcm_map.render.cards import order_results
from rcm_map.search.query import search
from rcm_map.search.urlstate import decode

TAPACHULA = {"place": "Tapachula", "lang": "es"}


def listed(at) -> list[str]:
    """Names in the result cards, in order."""
    return cards_of(at, "result")


def engine(at) -> list[str]:
    """What the engine returns for the state the page wrote into the URL."""
    state = decode(dict(at.query_params)).state
    if state.point is None:
        return []  # no place, no results
    result = search(load_registry(default_registry_path()), state.to_query())
    return list(order_results(result.located, state.services)["name"])


def test_page_renders_with_notice_and_results(app):
    at = app(lang="es")
    assert at.title[0].value.startswith("Servicios de protección")
    assert any("Verifique antes de referir" in w.value for w in at.warning)
    assert listed(at) == engine(at) == []  # nothing is a result before a place is chosen
    assert any("click on the map" in i.value or "clic en el mapa" in i.value for i in at.info)
    assert at.button(key="geo_button").label == "Usar mi ubicación"


def test_place_search_sets_point_and_sorts_by_distance(app):
    at = app(lang="es")
    at.text_input(key="place_text").set_value("tapachula").run()
    assert at.query_params["lat"] == "14.90541"
    assert at.selectbox(key="place_choice").options[0].startswith("Tapachula, Chiapas")
    names = listed(at)
    assert names == engine(at)
    assert names[0] == "Procuraduría de Protección (prueba)"
    first = next(h.proto.body for h in at.get("html") if 'data-rcm-kind="result"' in h.proto.body)
    assert re.search(r'rcm-card-where">a [0-9,]+ km<', first)  # an exact site: its distance


def test_accent_insensitive_place_with_choice(app):
    at = app(lang="es")
    at.text_input(key="place_text").set_value("tecun uman").run()
    choice = at.selectbox(key="place_choice")
    assert "Tecún Umán" in choice.options[0]
    # The one service with a street address comes first; then city-centre entries.
    assert listed(at)[:2] == ["Procuraduría de Protección (prueba)", "Casa del Migrante (prueba)"]
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
    assert any("not found" in w.value for w in at.warning)
    assert "lat" not in at.query_params
    assert listed(at) == []


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
    assert cards_of(at, "countrywide") == ["Programa nacional (prueba)"]


def test_downloads_present(app):
    at = app(**TAPACHULA)
    labels = [b.label for b in at.get("download_button")]
    assert labels[0].startswith("Hoja de referencia, HTML")
    assert labels[1].startswith("Hoja de referencia, PDF")
    assert labels[2:] == ["Descargar Excel (.xlsx)", "Descargar CSV", "Descargar GeoJSON",
                          "Descargar HSDS 3.0 (ZIP)", "Descargar CSV con etiquetas HXL"]


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


def test_street_tiles_only_when_the_deployment_allows_and_off_by_default(app, monkeypatch):
    toggles = app(**TAPACHULA).get("toggle")  # no tile server configured: no tiles toggle
    assert "street_tiles" not in [t.key for t in toggles]
    monkeypatch.setenv("RCM_MAP_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    monkeypatch.setenv("RCM_MAP_TILE_ATTRIBUTION", "© Example")
    at = app(place="Tapachula", lang="en")
    toggle = at.toggle(key="street_tiles")
    assert toggle.value is False
    assert any("tiles.example.org receives your IP address" in c.value for c in at.caption)


def _sheet_label(at) -> str:
    return next(b.proto.label for b in at.get("download_button")
                if b.proto.label.startswith("Referral sheet, HTML"))


def test_a_tick_for_the_referral_sheet_follows_its_service(app):
    # The cards' tick boxes are keyed by place in the list (the browser updates them
    # in place on a filter change); the tick belongs to the service, wherever it moves.
    at = app(place="Tapachula", lang="en")
    names = listed(at)
    assert names[:2] == ["Procuraduría de Protección (prueba)", "Albergue Ejemplo Tapachula"]
    everything = _sheet_label(at)
    at.checkbox(key="pick_1").check().run()
    one = _sheet_label(at)
    assert one != everything
    at.multiselect(key="services").set_value(["shelter"]).run()
    assert listed(at)[0] == "Albergue Ejemplo Tapachula"  # moved up, still ticked
    assert at.checkbox(key="pick_0").value is True
    assert [at.checkbox(key=f"pick_{i}").value for i in range(1, len(listed(at)))] == [
        False] * (len(listed(at)) - 1)
    assert _sheet_label(at) == one
    at.multiselect(key="services").set_value([]).run()  # back in its first place
    assert [at.checkbox(key=f"pick_{i}").value for i in range(len(listed(at)))] == [
        name == "Albergue Ejemplo Tapachula" for name in listed(at)]
    at.checkbox(key="pick_1").uncheck().run()
    assert _sheet_label(at) == everything
    assert not any(at.checkbox(key=f"pick_{i}").value for i in range(len(listed(at))))
