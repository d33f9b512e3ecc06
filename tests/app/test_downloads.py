"""Download area (AppTest): every button is there and produces its file, in the
interface language, and the referral sheet follows the rows chosen in the list."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import openpyxl
from pypdf import PdfReader
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import app_test

TAPACHULA = {"place": "Tapachula", "lang": "es"}


def buttons(at: Any) -> dict[str, Any]:
    """Download buttons by label."""
    return {b.proto.label: b for b in at.get("download_button")}


def download(media: list[MediaFileManager], button: Any) -> bytes:
    """The bytes a click on `button` would download (runs a deferred generator)."""
    manager = media[-1]
    proto = button.proto
    url = manager.execute_deferred(proto.deferred_file_id) if proto.deferred_file_id \
        else proto.url
    return manager._storage.get_file(url.rsplit("/", 1)[1]).content  # test-only peek


def test_every_download_is_offered_in_order(app: Any) -> None:
    at = app(**TAPACHULA)
    labels = list(buttons(at))
    assert labels == ["Hoja de referencia, HTML (4)", "Hoja de referencia, PDF (4)",
                      "Descargar Excel (.xlsx)", "Descargar CSV", "Descargar GeoJSON",
                      "Descargar HSDS 3.0 (ZIP)", "Descargar CSV con etiquetas HXL"]
    assert any("**Excel** es para leer" in c.value for c in at.caption)


def test_every_file_is_made_only_when_clicked(app: Any) -> None:
    found = buttons(app(**TAPACHULA))
    assert len(found) == 7
    for label, button in found.items():  # a rerun builds no file (bench/README.md)
        assert button.proto.deferred_file_id, label


def test_buttons_produce_the_files(app: Any, media: list[MediaFileManager]) -> None:
    at = app(**TAPACHULA)
    found = buttons(at)
    page = download(media, found["Hoja de referencia, HTML (4)"]).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="es">' in page
    assert 'id="print"' in page and "Tapachula, Chiapas (México)" in page
    assert "Calle Ficticia 1" in page and "Calle Secreta" not in page

    pdf = PdfReader(io.BytesIO(download(media, found["Hoja de referencia, PDF (4)"])))
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert "Hoja de referencia de servicios" in text and "Calle Ficticia 1" in text
    assert "Calle Secreta" not in text

    book = openpyxl.load_workbook(io.BytesIO(download(media, found["Descargar Excel (.xlsx)"])))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "Servicio" and "Estado, departamento o provincia" in rows[0]
    assert any(r[0] == "Procuraduría de Protección (prueba)" for r in rows)
    assert "Chiapas" in {v for r in rows for v in r}

    body = download(media, found["Descargar CSV"]).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(body)))
    assert header[:3] == ["id", "name", "organization"]  # codes, for machines

    geo = json.loads(download(media, found["Descargar GeoJSON"]))
    assert geo["type"] == "FeatureCollection"
    assert len(geo["features"]) == len(list(csv.DictReader(io.StringIO(body)))) > 0
    with zipfile.ZipFile(io.BytesIO(download(media, found["Descargar HSDS 3.0 (ZIP)"]))) as z:
        assert "datapackage.json" in z.namelist()
    hxl = download(media, found["Descargar CSV con etiquetas HXL"]).decode("utf-8-sig")
    assert "#org" in hxl


DOWNLOADS_SCRIPT = """
from rcm_map.core.i18n import Translator
from rcm_map.search.query import search
from rcm_map.registry import load_registry
from rcm_map.ui.downloads import render_downloads
from rcm_map.search.urlstate import SearchState

state = SearchState(place="Tapachula", lat=14.90541, lon=-92.25891, radius_km=50)
result = search(load_registry(), state.to_query())
render_downloads(Translator("en"), result, ["mex-tap-dif"], state, "Tapachula, Chiapas")
"""


def test_sheet_lists_only_the_services_chosen_in_the_list(media: list[MediaFileManager]
                                                          ) -> None:
    at = app_test.AppTest.from_string(DOWNLOADS_SCRIPT, default_timeout=60).run()
    assert not at.exception
    found = buttons(at)
    assert "Referral sheet, HTML (1)" in found and "Referral sheet, PDF (1)" in found
    page = download(media, found["Referral sheet, HTML (1)"]).decode("utf-8")
    assert "Calle Ficticia 1" in page and "Albergue" not in page
    book = openpyxl.load_workbook(io.BytesIO(download(media, found["Download Excel (.xlsx)"])))
    names = [r[0] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert len(names) > 1 and "Casa del Migrante (prueba)" in names  # every result


def test_the_sheet_is_shown_with_its_print_button(app: Any) -> None:
    at = app(place="Tapachula", lang="en")
    assert not [f for f in at.get("iframe") if 'id="print"' in f.proto.srcdoc]
    switch = at.toggle(key="show_sheet")
    assert switch.label.startswith("View and print the referral sheet")
    switch.set_value(True).run()
    sheets = [f for f in at.get("iframe") if 'id="print"' in f.proto.srcdoc]
    assert len(sheets) == 1
    assert ">Print</button>" in sheets[0].proto.srcdoc


def test_no_results_no_downloads(app: Any) -> None:
    at = app(place="Tapachula", lang="en", services="education", radius="5")
    assert not list(buttons(at))
    assert any("No results to download" in c.value for c in at.caption)
