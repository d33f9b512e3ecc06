"""Place picking on the search page (AppTest): every namesake is listed with its
state and country, the page says which one it took, and a typo gets "did you mean"."""

from __future__ import annotations


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_namesakes_listed_with_state_and_the_corridor_one_taken(app):
    at = app(lang="en")
    at.text_input(key="place_text").set_value("Ciudad Hidalgo").run()
    options = at.selectbox(key="place_choice").options
    assert options[0].startswith("Ciudad Hidalgo, Chiapas")
    assert any(o.startswith("Ciudad Hidalgo, Michoacán") for o in options[1:])
    assert "Searching around **Ciudad Hidalgo, Chiapas" in captions(at)
    assert "1 other place matches" in captions(at)
    assert at.query_params["lat"] == "14.68018"


def test_choosing_another_namesake_moves_the_search(app):
    at = app(lang="en")
    at.text_input(key="place_text").set_value("Ciudad Hidalgo").run()
    options = at.selectbox(key="place_choice").options
    other = next(i for i, o in enumerate(options) if "Michoacán" in o)
    at.selectbox(key="place_choice").set_value(other).run()
    assert at.query_params["lat"] == "19.68957"
    assert "Searching around **Ciudad Hidalgo, Michoacán" in captions(at)


def test_typo_gets_did_you_mean_and_a_place(app):
    at = app(lang="es")
    at.text_input(key="place_text").set_value("Tapachla").run()
    assert "¿Quiso decir **Tapachula**?" in captions(at)
    assert at.query_params["lat"] == "14.90541"


def test_everyday_name_and_state_form(app):
    at = app(lang="fr")
    at.text_input(key="place_text").set_value("Xela").run()
    assert at.selectbox(key="place_choice").options[0].startswith("Quetzaltenango")
    at.text_input(key="place_text").set_value("David, Chiriquí").run()
    assert at.selectbox(key="place_choice").options[0].startswith("David, Chiriquí")


def test_taken_place_stays_when_the_country_filter_reorders_namesakes(app):
    at = app(lang="en")
    at.text_input(key="place_text").set_value("Corinto").run()
    options = at.selectbox(key="place_choice").options
    salvador = next(i for i, o in enumerate(options) if "El Salvador" in o)
    at.selectbox(key="place_choice").set_value(salvador).run()
    lat = at.query_params["lat"]
    at.multiselect(key="countries").set_value(["NIC"]).run()  # moves Nicaragua's up
    assert at.query_params["lat"] == lat
    taken = at.selectbox(key="place_choice")
    assert "El Salvador" in taken.options[taken.value]
    assert "Searching around **Corinto, Morazán (El Salvador)" in captions(at)


def test_border_post_is_labelled_as_shown_at_its_municipality(app):
    """Issue 14: a crossing known by municipality only lists both sides with their
    country, says which town it is shown at, and that its exact point is not known."""
    at = app(lang="en")
    at.text_input(key="place_text").set_value("El Amatillo").run()
    options = at.selectbox(key="place_choice").options
    salvador = "El Amatillo (border crossing) — shown at Pasaquina, La Unión (El Salvador)"
    honduras = "El Amatillo (border crossing) — shown at Goascorán, Valle (Honduras)"
    assert set(options[:2]) == {salvador, honduras}
    at.selectbox(key="place_choice").set_value(options.index(salvador)).run()
    assert at.query_params["lat"] == "13.58444"
    assert f"Searching around **{salvador}**" in captions(at)
    assert ("El Amatillo is shown at Pasaquina, the municipality or town a public source "
            "places it in; its exact point is not known" in captions(at))
    at.selectbox(key="place_choice").set_value(options.index(honduras)).run()
    assert at.query_params["lat"] == "13.58333"
    assert "its exact point is not known, so distances are counted from Goascorán" in captions(at)


def test_ordinary_place_has_no_post_note(app):
    at = app(lang="es")
    at.text_input(key="place_text").set_value("Tapachula").run()
    assert "punto exacto" not in captions(at)
