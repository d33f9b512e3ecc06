"""Hand-made result frames for the browser tests (shaped like `query.search` output)."""

from __future__ import annotations

import random

import pandas as pd

PAYLOADS = (
    "<img src=x onerror=\"window.__pwned=(window.__pwned||0)+1\">",
    "${window.__pwned=1}",
    "`);window.__pwned=1;(`",
    "</script><script>window.__pwned=1</script>",
    "{{ 7*191 }}",
    "{% if true %}X{% endif %}",
    "' \" onmouseover=window.__pwned=1 x='",
    "\u202eRTL\u0000NUL",
)


def _service(i: int, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"svc-{i}", "name": f"Servicio {i}", "organization": f"Organización {i}",
        "organization_type": "ngo", "service_types": ["shelter"], "age_min": 0, "age_max": 17,
        "populations": ["unaccompanied"], "country": "MEX", "admin1": "MX-CHP",
        "city": "Tapachula", "address": f"Calle {i}", "phones": [f"+52 962 000 00{i:02d}"],
        "email": f"info{i}@example.org", "website": f"https://example.org/{i}",
        "hours": "L-V 9-17", "languages": ["es"], "cost": "", "referral": "Llamar antes",
        "notifies_authorities": "unknown", "location_precision": "address",
        "source_date": "2025-01-15", "verified_on": "", "source": "test", "description": "",
        "lon": -92.26 + 0.05 * (i % 5), "lat": 14.91 + 0.05 * (i // 5), "distance_km": 1.0 + i,
        "distance_band": "",
    }
    base.update(over)
    return base


SMALL_TYPES = ("shelter", "health", "legal_assistance", "child_protection_authority",
               "psychosocial", "hotline")


def small_frame() -> pd.DataFrame:
    """Six services of different primary types around Tapachula."""
    return pd.DataFrame([_service(i, service_types=[t]) for i, t in enumerate(SMALL_TYPES)])


def hostile_frame() -> pd.DataFrame:
    """One service per payload, the payload in every text field and list."""
    rows = []
    for i, p in enumerate(PAYLOADS):
        rows.append(_service(
            i, name=f"N{i} {p}", organization=p, city=p, address=p, hours=p, referral=p,
            phones=[p, "+52 962 111 2233"], email=p, website=f"javascript:{p}",
            source_date=p, verified_on=p, service_types=["shelter", p], distance_band=p,
        ))
    return pd.DataFrame(rows)


def many_frame(n: int = 200, seed: int = 7) -> pd.DataFrame:
    """`n` services scattered (seeded) around Tapachula, dense enough to cluster."""
    rng = random.Random(seed)
    return pd.DataFrame([
        _service(i, lon=-92.26 + rng.gauss(0, 0.15), lat=14.91 + rng.gauss(0, 0.12),
                 service_types=[SMALL_TYPES[i % len(SMALL_TYPES)]])
        for i in range(n)
    ])
