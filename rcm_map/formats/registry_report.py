"""The generated parts of data/README.md: counts, contact shares, hotlines, gaps, conflicts.

`refresh_readme` rewrites each ``<!-- NAME:start --> ... <!-- NAME:end -->`` block
from the built registry, so the figures in the README are never typed by hand;
`tests/test_real_data.py` fails when a block is stale.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rcm_map.core import schema
from rcm_map.core.geo import haversine_km
from rcm_map.search.route import located_points

if TYPE_CHECKING:
    from rcm_map.formats.registry_build import BuildResult

Feature = dict[str, Any]
GAP_RADIUS_KM = 50.0
CONTACT_FIELDS = ("phones", "email", "website", "address", "hours", "referral", "eligibility")


def counts_markdown(features: list[dict[str, Any]]) -> str:
    """Markdown tables of services per country and per service type (for data/README.md).

    Parameters
    ----------
    features : list of dict
        Registry features.

    Returns
    -------
    str
        Two tables: per country (total, on the map by city point or coordinates,
        confidential, country-wide) and per service type and country.
    """
    countries = list(schema.COUNTRIES)
    per_country: dict[str, Counter[str]] = {c: Counter() for c in countries}
    per_service: dict[str, Counter[str]] = {s: Counter() for s in schema.SERVICE_TYPES}
    for feat in features:
        p = feat["properties"]
        tally = per_country.setdefault(p["country"], Counter())
        tally["total"] += 1
        if feat.get("geometry") is None:
            tally["country-wide"] += 1
        else:
            tally[p["location_precision"]] += 1
        for service in p["service_types"]:
            per_service.setdefault(service, Counter())[p["country"]] += 1
    cols = ("total", "address", "city", "confidential", "country-wide")
    lines = ["| country | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for country in countries:
        lines.append(f"| {country} | " + " | ".join(str(per_country[country][c]) for c in cols)
                     + " |")
    lines.append("| **all** | " + " | ".join(
        str(sum(per_country[c][col] for c in countries)) for col in cols) + " |")
    lines += ["", "| service_type | " + " | ".join(countries) + " | total |",
              "|---" * (len(countries) + 2) + "|"]
    for service, tally in per_service.items():
        lines.append(f"| {service} | " + " | ".join(str(tally[c]) for c in countries)
                     + f" | {sum(tally.values())} |")
    return "\n".join(lines) + "\n"


# Issue 16: the places caseworkers asked about, and the gaps it named, by the label of
# their transit point in `search.route` (a hub, or a corridor place by its name).
HOTSPOTS = ("Tapachula", "Ciudad Tecún Umán", "San Pedro Sula", "Canoas", "Ciudad Juárez",
            "Agua Prieta", "Matamoros", "Nuevo Laredo", "Piedras Negras", "Peñas Blancas (CR)",
            "Peñas Blancas (NI)")


def has_contact(props: dict[str, Any]) -> bool:
    """Whether a caseworker can reach the service: a phone or an e-mail."""
    return bool(props["phones"] or props["email"])


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _has_ages(props: dict[str, Any]) -> bool:
    return props["age_min"] is not None or props["age_max"] is not None


def _has_field(name: str) -> Callable[[dict[str, Any]], bool]:
    def test(props: dict[str, Any]) -> bool:
        return bool(props[name])
    return test


def is_child_line(feature: Feature) -> bool:
    """A country-wide child-protection hotline with a phone (reachable from anywhere)."""
    props = feature["properties"]
    types = props["service_types"]
    return (feature.get("geometry") is None and "hotline" in types
            and "child_protection_authority" in types and bool(props["phones"]))


def contacts_markdown(features: list[Feature]) -> str:
    """Share of services with each kind of contact, per country and overall."""
    countries = list(schema.COUNTRIES)
    cols = ("phone or e-mail", *CONTACT_FIELDS, "ages")
    tests: dict[str, Callable[[dict[str, Any]], bool]] = {
        "phone or e-mail": has_contact, "ages": _has_ages,
        **{name: _has_field(name) for name in CONTACT_FIELDS},
    }
    lines = ["| country | services | " + " | ".join(cols) + " |", "|---" * (len(cols) + 2) + "|"]
    for country in [*countries, None]:
        props = [f["properties"] for f in features
                 if country is None or f["properties"]["country"] == country]
        cells = [_pct(sum(tests[c](p) for p in props), len(props)) for c in cols]
        lines.append(f"| {country or '**all**'} | {len(props)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def hotlines_markdown(features: list[Feature]) -> str:
    """Per country: the services typed `hotline` that have a phone, or a plain 'none'."""
    lines = ["| country | hotlines with a phone |", "|---|---|"]
    for country in schema.COUNTRIES:
        found = sorted(f"{p['name']}: {', '.join(p['phones'])}" for f in features
                       if (p := f["properties"])["country"] == country
                       and "hotline" in p["service_types"] and p["phones"])
        lines.append(f"| {country} | " + ("; ".join(found) or "**none**") + " |")
    return "\n".join(lines) + "\n"


def gaps_markdown(features: list[Feature]) -> str:
    """Services within `GAP_RADIUS_KM` of each hotspot (public points), honestly counted."""
    located = [f for f in features if f.get("geometry")]
    found = {point.label: (point, lat, lon) for point, lat, lon in located_points()}
    national = {f["properties"]["country"] for f in features if is_child_line(f)}
    lines = [f"| place | services within {GAP_RADIUS_KM:.0f} km | with phone or e-mail | "
             "child-protection authority with a phone | "
             "country-wide child-protection line with a phone | note |",
             "|---|---|---|---|---|---|"]
    for label in HOTSPOTS:
        if label not in found:
            lines.append(f"| {label} | ? | ? | ? | ? | not in the gazetteer |")
            continue
        spot, lat, lon = found[label]
        near = [f["properties"] for f in located
                if haversine_km(lat, lon, f["geometry"]["coordinates"][1],
                                f["geometry"]["coordinates"][0]) <= GAP_RADIUS_KM]
        authority = [p for p in near
                     if "child_protection_authority" in p["service_types"] and p["phones"]]
        line = "yes" if spot.country in national else "**no**"
        lines.append(f"| {spot.label} | {len(near)} | {sum(map(has_contact, near))} | "
                     f"{len(authority)} | {line} | {spot.note} |")
    return "\n".join(lines) + "\n"


def fallback_markdown(result: BuildResult) -> str:
    """Services the gazetteer placed by a fallback (a nearby town, the largest place of a
    province) and that no public page has given a point yet, with the import's reason."""
    located = {f["properties"]["id"] for f in result.features
               if f["properties"]["location_precision"] == "address"}
    lines = ["| service | placed | sourced point | town correction |", "|---|---|---|---|"]
    for imported in result.imports:
        for issue in imported.warnings:
            if issue.field == "city" and "placed at" in issue.message:
                moved = "yes" if issue.feature_id in located else "**no**"
                town = result.towns.get(issue.feature_id, "").split("|")[0]
                lines.append(f"| `{issue.feature_id}` | {issue.message} | {moved} | {town} |")
    return "\n".join(lines) + "\n"


def build_markdown(result: BuildResult) -> str:
    """Evidence totals, every conflict and every problem of the last build."""
    ev = result.evidence_report
    fields = Counter(row.field for row in result.evidence)
    lines = [f"Evidence rows: {len(result.evidence)} ("
             + ", ".join(f"{k} {v}" for k, v in sorted(fields.items())) + "); "
             f"{ev.withheld} withheld for confidential services; "
             f"{len(ev.conflicts)} conflicts; {len(result.issues)} problems.", ""]
    lines += [f"- conflict: {c}" for c in ev.conflicts]
    lines += [f"- problem: {i}" for i in result.issues]
    return "\n".join(lines).rstrip() + "\n"


def _block(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.DOTALL)


def readme_blocks(features: list[Feature], result: BuildResult | None = None
                  ) -> dict[str, str]:
    """The text of each generated block of data/README.md, by block name."""
    blocks = {"counts": counts_markdown(features), "contacts": contacts_markdown(features),
              "hotlines": hotlines_markdown(features), "gaps": gaps_markdown(features)}
    if result is not None:
        blocks["build"] = build_markdown(result)
        blocks["fallbacks"] = fallback_markdown(result)
    return blocks


def _replacement(body: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return match.group(1) + body + match.group(2)
    return replace


def refresh_readme(readme: str | Path, result: BuildResult) -> bool:
    """Rewrite the generated blocks of `readme`; True when the file changed."""
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    new = text
    for name, body in readme_blocks(result.features, result).items():
        new = _block(name).sub(_replacement(body), new)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
