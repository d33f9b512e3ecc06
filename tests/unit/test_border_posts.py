"""Border posts known by name and municipality only (issue 14, data/border_posts.csv).

The place finder answers their names with the town a public page places them in,
labelled as such; the source-list placement, the gazetteer's own search and the map
labels never see them.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from rcm_map.core.i18n import LANGUAGES, Translator
from rcm_map.render.placechoice import choice_label, post_note
from rcm_map.search.gazetteer import POST_KINDS, default_gazetteer
from rcm_map.search.placefinder import default_finder

REPO = Path(__file__).resolve().parents[2]
POSTS = REPO / "data" / "border_posts.csv"


def rows() -> list[dict[str, str]]:
    with POSTS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("row", rows(), ids=lambda r: f"{r['name']}-{r['country_iso3']}")
def test_every_post_is_a_candidate_at_its_town(row: dict[str, str]) -> None:
    found = default_finder().find(row["name"])
    posts = [c.place for c in found.candidates if c.place.is_post]
    mine = [p for p in posts if p.country == row["country_iso3"]]
    assert len(mine) == 1 and mine[0].shown_at == row["town"]
    town = next(p for p in default_gazetteer().search(row["town"], limit=20,
                                                       country=row["country_iso3"])
                if p.geonameid == int(row["geonameid"]))
    assert (mine[0].lat, mine[0].lon, mine[0].admin1_code) == (town.lat, town.lon,
                                                               town.admin1_code)
    # an exact post name ranks above every namesake that is not a post
    assert found.candidates[0].place.is_post and found.suggestion is None


def test_both_sides_are_listed_with_their_country() -> None:
    found = default_finder().find("el amatillo")  # accents and case do not matter
    sides = [(c.place.country, c.place.shown_at) for c in found.candidates]
    assert sides == [("SLV", "Pasaquina"), ("HND", "Goascorán")]


def test_a_post_beats_the_fuzzy_and_namesake_answers_of_before() -> None:
    assert default_finder().find("La Mesilla").chosen.place.shown_at == "Ciudad Cuauhtémoc"
    assert default_finder().find("Peñas Blancas").chosen.place.country == "CRI"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_label_says_where_it_is_shown_and_that_the_point_is_not_known(lang: str) -> None:
    tr = Translator(lang)
    post = default_finder().find("El Amatillo, Honduras").chosen.place
    label = choice_label(post, tr)
    assert label.startswith("El Amatillo (") and "Goascorán, Valle (Honduras)" in label
    assert tr.t("search.place_kind.border_post") in label
    note = post_note(post, tr)
    assert note is not None and "Goascorán" in note
    phrase = {"en": "exact point is not known", "es": "no se conoce su punto exacto",
              "fr": "son point exact n'est pas connu"}[lang]
    assert phrase in note


def test_english_label_and_note_in_full() -> None:
    tr = Translator("en")
    post = default_finder().find("Bajo Chiquito").chosen.place
    assert choice_label(post, tr) == ("Bajo Chiquito (entry point) — shown at Lajas Blancas, "
                                      "Emberá (Panama)")
    assert choice_label(post, tr, "PAN") == ("Bajo Chiquito (entry point) — shown at "
                                             "Lajas Blancas, Emberá (PAN)")
    assert post_note(post, tr) == (
        "Bajo Chiquito is shown at Lajas Blancas, the municipality or town a public source "
        "places it in; its exact point is not known, so distances are counted from "
        "Lajas Blancas.")
    tapachula = default_finder().find("Tapachula").chosen.place
    assert post_note(tapachula, tr) is None
    assert choice_label(tapachula, tr) == "Tapachula, Chiapas (Mexico)"


def test_source_list_placement_and_map_labels_leave_posts_out() -> None:
    gaz = default_gazetteer()
    assert [p.name for p in gaz.search("El Amatillo")] == []
    assert gaz.resolve_city("El Amatillo", "SLV", "La Unión").method == "admin1_fallback"
    names, lat, _, _ = gaz.points()
    assert "El Amatillo" not in names and len(names) == len(lat)
    around = gaz.places_in_bbox(13.5, -87.9, 13.7, -87.5)
    assert around and not any(p.kind in POST_KINDS for p in around)


def _build_script():
    spec = importlib.util.spec_from_file_location("build_gazetteer",
                                                  REPO / "scripts" / "build_gazetteer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("change", "message"), [
    ({"town": "Pasaquina Centro"}, "do not match geonameid 3584140"),
    ({"geonameid": "1"}, "field 'geonameid': '1' is not a place"),
    ({"kind": "border_crossing"}, "field 'kind'"),
    ({"source_url": "laprensagrafica.com"}, "field 'source_url'"),
])
def test_a_bad_post_row_is_named(tmp_path: Path, change: dict[str, str], message: str) -> None:
    build = _build_script()
    row = {**rows()[0], **change}
    path = tmp_path / "posts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    towns = [{"geonameid": "3584140", "name": "Pasaquina", "country_iso3": "SLV",
              "admin1_code": "SV-UN", "admin1": "La Unión", "lat": "13.58444",
              "lon": "-87.84111"}]
    with pytest.raises(ValueError, match=f"{path}: row 2: .*{message}"):
        build.read_posts(path, towns, -1)
