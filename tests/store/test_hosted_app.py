"""The app on PostGIS (AppTest): every page reads the database, never the file, and a
shelter a focal point marks confidential disappears from the public pages.

Issue 13 (one source of truth) and issue 12's "hosted confidentiality" finding:
before the fix, the public pages read the GeoJSON file, so a service made
confidential in PostGIS stayed on the search page at its street address.
"""

from __future__ import annotations

import copy
import io
import json
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cardlist import cards_of
from focal_point import signed_in
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from tablehtml import tables_of

from rcm_map.core.i18n import Translator
from rcm_map.store.base import Store

pytestmark = pytest.mark.postgis

ROOT = Path(__file__).resolve().parents[2]
PAGE = """
from rcm_map.ui import common, {page}
common.start_session()
{page}.render()
"""
NEAR = {"lat": "14.9", "lon": "-92.2667", "radius": "50", "lang": "es"}


@pytest.fixture(autouse=True)
def fresh_process_caches() -> Iterator[None]:
    """Each test starts with no store cached in this process (as a new replica would)
    and closes the pools it opened."""
    from rcm_map.ui import common, session

    common._cached_reader.clear()
    session.cached_store.clear()
    yield
    common._cached_reader.clear()
    session.cached_store.clear()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every file a page offers for download, as the browser would receive it."""
    captured: list[bytes] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self: Any, path_or_data: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(path_or_data, bytes):
            captured.append(path_or_data)
        elif isinstance(path_or_data, str) and not Path(path_or_data).exists():
            captured.append(path_or_data.encode("utf-8"))
        return original(self, path_or_data, *args, **kwargs)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    deferred = MediaFileManager.add_deferred

    def record_deferred(self: Any, make: Any, *args: Any, **kwargs: Any) -> str:
        """Files made on click (referral sheet, PDF, Excel): made now, as readable text."""
        captured.append(readable(make()))
        return deferred(self, make, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return captured


def readable(data: bytes | str) -> bytes:
    """A download's text: PDF text extracted, the parts of an xlsx (ZIP) joined."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader

        return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).encode()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return b" ".join(archive.read(name) for name in archive.namelist())
    return data


def search_page(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


def listed(at: AppTest) -> list[str]:
    return cards_of(at)


def element_dump(node: Any) -> str:
    """Every element's protobuf (what the browser receives), depth first."""
    parts = [str(getattr(node, "proto", ""))]
    for child in getattr(node, "children", {}).values():
        parts.append(element_dump(child))
    return "\n".join(parts)


def test_search_page_reads_the_database_and_sees_new_writes(hosted: Store) -> None:
    at = search_page(**NEAR)
    assert "Procuraduría de Protección (prueba)" in listed(at)
    mex = [copy.deepcopy(s.feature) for s in hosted.all_features("MEX")]
    for feature in mex:
        if feature["properties"]["id"] == "mex-tap-dif":
            feature["properties"]["name"] = "Procuraduría renombrada"
    hosted.apply_update(hosted.preview_update("MEX", mex), "ana")
    at.run()  # the same session's next rerun, no restart
    assert "Procuraduría renombrada" in listed(at)
    assert "Procuraduría de Protección (prueba)" not in listed(at)


def test_other_pages_read_the_database(hosted: Store) -> None:
    """About (service count) and coverage (tables) come from PostGIS too."""
    about = AppTest.from_string(PAGE.format(page="about_page"), default_timeout=60).run()
    assert not about.exception
    assert about.metric[0].value == "6"
    assert about.caption[0].value == Translator("es").t("about.database")
    mex = [s.feature for s in hosted.all_features("MEX") if s.id != "mex-tap-shelter"]
    hosted.apply_update(hosted.preview_update("MEX", mex), "ana")
    about.run()
    assert about.metric[0].value == "5"
    coverage = AppTest.from_string(PAGE.format(page="coverage_page"), default_timeout=60).run()
    assert not coverage.exception and not coverage.error
    table = tables_of(coverage)[0]
    assert int(table.loc[table.iloc[:, 0] == "México"].iloc[0, -1]) == 2


def _focal_point_marks_confidential(store: Store, service_id: str) -> None:
    """Ana (MEX) uploads her country's listing with the shelter confidential and applies it."""
    at = signed_in("en")
    mex = [copy.deepcopy(s.feature) for s in store.all_features("MEX")]
    for feature in mex:
        if feature["properties"]["id"] == service_id:
            feature["properties"]["location_precision"] = "confidential"
    data = json.dumps({"type": "FeatureCollection", "features": mex}).encode("utf-8")
    at.get("file_uploader")[0].upload("mex.geojson", data, "application/geo+json").run()
    assert not at.exception and not at.error, at.error
    at.button(key="rcm_admin_apply").click().run()
    assert not at.exception
    assert at.success[0].value.startswith(Translator("en").t("admin.applied", id="")[:10])


def secrets_of(feature: dict[str, Any]) -> list[str]:
    """The true site in every decimal form an output could use, and the address."""
    lon, lat = feature["geometry"]["coordinates"]
    forms = {feature["properties"]["address"]}
    for value in (lon, lat):
        for places in (4, 5, 6):
            forms.add(f"{value:.{places}f}")
            forms.add(f"{math.trunc(value * 10**places) / 10**places:.{places}f}")
    return sorted(forms)


def test_shelter_made_confidential_disappears_from_public_pages(
        hosted: Store, downloads: list[bytes]) -> None:
    """Hosted confidentiality (issue 12): after a focal point marks a shelter
    confidential on the Focal points page, the search page, its map and every
    download show it only at its stand-in point, without its address."""
    true = hosted.get("mex-tap-dif", public=False).feature
    secrets = secrets_of(true)
    before = search_page(**NEAR)
    seen = element_dump(before._tree) + "".join(d.decode("utf-8", "replace") for d in downloads)
    assert "Calle Ficticia 1" in seen  # the scan is real: the address was public

    _focal_point_marks_confidential(hosted, "mex-tap-dif")
    assert hosted.get("mex-tap-dif", public=False).feature["properties"][
        "location_precision"] == "confidential"

    downloads.clear()
    after = search_page(**NEAR)  # another caseworker's session
    assert "Procuraduría de Protección (prueba)" in listed(after)  # listed, at its stand-in
    dump = element_dump(after._tree) + repr(dict(after.query_params))
    assert len(downloads) >= 5  # CSV, GeoJSON, referral sheet, HSDS, HXL
    texts = [dump, *(_text(d) for d in downloads)]
    found = [(s, i) for i, text in enumerate(texts) for s in secrets if s in text]
    assert found == []


def _text(data: bytes) -> str:
    """A download as text (the members of a ZIP included)."""
    import io
    import zipfile

    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace")
                             for n in archive.namelist())
    return data.decode("utf-8", "replace")
