"""placefinder: readings of typed text, corridor ranking, typos, services, bbox."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rcm_map.search.gazetteer import EXACT, Gazetteer
from rcm_map.search.place_text import readings
from rcm_map.search.placefinder import (
    EARTH_RADIUS_KM,
    SERVICE_RADIUS_KM,
    PlaceFinder,
    corridor_score,
    default_finder,
    finder_for,
    service_points,
)

DATA = Path(__file__).resolve().parents[1] / "data"


def columns(*places: tuple[str, str, str, float, float, int, str, float]) -> dict:
    """Gazetteer columns for (name, country, admin1, lat, lon, population, kind, border_km)."""
    from rcm_map.search.gazetteer import normalize

    return {
        "name": [p[0] for p in places], "key": [normalize(p[0]) for p in places],
        "alt_keys": ["" for _ in places], "other_keys": ["" for _ in places],
        "country_iso3": [p[1] for p in places], "admin1_code": [p[2] for p in places],
        "admin1": [p[2] for p in places], "lat": [str(p[3]) for p in places],
        "lon": [str(p[4]) for p in places], "population": [str(p[5]) for p in places],
        "geonameid": [str(i + 1) for i in range(len(places))],
        "kind": [p[6] for p in places], "border_km": [str(p[7]) for p in places],
    }


@pytest.fixture
def twins() -> Gazetteer:
    """Two namesakes: a big inland town and a small border town."""
    return Gazetteer(columns(
        ("Villa Vieja", "MEX", "MX-MIC", 19.69, -100.55, 60000, "place", 998.0),
        ("Villa Vieja", "MEX", "MX-CHP", 14.68, -92.15, 15000, "place", 1.0),
        ("Paso Norte", "HND", "HN-CH", 13.06, -86.95, 0, "border_crossing", 0.1),
    ))


def test_readings_of_the_forms() -> None:
    assert [(r.key, sorted(r.admin1), sorted(r.countries)) for r in readings("David, Chiriquí")] \
        == [("david chiriqui", [], []), ("david", ["PA-4"], [])]
    assert readings("San José Costa Rica")[-1].countries == {"CRI"}
    assert readings("Flores (Petén)")[-1].admin1 == {"GT-PE"}
    assert [r.key for r in readings("Ciudad Ixtepec")] == ["ciudad ixtepec", "ixtepec"]
    # short codes count after a comma or in capitals, never in a lower-case name
    assert readings("Tapachula, MX")[-1].countries == {"MEX"}
    assert readings("Santa Ana SV")[-1].countries == {"SLV"}
    assert len(readings("santa ana sv")) == 1
    assert readings("Toronto ON")[-1].admin1 == {"CA-ON"}
    # a state and its country
    both = readings("Tapachula, Chiapas, México")[-1]
    assert (both.key, both.admin1, both.countries) == ("tapachula", {"MX-CHP"}, frozenset())
    assert readings("Tapachula Chiapas México")[-1].admin1 == {"MX-CHP"}
    # words before a place that are not its name
    assert readings("frontera de El Espino")[-1].key == "el espino"
    assert readings("border crossing Paso Canoas")[-1].key == "paso canoas"
    assert readings("Municipio de Tapachula")[-1].key == "tapachula"


def test_border_town_beats_a_larger_inland_namesake(twins: Gazetteer) -> None:
    found = PlaceFinder(twins).find("Villa Vieja")
    assert [c.place.admin1_code for c in found.candidates] == ["MX-CHP", "MX-MIC"]
    assert found.chosen.on_corridor and not found.runner_up.on_corridor
    assert found.chosen.match == "exact"
    shortened = PlaceFinder(twins).find("Villa Vieja", limit=1)
    assert len(shortened.candidates) == 1 and shortened.total == 2


def test_services_nearby_count_and_confidential_ones_do_not(
    twins: Gazetteer, small_path: Path, small_features: list
) -> None:
    finder = PlaceFinder(twins, np.array([[19.70, -100.56]] * 3))
    assert finder.services_near(np.array([0, 1])).tolist() == [3, 0]
    points = service_points(small_path)  # 5 located, 1 of them confidential
    located = [f for f in small_features if f["geometry"]
               and f["properties"]["location_precision"] != "confidential"]
    assert sorted(map(tuple, points.tolist())) == sorted(
        (f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]) for f in located)
    assert len(points) == 4


def test_services_near_equals_a_brute_force_count() -> None:
    # Points spread over the corridor, counted against every gazetteer row near them.
    rng = np.random.default_rng(7)
    points = np.column_stack([rng.uniform(7.0, 33.0, 20_000), rng.uniform(-118, -77, 20_000)])
    finder = default_finder().with_services(points)
    rows = np.unique(finder.gazetteer.entry_rows())[::97][:60]
    lat, lon = finder.gazetteer.coordinates(rows)
    p1, l1 = np.radians(lat)[:, None], np.radians(lon)[:, None]
    p2, l2 = np.radians(points[:, 0])[None, :], np.radians(points[:, 1])[None, :]
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    expected = (km <= SERVICE_RADIUS_KM).sum(axis=1)
    assert expected.sum() > 0
    assert finder.services_near(rows).tolist() == expected.tolist()


def test_country_filter_narrows_and_preference_only_breaks_ties(twins: Gazetteer) -> None:
    finder = PlaceFinder(twins)
    assert finder.find("Villa Vieja", countries=["HND"]).chosen is None
    preferred = finder.find("Villa Vieja", prefer_countries=["MEX"])
    assert preferred.chosen.place.admin1_code == "MX-CHP"


def test_crossing_found_by_name_and_typo(twins: Gazetteer) -> None:
    finder = PlaceFinder(twins)
    assert finder.find("paso norte").chosen.place.kind == "border_crossing"
    typo = finder.find("Paso Nrote")
    assert typo.chosen.match == "fuzzy" and typo.suggestion == "Paso Norte"
    assert finder.find("zzzz qqqq").chosen is None


def test_corridor_score_orders_the_signals() -> None:
    score = corridor_score(
        population=np.array([10_000, 10_000, 10_000, 0, 10_000]),
        border_km=np.array([500.0, 5.0, 500.0, 0.5, 500.0]),
        services=np.array([0, 0, 3, 0, 0]),
        kinds=["place", "place", "place", "border_crossing", "place"],
        primary=np.array([True, True, True, True, False]),
        fuzzy_score=np.array([100.0, 100.0, 100.0, 100.0, 100.0]),
    )
    inland, border, services, crossing, alternate = score
    assert border > services > inland > alternate
    assert crossing > border


def test_places_in_bbox_most_populous_first(twins: Gazetteer) -> None:
    places = twins.places_in_bbox(12.0, -101.0, 20.0, -86.0)
    assert [p.population for p in places] == [60000, 15000, 0]
    assert [p.name for p in twins.places_in_bbox(12.0, -93.0, 15.0, -86.0,
                                                 min_population=1)] == ["Villa Vieja"]
    assert twins.places_in_bbox(0, 0, 1, 1) == []


def test_search_keeps_alternate_names_out_but_find_uses_them() -> None:
    gaz = default_finder().gazetteer
    assert not any(p.name == "Heroica Matamoros" for p in gaz.search("matamoros", limit=3))
    rows, tiers, primary = gaz.match("matamoros")
    names = {gaz.place(int(r)).name for r, t in zip(rows, tiers, strict=True) if t == EXACT}
    assert "Heroica Matamoros" in names
    assert default_finder().find("Matamoros").chosen.place.name == "Heroica Matamoros"


def test_default_finder_takes_the_services_of_the_registry_in_use(
    tmp_path: Path, small_features: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = tmp_path / "registry.geojson"
    near_hidalgo = dict(small_features[0], geometry={"type": "Point",
                                                     "coordinates": [-100.55, 19.69]})
    near_hidalgo["properties"] = dict(near_hidalgo["properties"], country="MEX",
                                      admin1="MX-MIC", city="Ciudad Hidalgo")
    registry.write_text(json.dumps({"type": "FeatureCollection", "features": [near_hidalgo]}),
                        encoding="utf-8")
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(registry))
    finder = default_finder()
    michoacan = finder.find("Ciudad Hidalgo, Michoacán").chosen
    assert michoacan is not None and michoacan.services_nearby == 1
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(tmp_path / "absent.geojson"))
    assert default_finder().find("Ciudad Hidalgo, Michoacán").chosen.services_nearby == 0


def test_finder_for_reads_the_points_once_per_key() -> None:
    calls = []

    def points() -> np.ndarray:
        calls.append(1)
        return np.array([[19.69, -100.55]])

    first = finder_for(("test-source", 1), points)
    assert finder_for(("test-source", 1), points) is first and calls == [1]
    assert first.find("Ciudad Hidalgo, Michoacán").chosen.services_nearby == 1
    assert finder_for(("test-source", 2), lambda: np.empty((0, 2))).find(
        "Ciudad Hidalgo, Michoacán").chosen.services_nearby == 0
