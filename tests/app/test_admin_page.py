"""AppTest of the focal-point page and the report widget: every language, sign-in
from secrets limited to one's own country, upload -> preview -> confirm -> history,
and a report filed by a caseworker reaching the focal point."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cardlist import cards_of
from focal_point import ADMIN_PAGE, PASSWORD, focal_point_app, signed_in
from streamlit.testing.v1 import AppTest

from rcm_map.core.i18n import LANGUAGES, Translator
from rcm_map.store.geojson_store import GeoJSONStore

ROOT = Path(__file__).resolve().parents[2]
def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text] + [c.value for c in at.code]


def _mex_update(registry: Path, change: dict[str, Any]) -> bytes:
    """The MEX services of the registry as an upload, with `change` applied to the first."""
    features = json.loads(registry.read_text(encoding="utf-8"))["features"]
    mine = [f for f in features if f["properties"]["country"] == "MEX"]
    mine[0]["properties"].update(change)
    return json.dumps({"type": "FeatureCollection", "features": mine}).encode("utf-8")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_admin_page_renders_in_every_language(registry: Path, lang: str) -> None:
    """Header, sign-in form and, once signed in, the tabs speak the session's language."""
    tr = Translator(lang)
    at = focal_point_app(ADMIN_PAGE, lang).run()
    assert not at.exception
    assert at.header[0].value == tr.t("admin.title")
    assert [t.label for t in at.text_input] == [tr.t("admin.user"), tr.t("admin.password")]
    at = signed_in(lang)
    assert at.caption[0].value == tr.t("admin.signed_in", user="ana", country="MEX")
    assert [t.label for t in at.tabs] == [tr.t("admin.tab_update"), tr.t("admin.tab_verify"),
                                          tr.t("admin.tab_history"), tr.t("admin.tab_reports")]
    assert at.get("file_uploader")[0].label == tr.t("admin.country_file")


def test_router_has_the_focal_point_page(registry: Path) -> None:
    """app.py registers the page at /admin, titled in the session's language."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "fr"
    at.run()
    # AppTest.switch_page only finds file pages; st.Page(callable) is keyed by url_path.
    pages = {info.get("url_pathname"): page_hash
             for page_hash, info in at._registered_pages.items()}
    assert "admin" in pages
    at._page_hash = pages["admin"]
    at.run()
    assert not at.exception
    assert at.header[0].value == "Points focaux"


def test_login_refuses_wrong_password_then_opens_tabs(registry: Path,
                                                     fresh_throttles: Any) -> None:
    at = focal_point_app(ADMIN_PAGE, "en").run()
    at.text_input[0].input("ana")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Wrong user or password."]
    assert not at.tabs
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.caption[0].value == "Signed in as ana · MEX"
    assert len(at.tabs) == 4


@pytest.fixture
def fresh_throttles() -> Any:
    """Sign-in counts are per server process: start and end each test at zero."""
    from rcm_map.ui.admin import login_throttles
    login_throttles.clear()
    yield
    login_throttles.clear()


def _try(at: AppTest, user: str, password: str) -> list[str]:
    at.text_input[0].input(user)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return [e.value for e in at.error]


def test_failed_sign_ins_are_counted_on_the_server(registry: Path,
                                                   fresh_throttles: Any) -> None:
    """Issue 12: a reload or a parallel session no longer resets the count."""
    tr = Translator("en")
    for attempt in range(5):  # five sessions, one wrong guess each
        assert _try(focal_point_app(ADMIN_PAGE, "en").run(), "ana", f"guess {attempt}") == [
            tr.t("admin.wrong_credentials")]
    fresh = focal_point_app(ADMIN_PAGE, "en").run()  # a new session (a reload), right password
    assert _try(fresh, "ana", PASSWORD) == [tr.t("admin.too_many_attempts")]
    assert not fresh.tabs
    assert _try(focal_point_app(ADMIN_PAGE, "en").run(), "Ana ", PASSWORD) == [
        tr.t("admin.too_many_attempts")]


def test_focal_point_sees_and_changes_only_their_country(registry: Path) -> None:
    """Reports of another country stay hidden; an update touching it is refused."""
    store = GeoJSONStore(registry)
    store.report_problem("gtm-tecun-casa", "closed", "cerrado (GTM)")
    store.report_problem("mex-tap-dif", "moved", "se mudó (MEX)")
    before = registry.read_bytes()
    at = signed_in("en")
    texts = _texts(at)
    assert "se mudó (MEX)" in texts and "cerrado (GTM)" not in texts
    features = json.loads(registry.read_text(encoding="utf-8"))["features"]
    other = [f for f in features if f["properties"]["country"] == "GTM"]
    data = json.dumps({"type": "FeatureCollection", "features": other}).encode()
    at.get("file_uploader")[0].upload("gtm.geojson", data, "application/geo+json").run()
    assert at.error and at.error[0].value.startswith("The file has")
    assert any("this update is for MEX" in c.value and "'GTM'" in c.value for c in at.code)
    assert registry.read_bytes() == before


def test_upload_preview_then_confirm_is_recorded_in_history(registry: Path) -> None:
    """The preview changes nothing; Apply writes the change and the history lists it."""
    before = registry.read_bytes()
    at = signed_in("es")
    data = _mex_update(registry, {"hours": "Lunes a viernes 9-17"})
    at.get("file_uploader")[0].upload("mex.geojson", data, "application/geo+json").run()
    assert not at.exception and not at.error
    tr = Translator("es")
    assert at.subheader[0].value == tr.t("admin.preview")
    assert any(m.value == tr.t("admin.preview_counts", added=0, changed=1, removed=0,
                               unchanged=2) for m in at.markdown)
    assert any("~ mex-tap-shelter: hours" in c.value for c in at.code)
    assert registry.read_bytes() == before  # a preview writes nothing
    at.button(key="rcm_admin_apply").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Cambios aplicados")
    props = {f["properties"]["id"]: f["properties"]
             for f in json.loads(registry.read_text(encoding="utf-8"))["features"]}
    assert props["mex-tap-shelter"]["hours"] == "Lunes a viernes 9-17"
    at.run()
    history = "\n".join(c.value for c in at.code)
    assert f"ana (MEX) {tr.t('import.action_import')} MEX" in history  # in Spanish
    assert f"{tr.t('import.service_changed')} mex-tap-shelter" in history
    assert "importación" in history


def test_upload_with_bad_rows_names_file_row_field_and_value(registry: Path) -> None:
    at = signed_in("fr")
    data = _mex_update(registry, {"website": "javascript:alert(1)"})
    at.get("file_uploader")[0].upload("mex.geojson", data, "application/geo+json").run()
    assert not at.exception
    assert at.error[0].value.startswith("Le fichier présente")
    shown = "\n".join(c.value for c in at.code)
    assert "mex.geojson" in shown and "'website'" in shown and "javascript:alert(1)" in shown


def test_upload_over_the_row_limit_is_refused_before_parsing(
        registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rcm_map.store import importing
    from rcm_map.ui import admin

    monkeypatch.setattr(admin, "MAX_UPDATE_FEATURES", 2)
    parsed: list[str] = []
    monkeypatch.setattr(importing, "parse_json_bytes",
                        lambda data, name: parsed.append(name))
    at = signed_in("en")
    data = _mex_update(registry, {})
    at.get("file_uploader")[0].upload("mex.geojson", data, "application/geo+json").run()
    assert not at.exception
    assert "more than the limit of 2" in at.code[0].value and "mex.geojson" in at.code[0].value
    assert parsed == []


def test_report_widget_says_no_child_data_and_files_a_report(
        registry: Path, report_widget: Callable[[str], AppTest]) -> None:
    """A caseworker's report (kind + comment only) shows up for the focal point."""
    at = report_widget("es").run()
    tr = Translator("es")
    assert at.expander[0].label == tr.t("report.title")
    assert at.caption[0].value == tr.t("report.privacy")
    assert [w.label for w in (*at.selectbox, *at.text_area)] == [tr.t("report.kind"),
                                                               tr.t("report.comment")]
    at.selectbox[0].set_value("closed")
    at.text_area[0].input("Cerró en mayo")
    at.button[0].click().run()
    assert not at.exception
    assert at.success[0].value == tr.t("report.thanks")
    reports = GeoJSONStore(registry).open_reports("MEX")
    assert [(r.service_id, r.kind, r.comment) for r in reports] == [
        ("mex-tap-dif", "closed", "Cerró en mayo")]

    focal = signed_in("es")
    assert "Cerró en mayo" in _texts(focal)
    assert any("mex-tap-dif" in t and "Ya no funciona" in t for t in _texts(focal))
    focal.button(key=f"rcm_resolve_{reports[0].report_id}").click().run()
    assert not focal.exception
    assert GeoJSONStore(registry).open_reports("MEX") == []


def test_search_page_offers_the_report_form_for_the_selected_service(registry: Path) -> None:
    """Selecting a result shows its name (as text) and the report form under the list."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.query_params["place"] = "Tapachula"
    at.run()
    assert not [e for e in at.expander if e.label == "Report a problem with this listing"]
    assert "Albergue Ejemplo Tapachula" in cards_of(at)
    show = [b for b in at.button if b.label == "Show on map"]
    show[cards_of(at).index("Albergue Ejemplo Tapachula")].click().run()
    assert not at.exception
    assert "Selected service: Albergue Ejemplo Tapachula" in [t.value for t in at.text]
    form = [e for e in at.expander if e.label == "Report a problem with this listing"]
    assert form
    at.text_area[0].input("Phone number no longer works")
    [b for b in at.button if b.label == "Send report"][0].click().run()
    assert not at.exception
    reports = GeoJSONStore(registry).open_reports("MEX")
    assert [(r.service_id, r.comment) for r in reports] == [
        ("mex-tap-shelter", "Phone number no longer works")]


def test_verify_tab_marks_a_service_verified_and_records_it(registry: Path) -> None:
    """The queue lists MEX services, urgent first; "Mark verified" needs the confirmation."""
    at = signed_in("en")
    tr = Translator("en")
    queue_text = "\n".join(c.value for c in at.code)
    # mex-tap-shelter was verified in 2025-02 (stale now), the others never: all queued
    assert "Procuraduría de Protección (prueba)" in queue_text
    assert tr.t("admin.tier_transit_no_contact") in queue_text
    assert "Not yet verified by the network" in queue_text
    button = at.button(key="rcm_verify_button")
    assert button.disabled
    pick = at.selectbox(key="rcm_verify_pick")
    pick.set_value("mex-tap-dif").run()
    at.checkbox(key="rcm_verify_confirm").check().run()
    at.button(key="rcm_verify_button").click().run()
    assert not at.exception, at.exception
    assert any(tr.t("admin.verify_done", version=2) == s.value for s in at.success)
    props = {f["properties"]["id"]: f["properties"] for f in
             json.loads(registry.read_text(encoding="utf-8"))["features"]}["mex-tap-dif"]
    assert props["verified_on"] == dt.date.today().isoformat()
    assert props["verified_by"] == "ana (MEX)"
    store = GeoJSONStore(registry)
    [record] = store.history(service_id="mex-tap-dif", limit=1)
    assert record.action == "verify" and "verified mex-tap-dif" in record.summary
