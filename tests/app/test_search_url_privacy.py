"""What the page writes into its address (issue 12): a point typed or clicked goes there
rounded to ~1 km; with RCM_MAP_SEARCH_IN_URL=false nothing of the search goes there."""

from __future__ import annotations

import pytest
from cardlist import cards_of


def test_typed_coordinates_are_rounded_in_the_address(app) -> None:
    at = app(lang="es")
    at.text_input(key="place_text").set_value("14.812345, -92.398765").run()
    assert (at.query_params["lat"], at.query_params["lon"]) == ("14.81", "-92.4")
    assert "812345" not in repr(dict(at.query_params))
    assert "place" not in at.query_params


def test_the_search_can_stay_out_of_the_address(app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCM_MAP_SEARCH_IN_URL", "false")
    at = app(lang="es")
    at.text_input(key="place_text").set_value("tapachula").run()
    assert not at.exception
    assert cards_of(at)  # the search ran
    assert set(at.query_params) <= {"lang"}
    assert not at.get("code")  # and no share link offers the place either
