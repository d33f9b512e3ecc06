"""The bundled registry's confidential services, as the public sees them (issue 12).

Every confidential service is drawn inside its own country, on land and away from
its borders; no public output carries its address or a location hint from its
source note (the fragments are in tests/data/confidential_fragments.csv).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point

from rcm_map.core import boundaries, standin
from rcm_map.core.geo import haversine_km
from rcm_map.registry import model as registry

REPO = Path(__file__).resolve().parent.parent
ACTORS = REPO / "data" / "actors.geojson"
FRAGMENTS = REPO / "tests" / "data" / "confidential_fragments.csv"


@pytest.fixture(scope="module")
def stored() -> list[dict[str, Any]]:
    """The committed registry's features (true points where a file keeps them)."""
    return json.loads(ACTORS.read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> registry.Registry:
    """The registry as every public page and export gets it, from a server-side copy
    whose confidential rows also carry their street addresses (as a hosted registry
    would: the bundled file has none)."""
    features = json.loads(ACTORS.read_text(encoding="utf-8"))["features"]
    by_id = {f["properties"]["id"]: f["properties"] for f in features}
    with FRAGMENTS.open(encoding="utf-8", newline="") as fh:
        for frag in csv.DictReader(fh):
            if frag["kind"] == "address":
                props = by_id[frag["id"]]
                props["address"] = "; ".join(filter(None, [props["address"], frag["fragment"]]))
    path = tmp_path_factory.mktemp("private") / "actors.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return registry.load_registry_uncached(path)


def test_every_confidential_service_is_drawn_at_home_on_land(
    stored: list[dict[str, Any]], public: registry.Registry
) -> None:
    admin0 = boundaries.load_admin0().set_index("country_iso3").geometry
    admin1 = boundaries.load_admin1().set_index("admin1_code").geometry
    frame = public.frame
    checked = 0
    for feature in stored:
        props = feature["properties"]
        if props["location_precision"] != "confidential" or not feature["geometry"]:
            continue
        row = int((frame["id"] == props["id"]).to_numpy().nonzero()[0][0])
        lon, lat = float(public.lon[row]), float(public.lat[row])
        site_lon, site_lat = feature["geometry"]["coordinates"]
        where = Point(lon, lat)
        assert admin0[props["country"]].contains(where), (props["id"], lon, lat)
        assert not boundaries.near_outline([lon], [lat], standin.BORDER_KM)[0], props["id"]
        assert admin1[props["admin1"]].contains(where), (props["id"], lon, lat)
        assert haversine_km(site_lat, site_lon, lat, lon) >= standin.PUBLIC_MIN_KM
        checked += 1
    assert checked >= 30  # the bundled registry holds 31 placed confidential services


# --------------------------------------------------------------------------- free text

@pytest.fixture(scope="module")
def fragments() -> list[dict[str, str]]:
    """Location hints of confidential rows: addresses and source-note phrases."""
    with FRAGMENTS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def leaks(text: str, fragments: list[dict[str, str]]) -> list[str]:
    """The fragments found in `text`, case-insensitively (empty is the only good answer)."""
    low = text.casefold()
    return [f["fragment"] for f in fragments if f["fragment"].casefold() in low]


def test_the_fragments_are_real(stored: list[dict[str, Any]],
                                fragments: list[dict[str, str]]) -> None:
    """Each note fragment is in its confidential row's stored source and in no public row."""
    by_id = {f["properties"]["id"]: f["properties"] for f in stored}
    for frag in fragments:
        props = by_id[frag["id"]]
        assert props["location_precision"] == "confidential"
        if frag["kind"] == "note":
            assert frag["fragment"].casefold() in props["source"].casefold(), frag
    public_rows = json.dumps([f for f in stored
                              if f["properties"]["location_precision"] != "confidential"],
                             ensure_ascii=False)
    assert leaks(public_rows, fragments) == []
    assert len(leaks(json.dumps(stored, ensure_ascii=False), fragments)) >= 7  # the scan bites


def public_texts(reg: registry.Registry, tmp: Path) -> dict[str, str]:
    """Every public output of a registry, by name."""
    from rcm_map.core import i18n
    from rcm_map.formats import export, hsds, interop
    from rcm_map.render import cards, listing, mappayload, mapping, referral
    from rcm_map.search import query

    found = query.search(reg, query.Query(limit=10_000))
    rows = found.located
    out: dict[str, str] = {
        "frame": reg.frame.astype(str).to_csv(),
        "results": rows.astype(str).to_csv() + found.countrywide.astype(str).to_csv(),
        "csv": export.to_csv_bytes(listing.results_for_export(rows, found.countrywide))
        .decode("utf-8-sig"),
        "geojson": json.dumps(export.to_geojson_dict(rows), ensure_ascii=False),
        "payload": json.dumps(mappayload.services_payload(rows, "es"), ensure_ascii=False),
        "map": mapping.render_html(mapping.build_map(rows)),
    }
    for lang in ("es", "en", "fr"):
        tr = i18n.Translator(lang)
        out[f"referral_{lang}"] = referral.referral_sheet_html(rows, lang=lang)
        out[f"cards_{lang}"] = "".join(  # the result list the search page shows
            cards.card_html(row, tr, dt.date(2026, 12, 1), kind)
            for frame, kind in ((rows, "result"), (found.countrywide, "countrywide"))
            for row in frame.to_dict("records"))
    with zipfile.ZipFile(io.BytesIO(hsds.hsds_zip_bytes(reg.frame))) as archive:
        out["hsds"] = "\n".join(archive.read(n).decode("utf-8", "replace")
                                for n in archive.namelist())
    interop.cli_export("hxl", reg.frame, tmp / "hxl.csv")
    out["hxl"] = (tmp / "hxl.csv").read_text("utf-8-sig")
    return out


def test_no_public_output_locates_a_confidential_service(
    public: registry.Registry, fragments: list[dict[str, str]], tmp_path: Path
) -> None:
    texts = public_texts(public, tmp_path)
    assert "Matthew House" in texts["csv"] and "Matthew House" in texts["hxl"]
    for name, text in texts.items():
        assert leaks(text, fragments) == [], name


def test_the_source_link_stays(public: registry.Registry) -> None:
    """A caseworker can still check the page the record comes from."""
    frame = public.frame.set_index("id")
    source = frame.loc["hnd-centro-de-atencion-para-la-ninez-y-familias-c0993dfa", "source"]
    assert source == ("http://www.elsoldehonduras.com/nacionales/brinda-atencion-a-82-ninos-"
                      "migrantes-y-11-nucleos-familiares-retornados-de-mexico/")


def test_store_public_reads_of_the_real_registry(
    fragments: list[dict[str, str]], tmp_path: Path
) -> None:
    from rcm_map import store as store_mod
    from rcm_map.search import query

    copy = tmp_path / "actors.geojson"
    copy.write_bytes(ACTORS.read_bytes())
    store = store_mod.open_store(registry=copy)
    try:
        found = store.search(query.Query(limit=10_000))
        got = [store.get(f["id"], public=True) for f in fragments]
        assert leaks(found.located.astype(str).to_csv() + repr(got), fragments) == []
    finally:
        store.close()
