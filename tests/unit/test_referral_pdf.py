"""The PDF referral sheet: real text (read back with pypdf), real links, same content
as the HTML sheet, nothing a confidential service withholds."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pypdf import PdfReader

from rcm_map.render.referral import Searched, build_sheet
from rcm_map.render.referral_pdf import FONT_DIR_ENV, FontMissingError, font_dir, sheet_pdf
from rcm_map.search.urlstate import SearchState
from tests.unit.test_referral import PAYLOADS, service

TAPACHULA = Searched.from_state(
    SearchState(place="tapachula", lat=14.905, lon=-92.259, radius_km=25, age=15,
                services=("shelter",)), "Tapachula, Chiapas (México)")


def pdf_of(rows: list[dict[str, Any]], lang: str = "es", searched: Searched | None = None
           ) -> PdfReader:
    sheet = build_sheet(pd.DataFrame(rows), lang, searched, dt.date(2026, 12, 1))
    data = sheet_pdf(sheet)
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def text_of(reader: PdfReader) -> str:
    """All pages' text with line breaks and runs of spaces folded to one space."""
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))


def links_of(reader: PdfReader) -> list[str]:
    return [annot.get_object()["/A"]["/URI"] for page in reader.pages
            for annot in page.get("/Annots", []) if "/A" in annot.get_object()]


def test_pdf_text_holds_what_the_caseworker_needs() -> None:
    rows = [service(), service(id="s2", name="Albergue Belén", location_precision="city",
                               address="Colonia San Antonio Cahoacán", phones=[],
                               languages=["es", "mam"])]
    text = text_of(pdf_of(rows, "es", TAPACHULA))
    for expected in (
        "Hoja de referencia de servicios", "Generada el 1 dic 2026", "Verifique antes de referir",
        "Búsqueda realizada", "Tapachula, Chiapas (México) (a menos de 25 km)", "15 años",
        "Casa del Migrante", "Diócesis", "Albergue, Asistencia jurídica", "12-17 años",
        "Calle 1, Tapachula, México", "+52 962 123 4567", "casa@example.org", "24 h",
        "Llamar antes", "Español, Inglés", "Aún no verificado por la red; fuente del "
        "1 ene 2025 (hace más de 12 meses: confirme antes de derivar)", "Albergue Belén",
        "Colonia San Antonio Cahoacán, Tapachula, México", "Español, Mam", "Página 1 de 2",
    ):
        assert expected in text, expected
    assert "Verificado el" not in text


def test_a_service_is_never_split_across_pages() -> None:
    """The second service does not fit under the first: all of it starts page 2 (it
    used to leave its last line alone on a page of its own)."""
    rows = [service(), service(id="s2", name="Albergue Belén", location_precision="city",
                               address="Colonia San Antonio Cahoacán", phones=[],
                               languages=["es", "mam"])]
    first, second = (re.sub(r"\s+", " ", p.extract_text())
                     for p in pdf_of(rows, "es", TAPACHULA).pages)
    assert "Albergue Belén" not in first and second.startswith("Albergue Belén")
    assert "Verificación" in second


def test_a_service_taller_than_a_page_still_prints() -> None:
    phones = [f"+52 962 000 {i:04d}" for i in range(90)]
    reader = pdf_of([service(phones=phones)], "en")
    assert len(reader.pages) >= 2 and phones[-1] in text_of(reader)
    assert "Casa del Migrante" in reader.pages[0].extract_text()  # no page left empty


def test_pdf_contacts_are_links() -> None:
    links = links_of(pdf_of([service(phones=["+52 962 123 4567", "800 1234"])], "en"))
    assert links == ["tel:+529621234567", "tel:8001234", "mailto:casa@example.org",
                     "https://example.org"]


@pytest.mark.parametrize("lang", ["es", "en", "fr"])
def test_pdf_speaks_the_user_language(lang: str) -> None:
    reader = pdf_of([service()], lang)
    title = {"es": "Hoja de referencia", "en": "Service referral sheet",
             "fr": "Fiche d'orientation"}[lang]
    assert title in text_of(reader)
    assert reader.metadata is not None and title in str(reader.metadata.title)


def test_confidential_service_in_the_pdf_shows_no_address_nor_source_note() -> None:
    row = service(location_precision="confidential", address="Calle Secreta 99",
                  distance_km=3.21, distance_band="lt_5",
                  source="https://example.org/s — near Dundas & Ossington")
    text = text_of(pdf_of([row], "en"))
    assert "Secreta" not in text and "Dundas" not in text and "3.2" not in text
    assert "< 5 km" in text and "Confidential location" in text


def test_many_services_flow_onto_more_pages() -> None:
    rows = [service(id=f"s{i}", name=f"Servicio número {i}") for i in range(30)]
    reader = pdf_of(rows, "es")
    assert len(reader.pages) > 3
    text = text_of(reader)
    assert all(f"Servicio número {i} " in text for i in range(30))
    assert f"Página {len(reader.pages)} de {len(reader.pages)}" in text


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "\u202e" not in p])
def test_registry_text_is_drawn_literally(payload: str) -> None:
    text = text_of(pdf_of([service(name=payload, hours=payload)], "en"))
    assert re.sub(r"\s+", " ", payload.replace("\x00", "\ufffd")) in text
    assert "1337" not in text


def test_empty_selection() -> None:
    assert "No se eligió ningún servicio." in text_of(pdf_of([], "es"))


def test_missing_font_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FONT_DIR_ENV, str(tmp_path))
    with pytest.raises(FontMissingError, match=r"DejaVuSans\.ttf.*fonts-dejavu-core"):
        font_dir()
    with pytest.raises(FontMissingError):
        sheet_pdf(build_sheet(pd.DataFrame([service()]), "en"))


def test_font_comes_from_the_system_not_the_repository() -> None:
    folder = font_dir()
    root = Path(__file__).resolve().parents[2]
    assert root not in folder.resolve().parents
    assert not list(root.joinpath("rcm_map").rglob("*.ttf"))
