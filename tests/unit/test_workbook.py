"""The Excel workbook: words in the interface language, links that open, text that
never becomes a formula, and nothing a confidential service withholds."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import openpyxl
import pandas as pd
import pytest

from rcm_map.formats.workbook import to_xlsx_bytes
from rcm_map.render.referral import Searched
from rcm_map.search.urlstate import SearchState
from tests.unit.test_referral import service

ADMIN1 = {"MX-CHP": "Chiapas"}


def book_of(rows: list[dict[str, Any]], lang: str = "es", **kwargs: Any) -> Any:
    kwargs.setdefault("admin1_names", ADMIN1)
    data = to_xlsx_bytes(pd.DataFrame(rows), lang, generated_on=dt.date(2026, 12, 1), **kwargs)
    return openpyxl.load_workbook(io.BytesIO(data)), data


def table(book: Any) -> list[dict[str, Any]]:
    """The services sheet as one dict per row, keyed by header."""
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def cell(book: Any, header: str, row: int = 2) -> Any:
    ws = book.worksheets[0]
    col = [c.value for c in ws[1]].index(header) + 1
    return ws.cell(row=row, column=col)


def test_headers_and_values_in_the_interface_language() -> None:
    row = service(admin1="MX-CHP", organization_type="faith_based",
                  populations=["unaccompanied", "families"], languages=["es", "mam"])
    book, _ = book_of([row], "es")
    assert book.sheetnames == ["Servicios", "Acerca de"]
    (got,) = table(book)
    assert got["Servicio"] == "Casa del Migrante"
    assert got["Tipo de organización"] == "Organización religiosa"
    assert got["Servicios"] == "Albergue, Asistencia jurídica"
    assert got["Edades"] == "12-17 años"
    assert got["A quién atiende"] == "No acompañada/o, Con su familia"
    assert got["País"] == "México"
    assert got["Estado, departamento o provincia"] == "Chiapas"
    assert got["Idiomas"] == "Español, Mam"
    assert got["Ubicación en el mapa"] == "Dirección"
    assert got["Notifica a las autoridades"] == "No"
    assert got["Distancia (km)"] == 2.5
    assert got["Verificación"] == ("Aún no verificado por la red; fuente del 1 ene 2025 "
                                   "(hace más de 12 meses: confirme antes de derivar)")
    assert got["Identificador en el registro"] == "s1"
    assert "MX-CHP" not in got.values() and "shelter" not in str(got.values())


@pytest.mark.parametrize(("lang", "header", "ages"), [
    ("en", "Service", "All ages"), ("fr", "Service", "Tous âges")])
def test_other_languages(lang: str, header: str, ages: str) -> None:
    book, _ = book_of([service(age_min=None, age_max=None)], lang)
    got = table(book)[0]
    assert got[header] == "Casa del Migrante"
    assert got[{"en": "Ages", "fr": "Âges"}[lang]] == ages


def test_admin1_names_default_to_the_bundled_boundaries() -> None:
    book, _ = book_of([service(admin1="MX-CHP")], "en", admin1_names=None)
    assert table(book)[0]["State, department or province"] == "Chiapas"


def test_contacts_are_clickable_links() -> None:
    book, _ = book_of([service(phones=["+52 962 123 4567", "800 123"])], "en")
    links = {h: (cell(book, h).value, cell(book, h).hyperlink.target)
             for h in ("Phone 1", "Phone 2", "E-mail", "Website", "Source")
             if cell(book, h).hyperlink}
    assert links == {
        "Phone 1": ("+52 962 123 4567", "tel:+529621234567"),
        "Phone 2": ("800 123", "tel:800123"),
        "E-mail": ("casa@example.org", "mailto:casa@example.org"),
        "Website": ("https://example.org", "https://example.org"),
    }


def test_one_column_per_phone_and_no_leading_quote() -> None:
    book, _ = book_of([service(phones=["+52 1", "+52 2", "+52 3"]), service(phones=[])], "en")
    rows = table(book)
    assert [rows[0][f"Phone {i}"] for i in (1, 2, 3)] == ["+52 1", "+52 2", "+52 3"]
    assert rows[1]["Phone 1"] is None
    assert cell(book, "Phone 1").data_type == "s"


FORMULAS = ("=1+1", "+52 962 000", "-2+3", "@SUM(A1:A2)", "=HYPERLINK(\"http://x\",\"y\")",
            "#N/A", "=cmd|' /C calc'!A0")


def test_text_is_never_a_formula() -> None:
    rows = [service(id=f"s{i}", name=f, hours=f, phones=[f], referral=f, cost=f)
            for i, f in enumerate(FORMULAS)]
    book, data = book_of(rows, "en")
    got = table(book)
    assert [r["Service"] for r in got] == list(FORMULAS)
    assert [r["Hours"] for r in got] == list(FORMULAS)
    assert [r["Phone 1"] for r in got] == list(FORMULAS)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        for name in sheets:
            xml = archive.read(name).decode()
            assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml, name


def test_control_characters_cannot_break_the_file() -> None:
    book, _ = book_of([service(name="A\x00B\x1bC", hours="line 1\nline 2")], "en")
    got = table(book)[0]
    assert got["Service"] == "A\ufffdB\ufffdC" and got["Hours"] == "line 1\nline 2"


def test_confidential_address_and_source_note_are_absent() -> None:
    row = service(location_precision="confidential", address="Calle Secreta 99",
                  distance_km=3.21, distance_band="lt_5",
                  source="https://example.org/s — near Dundas & Ossington")
    book, data = book_of([row], "en")
    values = [str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True)
              for v in r if v is not None]
    assert not [v for v in values if "Secreta" in v or "Dundas" in v or "3.2" in v]
    got = table(book)[0]
    assert got["Distance (km)"] == "< 5 km"
    assert got["Location on the map"] == "Confidential location"
    assert got["Source"] == "https://example.org/s"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist())
    assert b"Secreta" not in everything and b"Dundas" not in everything


def test_about_sheet_says_when_what_and_verify() -> None:
    searched = Searched.from_state(SearchState(place="Tapachula", lat=14.9, lon=-92.26,
                                               age_band="12-17", services=("shelter",)))
    book, _ = book_of([service()], "fr", searched=searched)
    about = [v for r in book.worksheets[1].iter_rows(values_only=True) for v in r if v]
    for text in ("1 déc. 2026", "Vérifiez avant d'orienter", "Tapachula (à moins de 50 km)",
                 "12-17 ans", "Hébergement", "CSV"):
        assert any(text in str(v) for v in about), text


def test_input_frame_is_not_modified() -> None:
    frame = pd.DataFrame([service(location_precision="confidential")])
    before = frame.copy(deep=True)
    to_xlsx_bytes(frame, "en", admin1_names=ADMIN1)
    pd.testing.assert_frame_equal(frame, before)
