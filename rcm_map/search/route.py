"""Transit points on the migration route: where caseworkers need services first.

Two kinds, each from one source:

* the corridor places of the gazetteer: rows whose `kind` is a border crossing, a
  border town or a transit point (`placeindex.CORRIDOR_KINDS`), i.e. the rows of
  data/corridor_places.csv with their source pages, built into the gazetteer by
  `scripts/build_gazetteer.py`; they are not repeated here;
* `HUBS`: the hubs named in the source list and in issue 16 that are ordinary
  towns in GeoNames, and crossings neither file lists, represented by the nearest
  listed town (said in `note`). Each is a gazetteer place (GeoNames name, country,
  ISO 3166-2 unit), so its point comes from the bundled gazetteer, never typed by hand.

May import `core` and `search.gazetteer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from rcm_map.core.geo import haversine_km
from rcm_map.search.gazetteer import CORRIDOR_KINDS, Gazetteer, default_gazetteer

NEAR_KM = 50.0  # "near a transit point": great-circle distance


@dataclass(frozen=True)
class TransitPoint:
    """A place on the route, looked up by its exact gazetteer name."""

    label: str
    name: str
    country: str
    admin1: str
    note: str = ""


HUBS: tuple[TransitPoint, ...] = (
    TransitPoint("Tapachula", "Tapachula", "MEX", "MX-CHP"),
    TransitPoint("Tenosique", "Tenosique", "MEX", "MX-TAB"),
    TransitPoint("Tijuana", "Tijuana", "MEX", "MX-BCN"),
    TransitPoint("Ciudad Juárez", "Ciudad Juárez", "MEX", "MX-CHH"),
    TransitPoint("Agua Prieta", "Agua Prieta", "MEX", "MX-SON"),
    TransitPoint("Piedras Negras", "Piedras Negras", "MEX", "MX-COA"),
    TransitPoint("Nuevo Laredo", "Nuevo Laredo", "MEX", "MX-TAM"),
    TransitPoint("Reynosa", "Reynosa", "MEX", "MX-TAM"),
    TransitPoint("Matamoros", "Heroica Matamoros", "MEX", "MX-TAM"),
    TransitPoint("Esquipulas (Agua Caliente)", "Esquipulas", "GTM", "GT-CQ"),
    TransitPoint("Agua Caliente (HN)", "Nueva Ocotepeque", "HND", "HN-OC",
                 "Nueva Ocotepeque, the town nearest the crossing"),
    TransitPoint("El Florido", "Copán Ruinas", "HND", "HN-CP",
                 "Copán Ruinas, the town nearest the crossing"),
    TransitPoint("San Pedro Sula", "San Pedro Sula", "HND", "HN-CR"),
    TransitPoint("Las Chinamas", "Ahuachapán", "SLV", "SV-AH",
                 "Ahuachapán, the town nearest the crossing"),
    TransitPoint("Las Manos", "Ocotal", "NIC", "NI-NS", "Ocotal, the town nearest the crossing"),
    TransitPoint("Peñas Blancas (NI)", "Cárdenas", "NIC", "NI-RI",
                 "Cárdenas, the municipality of the crossing"),
    TransitPoint("Peñas Blancas (CR)", "La Cruz", "CRI", "CR-G",
                 "La Cruz, the Costa Rican town nearest the crossing"),
    TransitPoint("Darién (Metetí)", "Metetí", "PAN", "PA-5"),
)


@cache
def locate(points: tuple[TransitPoint, ...], gazetteer: Gazetteer
           ) -> tuple[tuple[TransitPoint, float, float], ...]:
    """(point, lat, lon) of each of `points` the gazetteer knows, in order."""
    out = []
    for point in points:
        found = [p for p in gazetteer.search(point.name, limit=5, country=point.country,
                                             admin1=point.admin1) if p.name == point.name]
        if found:
            out.append((point, found[0].lat, found[0].lon))
    return tuple(out)


@cache
def corridor_points(gazetteer: Gazetteer) -> tuple[tuple[TransitPoint, float, float], ...]:
    """(point, lat, lon) of every corridor place of the gazetteer, labelled by its name."""
    rows = np.arange(len(gazetteer))
    out = []
    for row in rows[np.isin(gazetteer.kinds(rows), CORRIDOR_KINDS)]:
        place = gazetteer.place(int(row))
        out.append((TransitPoint(place.name, place.name, place.country, place.admin1_code),
                    place.lat, place.lon))
    return tuple(out)


def located_points(gazetteer: Gazetteer | None = None
                   ) -> tuple[tuple[TransitPoint, float, float], ...]:
    """(point, lat, lon) of every transit point: the hubs the gazetteer knows, then its
    corridor places."""
    gazetteer = gazetteer or default_gazetteer()
    return locate(HUBS, gazetteer) + corridor_points(gazetteer)


def nearest_transit_km(lat: float, lon: float, gazetteer: Gazetteer | None = None
                       ) -> float | None:
    """Great-circle km from (lat, lon) to the nearest transit point (None: none known)."""
    points = located_points(gazetteer)
    if not points:
        return None
    return min(haversine_km(lat, lon, plat, plon) for _, plat, plon in points)
