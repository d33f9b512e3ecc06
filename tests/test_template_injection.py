"""Registry text never runs as template code on the server.

Every HTML-producing path that exists (the folium map through `render`, `save`,
`_repr_html_` and the benchmark's payload measure; the referral sheet; the map
data the search page hands to streamlit-folium) gets names, addresses and every
other text field holding Jinja payloads between marker letters. Evaluation would
join the markers ("BB1337YY"); the test wants the payloads back literally once
HTML and JSON escapes are decoded, and no evaluation. One test removes the
escaping and watches the same check catch folium evaluating the text.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

PID = os.getpid()
# (payload between markers, what evaluation would produce)
PAYLOADS: list[tuple[str, str]] = [
    ("BB{{ 7*191 }}YY", "BB1337YY"),
    ("CC{% if true %}X{% endif %}WW", "CCXWW"),
    ("DD{# c #}VV", "DDVV"),
    ("AA{{ lipsum.__globals__['os'].getpid() }}ZZ", f"AA{PID}ZZ"),
]
TEXT_FIELDS = ("name", "organization", "city", "address", "hours", "cost", "referral",
               "description", "source")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def decoded(text: str) -> str:
    """`text` with JSON \\uXXXX escapes and HTML character references decoded."""
    return html.unescape(_UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))


def evaluations(text: str) -> list[str]:
    return [result for _, result in PAYLOADS if result in decoded(text)]


def literal_payloads(text: str) -> list[str]:
    return [payload for payload, _ in PAYLOADS if payload in decoded(text)]


def results_frame() -> pd.DataFrame:
    """Four services, each with one payload in every text field (as query results)."""
    rows = []
    for k, (payload, _) in enumerate(PAYLOADS):
        row: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, payload)
        row.update({
            "id": f"tpl-{k}", "organization_type": "ngo", "service_types": ["shelter"],
            "age_min": 0, "age_max": 17, "populations": ["unaccompanied"], "country": "MEX",
            "admin1": "MX-CHP", "phones": [payload], "email": "", "website": "",
            "languages": ["es"], "notifies_authorities": "unknown",
            "location_precision": "confidential" if k == 3 else "address",
            "source_date": "2025-06-01", "lon": -92.26 + k / 100, "lat": 14.9,
            "distance_km": 1.0 + k, "distance_band": "< 5 km" if k == 3 else "",
        })
        rows.append(row)
    return pd.DataFrame(rows)


def test_detectors_work() -> None:
    assert evaluations("x BB1337YY") == ["BB1337YY"]
    assert literal_payloads("BB&#123;&#123; 7*191 &#125;&#125;YY") == ["BB{{ 7*191 }}YY"]
    assert literal_payloads('"BB\\u007b\\u007b 7*191 \\u007d\\u007dYY"') == ["BB{{ 7*191 }}YY"]


def map_outputs(tmp_path: Path) -> dict[str, str]:
    from rcm_map.render import mapping
    fmap = mapping.build_map(results_frame(), center=(14.9, -92.26), radius_km=25,
                             selected_id="tpl-0")
    saved = tmp_path / "map.html"
    fmap.save(str(saved))
    assert mapping.map_payload_bytes(fmap) > 0  # the benchmark's payload measure
    return {"render": fmap.get_root().render(), "render_html": mapping.render_html(fmap),
            "save": saved.read_text("utf-8"), "repr_html": fmap._repr_html_()}


def test_map_html_paths(tmp_path: Path) -> None:
    for path, text in map_outputs(tmp_path).items():
        assert evaluations(text) == [], path
        assert sorted(literal_payloads(text)) == sorted(p for p, _ in PAYLOADS), path


def test_map_fails_without_escaping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proof the check bites: without brace escapes and without the template-free
    render, folium/branca evaluate the JSON."""
    from rcm_map.render import maplayer, mapping
    monkeypatch.setattr(maplayer, "json_for_script",
                        lambda obj: json.dumps(obj, ensure_ascii=False, default=str))
    # ...and branca's own render, which compiles each macro's output as a template.
    from branca.element import MacroElement

    monkeypatch.setattr(maplayer.ServiceLayer, "render", MacroElement.render)
    html_text = mapping.render_html(mapping.build_map(results_frame()))
    assert "BB1337YY" in evaluations(html_text)


def test_referral_sheet() -> None:
    from rcm_map.render import referral
    for lang in ("es", "en", "fr"):
        text = referral.referral_sheet_html(results_frame(), lang=lang)
        assert evaluations(text) == []
        assert sorted(literal_payloads(text)) == sorted(p for p, _ in PAYLOADS)


@pytest.mark.slow
def test_search_page_map_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the search page sends to streamlit-folium (AppTest) holds the text literally."""
    from streamlit.testing import v1 as testing
    root = Path(__file__).resolve().parents[1]
    from rcm_map.formats import export

    frame = results_frame().drop(columns=["distance_km", "distance_band"])
    registry = tmp_path / "actors.geojson"
    features = export.to_geojson_dict(frame)["features"]
    registry.write_bytes(export.geojson_bytes(features))
    from rcm_map.registry.model import errors, validate_file

    assert errors(validate_file(registry)) == []
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(registry))
    at = testing.AppTest.from_file(str(root / "app.py"), default_timeout=90)
    at.query_params.update({"lat": "14.9", "lon": "-92.26", "radius": "25", "lang": "es"})
    at.run()
    assert not at.exception, at.exception
    # protobuf text format escapes quotes: undo that before looking for the payloads
    dump = dump_tree(at._tree).replace("\\'", "'").replace('\\"', '"')
    assert evaluations(dump) == []
    assert sorted(literal_payloads(dump)) == sorted(p for p, _ in PAYLOADS)


def dump_tree(node: Any) -> str:
    parts = [str(getattr(node, "proto", ""))]
    parts += [dump_tree(child) for child in getattr(node, "children", {}).values()]
    return "\n".join(parts)
