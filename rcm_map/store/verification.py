"""The verification queue: which services a focal point should confirm first.

Ordered by what caseworkers need most (issue 16): services near a transit point
with no phone and no e-mail first (a child there has no way to reach them), then
other services without any contact, then the rest near transit points, then the
others. Within a tier: never verified before stale verifications, the oldest
information first, child-protection authorities and hotlines before other types.
Services verified in the last 12 months are not in the queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rcm_map.core.freshness import Freshness, freshness
from rcm_map.search.gazetteer import Gazetteer
from rcm_map.search.route import NEAR_KM, nearest_transit_km

Feature = dict[str, Any]
# Tier codes, most urgent first.
TIERS = ("transit_no_contact", "no_contact", "transit", "other")
FIRST_TYPES = ("child_protection_authority", "hotline")


@dataclass(frozen=True)
class QueueItem:
    """One service waiting for verification, and why it sits where it does."""

    service_id: str
    name: str
    city: str
    tier: str  # one of TIERS
    transit_km: float | None  # to the nearest transit point; None when not on the map
    status: Freshness
    authority: bool = False  # a child-protection authority or a hotline

    @property
    def label(self) -> str:
        """A one-line text for a picker: name, city and tier."""
        where = f", {self.city}" if self.city else ""
        return f"{self.name}{where} [{self.tier}]"


def needs_verification(props: dict[str, Any], today: dt.date | None = None) -> bool:
    """True unless a focal point verified the service in the last 12 months."""
    status = freshness(props, today)
    return not status.verified or status.stale


def _tier(props: dict[str, Any], near: bool) -> str:
    contact = bool(props.get("phones") or props.get("email"))
    if not contact:
        return "transit_no_contact" if near else "no_contact"
    return "transit" if near else "other"


def verification_queue(features: Iterable[Feature], today: dt.date | None = None,
                       gazetteer: Gazetteer | None = None) -> list[QueueItem]:
    """Services needing verification, most urgent first (see the module docstring).

    Parameters
    ----------
    features : iterable of dict
        Registry features (true locations: the queue is for focal points only).
    today : date, optional
        For tests; defaults to today.
    gazetteer : Gazetteer, optional
        Where the transit points come from; defaults to the bundled one.
    """
    items = []
    for feature in features:
        props = feature["properties"]
        if not needs_verification(props, today):
            continue
        geometry = feature.get("geometry")
        km = (nearest_transit_km(geometry["coordinates"][1], geometry["coordinates"][0],
                                 gazetteer) if geometry else None)
        near = km is not None and km <= NEAR_KM
        authority = any(t in FIRST_TYPES for t in props.get("service_types") or [])
        items.append(QueueItem(props["id"], props["name"], props.get("city") or "",
                               _tier(props, near), km, freshness(props, today), authority))
    return sorted(items, key=_urgency)


def _urgency(item: QueueItem) -> tuple[Any, ...]:
    """Sort key: tier, never verified first, oldest (undated first), authorities first."""
    date = item.status.date.isoformat() if item.status.date else ""
    return (TIERS.index(item.tier), item.status.verified, date, not item.authority,
            item.name, item.service_id)
