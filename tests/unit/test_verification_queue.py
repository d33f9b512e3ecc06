"""The verification queue: services near transit points without any contact first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rcm_map.store.verification import needs_verification, verification_queue

TODAY = dt.date(2026, 12, 1)
TAPACHULA = (-92.26, 14.9)
MONTERREY = (-100.31, 25.67)  # more than 50 km from every transit point


def service(sid: str, point: tuple[float, float] | None, *, phones: list[str] | None = None,
            types: list[str] | None = None, **props: Any) -> dict[str, Any]:
    base = {"id": sid, "name": sid, "city": "", "phones": phones or [], "email": "",
            "service_types": types or ["shelter"], "source_date": "", "verified_on": "",
            "verified_by": ""}
    base.update(props)
    geometry = {"type": "Point", "coordinates": list(point)} if point else None
    return {"type": "Feature", "geometry": geometry, "properties": base}


def test_order_by_need() -> None:
    features = [
        service("far-with-phone", MONTERREY, phones=["1"]),
        service("near-with-phone", TAPACHULA, phones=["1"]),
        service("far-no-contact", MONTERREY),
        service("near-no-contact-new", TAPACHULA, source_date="2026-10-01"),
        service("near-no-contact-old", TAPACHULA, source_date="2019-05-01"),
        service("near-no-contact-authority", TAPACHULA, source_date="2019-05-01",
                types=["child_protection_authority"]),
        service("country-wide-no-contact", None),
    ]
    queue = verification_queue(features, today=TODAY)
    assert [i.service_id for i in queue] == [
        "near-no-contact-authority", "near-no-contact-old", "near-no-contact-new",
        "country-wide-no-contact", "far-no-contact", "near-with-phone", "far-with-phone"]
    assert queue[0].tier == "transit_no_contact" and queue[0].transit_km is not None
    assert queue[0].transit_km < 5


def test_recent_verifications_leave_the_queue_stale_ones_come_back() -> None:
    recent = service("recent", TAPACHULA, verified_on="2026-09-01", verified_by="ana")
    stale = service("stale", TAPACHULA, verified_on="2025-01-01", verified_by="ana")
    never = service("never", TAPACHULA, source_date="2026-11-30")
    assert not needs_verification(recent["properties"], TODAY)
    queue = verification_queue([recent, stale, never], today=TODAY)
    assert [i.service_id for i in queue] == ["never", "stale"]  # never verified first
