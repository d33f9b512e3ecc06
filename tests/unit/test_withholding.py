"""The one gate for confidential free text: `safety.public_properties` (issue 12)."""

from __future__ import annotations

from typing import Any

from rcm_map.core.safety import WITHHELD_FOR_CONFIDENTIAL, public_properties, source_links
from rcm_map.store.base import keep_withheld, public_feature

NOTE = "https://news.example/a — located near Dundas & Ossington; see https://b.example/x."


def props(**over: Any) -> dict[str, Any]:
    base = {"id": "x", "location_precision": "confidential", "address": "Calle Secreta 1",
            "description": "al lado del mercado", "source": NOTE, "city": "Toronto",
            "country": "CAN", "admin1": "CA-ON"}
    return {**base, **over}


def test_source_links_keep_only_the_urls() -> None:
    assert source_links(NOTE) == "https://news.example/a https://b.example/x"
    assert source_links("hand-made fixture, Barrio Medina") == ""
    assert source_links(None) == ""
    assert source_links("http://a.example http://a.example") == "http://a.example"


def test_confidential_properties_lose_their_location_text() -> None:
    out = public_properties(props())
    assert out["source"] == "https://news.example/a https://b.example/x"
    for name in WITHHELD_FOR_CONFIDENTIAL:
        assert out[name] == ""
    assert out["city"] == "Toronto"


def test_public_services_are_unchanged_and_input_is_not_mutated() -> None:
    given = props(location_precision="address")
    assert public_properties(given) == given
    conf = props()
    public_properties(conf)
    assert conf["source"] == NOTE


def test_an_upload_of_the_public_view_keeps_the_stored_note() -> None:
    """Focal points re-upload exports: a source reduced to its links means 'unchanged'."""
    stored = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-79.42, 43.65]},
              "properties": props()}
    shown = public_feature(stored)
    assert "Dundas" not in repr(shown)
    back = keep_withheld(stored, shown)
    assert back["properties"]["source"] == NOTE
    assert back["properties"]["address"] == "Calle Secreta 1"
    assert back["geometry"] == stored["geometry"]
    edited = {**shown, "properties": {**shown["properties"], "source": "https://new.example"}}
    assert keep_withheld(stored, edited)["properties"]["source"] == "https://new.example"
