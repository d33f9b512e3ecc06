"""A confidential shelter's true coordinates and address appear in no output.

One registry holds a confidential shelter at precise coordinates with a street
address. Every output the project produces from it (public frame, query results,
CLI tables, CSV and GeoJSON, exports, the map's HTML and payload, the referral
sheet, HSDS and HXL, the listing, the store, the app page) is scanned for the
true coordinates in several decimal forms and for the address: zero hits. Then
searches from a grid of points with tiny radii show that what a user sees depends
only on the public point, so it cannot be narrowed down.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rcm_map.cli import main as cli
from rcm_map.core import geo, safety, standin
from rcm_map.formats import export
from rcm_map.registry import load_registry
from rcm_map.registry import model as registry
from rcm_map.search import query

TRUE_LON, TRUE_LAT = -92.287613, 14.921847
ADDRESS = "Calle Secreta 123, Colonia Oculta"
SEARCH_FROM = (14.9, -92.2667)  # Tapachula centre, a typical search point
CONF_ID = "mex-tap-confidential"


def coordinate_forms(value: float) -> list[str]:
    """How a coordinate may be written: rounded or cut to 4-6 decimals, repr, comma."""
    forms = {repr(value), str(value)}
    for places in (4, 5, 6):
        rounded = f"{value:.{places}f}"
        cut = f"{math.trunc(value * 10**places) / 10**places:.{places}f}"
        forms |= {rounded, cut, rounded.replace(".", ",")}
    return sorted(forms)


NEEDLES = [*coordinate_forms(TRUE_LON), *coordinate_forms(TRUE_LAT), ADDRESS,
           "Calle Secreta", "Colonia Oculta"]


def leaks(text: str) -> list[str]:
    """The secret values found in `text` (empty is the only acceptable answer)."""
    return [needle for needle in NEEDLES if needle in text]


def service(fid: str, lon: float, lat: float, **props: Any) -> dict[str, Any]:
    base = {
        "id": fid, "name": f"Servicio {fid}", "organization": "Org de prueba",
        "organization_type": "ngo", "service_types": ["shelter"], "age_min": 0,
        "age_max": 17, "populations": ["unaccompanied"], "country": "MEX",
        "admin1": "MX-CHP", "city": "Tapachula", "address": "Av. Pública 1",
        "phones": ["+52 962 111 1111"], "email": "", "website": "", "hours": "",
        "languages": ["es"], "cost": "", "referral": "", "notifies_authorities": "unknown",
        "location_precision": "address", "source_date": "2025-06-01",
        "source": "confidential-location test", "description": "",
    }
    base.update(props)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": base}


@pytest.fixture(scope="module")
def registry_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with one confidential shelter and two public services nearby."""
    path = tmp_path_factory.mktemp("conf") / "actors.geojson"
    features = [
        service(CONF_ID, TRUE_LON, TRUE_LAT, name="Casa Refugio Confidencial",
                address=ADDRESS, location_precision="confidential",
                description="Albergue para niñas sobrevivientes de trata"),
        service("mex-tap-public", -92.2667, 14.9),
        service("mex-tap-city", -92.26, 14.905, location_precision="city", address=""),
    ]
    path.write_bytes(export.geojson_bytes(features))
    assert not registry.errors(registry.validate_file(path))
    return path


@pytest.fixture(scope="module")
def reg(registry_path: Path) -> registry.Registry:
    return load_registry(registry_path)


@pytest.fixture(scope="module")
def results(reg: registry.Registry) -> query.SearchResult:
    return query.search(reg, query.Query(near=SEARCH_FROM, radius_km=50))


def test_the_scanner_finds_the_secret() -> None:
    """The scan is real: a raw dump of the true feature is caught."""
    raw = export.geojson_bytes([service(CONF_ID, TRUE_LON, TRUE_LAT, address=ADDRESS)])
    assert len(leaks(raw.decode())) >= 3


def test_public_point_is_far_and_fixed(reg: registry.Registry) -> None:
    row = int(np.flatnonzero(reg.frame["id"] == CONF_ID)[0])
    lon, lat = reg.lon[row], reg.lat[row]
    assert (lon, lat) == standin.public_point(TRUE_LON, TRUE_LAT, "MEX", "MX-CHP")
    assert geo.haversine_km(TRUE_LAT, TRUE_LON, lat, lon) >= standin.PUBLIC_MIN_KM
    assert reg.frame.loc[row, "address"] == ""
    assert reg.frame.geometry.iloc[row].coords[0] == (lon, lat)


def test_public_frame_and_results(reg: registry.Registry, results: query.SearchResult) -> None:
    texts = [reg.frame.to_string(), reg.frame.to_wkt().to_string(), repr(reg.lon.tolist()),
             repr(reg.lat.tolist()), results.located.to_csv(), results.located.to_json(),
             "".join(reg.search_text)]
    assert CONF_ID in results.located["id"].tolist()
    for text in texts:
        assert leaks(text) == []


def test_distance_is_a_band_only(results: query.SearchResult) -> None:
    csv_text = export.to_csv_bytes(results.located).decode("utf-8-sig")
    header, *rows = [line.split(",") for line in csv_text.splitlines()]
    conf = next(r for r in rows if r[header.index("id")] == CONF_ID)
    assert conf[header.index("distance_km")] == ""
    assert conf[header.index("distance_band")] in {c for c, _, _ in safety.DISTANCE_BANDS}
    feature = next(f for f in export.to_geojson_dict(results.located)["features"]
                   if f["properties"]["id"] == CONF_ID)
    assert feature["properties"]["distance_km"] is None
    assert feature["properties"]["distance_band"]


def run_cli(argv: list[str]) -> str:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    out.flush()
    err.flush()
    text = out.buffer.getvalue().decode() + err.buffer.getvalue().decode()  # type: ignore[attr-defined]
    assert code == 0, text
    return text


SEARCHES = [
    ["--near", f"{SEARCH_FROM[0]},{SEARCH_FROM[1]}", "--radius-km", "50"],
    ["--text", "refugio"],
    ["--service", "shelter", "--country", "MEX"],
]


@pytest.mark.parametrize("fmt", ["table", "csv", "geojson"])
@pytest.mark.parametrize("args", SEARCHES, ids=["near", "text", "filters"])
def test_cli_search(fmt: str, args: list[str], registry_path: Path) -> None:
    text = run_cli(["search", "--registry", str(registry_path), "--format", fmt, *args])
    assert "Refugio" in text or "refugio" in text.lower()
    assert leaks(text) == []


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_cli_export(fmt: str, registry_path: Path, tmp_path: Path) -> None:
    out = tmp_path / f"export.{fmt}"
    log = run_cli(["export", "--registry", str(registry_path), "--format", fmt,
                   "--out", str(out), *SEARCHES[0]])
    assert leaks(log + out.read_text("utf-8-sig")) == []


def test_search_at_the_true_site_does_not_find_it(registry_path: Path) -> None:
    """A 1 km search centred on the true site: the shelter is not there (it is 5+ km off)."""
    text = run_cli(["search", "--registry", str(registry_path), "--near",
                    f"{TRUE_LAT},{TRUE_LON}", "--radius-km", "1", "--format", "csv"])
    assert CONF_ID not in text


def test_map_outputs(results: query.SearchResult, tmp_path: Path) -> None:
    from rcm_map.render import mappayload, mapping
    fmap = mapping.build_map(results.located, center=SEARCH_FROM, radius_km=50)
    saved = tmp_path / "map.html"
    fmap.save(str(saved))
    html = mapping.render_html(fmap)
    assert "Refugio" in html
    payload = repr(mappayload.services_payload(results.located, "es"))
    for text in (html, fmap._repr_html_(), saved.read_text("utf-8"), payload):
        assert leaks(text) == []


def test_referral_sheet(results: query.SearchResult) -> None:
    from rcm_map.render import referral
    for lang in ("es", "en", "fr"):
        html = referral.referral_sheet_html(results.located, lang=lang)
        assert "Refugio" in html and leaks(html) == []


def test_referral_pdf_and_workbook(results: query.SearchResult) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from rcm_map.formats.workbook import to_xlsx_bytes
    from rcm_map.render import referral, referral_pdf
    pdf = referral_pdf.sheet_pdf(referral.build_sheet(results.located, "en"))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Refugio" in text and leaks(text) == []
    data = to_xlsx_bytes(results.located, "en")
    book = load_workbook(io.BytesIO(data))
    cells = " ".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)
    assert "Refugio" in cells and leaks(cells) == []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert leaks(" ".join(archive.read(n).decode("utf-8") for n in archive.namelist())) == []


def test_result_cards(results: query.SearchResult) -> None:
    """The cards the search page shows (and their order) leak nothing either."""
    import datetime as dt

    from rcm_map.core import i18n
    from rcm_map.render import cards
    for lang in ("es", "en", "fr"):
        tr = i18n.Translator(lang)
        ordered = cards.order_results(results.located, ("shelter",))
        html = "".join(cards.card_html(row, tr, dt.date(2026, 12, 1))
                       for row in ordered.to_dict("records"))
        assert "Refugio" in html and leaks(html) == []


def zip_texts(data: bytes) -> Iterator[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            yield archive.read(name).decode("utf-8", "replace")


def test_hsds_and_hxl_exports(reg: registry.Registry, tmp_path: Path) -> None:
    from rcm_map.formats import hsds, interop
    texts = list(zip_texts(hsds.hsds_zip_bytes(reg.frame)))
    out = tmp_path / "hxl.csv"
    interop.cli_export("hxl", reg.frame, out)
    texts.append(out.read_text("utf-8-sig"))
    folder = tmp_path / "hsds"
    interop.cli_export("hsds", reg.frame, folder)
    texts += [p.read_text("utf-8", "replace") for p in folder.rglob("*") if p.is_file()]
    assert any("Refugio" in t for t in texts)
    for text in texts:
        assert leaks(text) == []


def test_store_public_reads(registry_path: Path, tmp_path: Path) -> None:
    from rcm_map import store as store_mod
    copy = tmp_path / "actors.geojson"
    copy.write_bytes(registry_path.read_bytes())
    store = store_mod.open_store(registry=copy)
    try:
        found = store.search(query.Query(near=SEARCH_FROM, radius_km=50))
        got = store.get(CONF_ID, public=True)
        assert leaks(found.located.to_csv() + repr(got)) == []
    finally:
        store.close()


def test_no_log_line_carries_it(registry_path: Path, caplog: pytest.LogCaptureFixture,
                                tmp_path: Path) -> None:
    with caplog.at_level(logging.DEBUG):
        run_cli(["search", "--registry", str(registry_path), *SEARCHES[0]])
        run_cli(["export", "--registry", str(registry_path), "--format", "geojson",
                 "--out", str(tmp_path / "x.geojson")])
    assert leaks(caplog.text) == []


def test_app_page(registry_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The search page (AppTest): every element, the map component's data and the URL."""
    from streamlit.testing import v1 as testing
    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(registry_path))
    at = testing.AppTest.from_file(str(root / "app.py"), default_timeout=90)
    at.query_params.update({"lat": str(SEARCH_FROM[0]), "lon": str(SEARCH_FROM[1]),
                            "radius": "50", "lang": "es"})
    at.run()
    assert not at.exception, at.exception
    dump = element_dump(at._tree) + repr(dict(at.query_params))
    assert "Refugio" in dump
    assert leaks(dump) == []


def element_dump(node: Any) -> str:
    """Every element's protobuf (what the browser receives), depth first."""
    parts = [str(getattr(node, "proto", ""))]
    for child in getattr(node, "children", {}).values():
        parts.append(element_dump(child))
    return "\n".join(parts)


# --------------------------------------------------------------------------- triangulation


def test_tiny_radius_searches_only_see_the_public_point(reg: registry.Registry) -> None:
    """From 400 points around the site with radii of 0.5-3 km, whether the shelter is
    found and the band shown follow from the public point alone."""
    pub_lon, pub_lat = standin.public_point(TRUE_LON, TRUE_LAT, "MEX", "MX-CHP")
    offsets = np.linspace(-0.12, 0.12, 20)
    hits = 0
    for dlat in offsets:
        for dlon in offsets:
            lat, lon = TRUE_LAT + dlat, TRUE_LON + dlon
            radius = 0.5 + 2.5 * abs(dlat + dlon) / 0.24
            found = query.search(reg, query.Query(near=(lat, lon), radius_km=radius))
            rows = found.located[found.located["id"] == CONF_ID]
            to_public = geo.haversine_km(lat, lon, pub_lat, pub_lon)
            assert (len(rows) == 1) == (to_public <= radius)
            if len(rows):
                hits += 1
                assert rows["distance_band"].iloc[0] == safety.distance_band(to_public)
                # The exact number computed internally is to the public point, not the site.
                assert rows["distance_km"].iloc[0] == pytest.approx(to_public, abs=1e-3)
                shown = export.to_csv_bytes(rows).decode("utf-8-sig")
                assert leaks(shown) == []
    assert hits > 0  # some searches did land on the public point


def test_grid_searches_cannot_tell_two_sites_of_one_cell_apart(tmp_path: Path) -> None:
    """Move the shelter anywhere inside its 0.1-degree cell: 441 searches around the town
    (radii 0.5-25 km) give byte-identical results, so searching narrows it to the cell at
    best (issue 12)."""
    other_lon, other_lat = -92.2013, 14.9987  # ~11 km from the true site, same cell
    regs = []
    for i, (lon, lat) in enumerate([(TRUE_LON, TRUE_LAT), (other_lon, other_lat)]):
        path = tmp_path / f"r{i}.geojson"
        path.write_bytes(export.geojson_bytes([
            service(CONF_ID, lon, lat, address=ADDRESS, location_precision="confidential"),
            service("mex-tap-public", -92.2667, 14.9)]))
        regs.append(registry.load_registry_uncached(path))
    offsets = np.linspace(-0.15, 0.15, 21)
    for k, dlat in enumerate(offsets):
        for dlon in offsets:
            near = (14.95 + dlat, -92.25 + dlon)
            radius = (0.5, 1, 3, 10, 25)[k % 5]
            shown = [export.to_csv_bytes(query.search(r, query.Query(near=near,
                                                                     radius_km=radius)).located)
                     for r in regs]
            assert shown[0] == shown[1], (near, radius)
