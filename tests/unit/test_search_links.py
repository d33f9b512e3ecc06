"""Search points in links and reloads: rounded unless a named place was chosen (issue 12)."""

from __future__ import annotations

from rcm_map.search.urlstate import SearchState, decode, encode, is_named_place


def test_a_clicked_or_typed_point_is_rounded_to_about_a_kilometre() -> None:
    typed = SearchState(place="14.812345,-92.398765", lat=14.812345, lon=-92.398765)
    clicked = SearchState(lat=14.812345, lon=-92.398765)
    for state in (typed, clicked):
        params = encode(state)
        assert params == {"lat": "14.81", "lon": "-92.4"}
        assert "812345" not in repr(params) and "398765" not in repr(params)
        back = decode(params).state
        assert (back.lat, back.lon) == (14.81, -92.4)


def test_a_named_place_keeps_its_point() -> None:
    state = SearchState(place="Tapachula", lat=14.90385, lon=-92.25749)
    assert encode(state) == {"place": "Tapachula", "lat": "14.90385", "lon": "-92.25749"}


def test_named_place_detection() -> None:
    assert is_named_place("Ciudad Hidalgo")
    assert not is_named_place("14.8,-92.3")
    assert not is_named_place(" 14.812345 , -92.398765 ")
    assert not is_named_place("")
