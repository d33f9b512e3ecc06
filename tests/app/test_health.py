"""AppTest of start-up health: a corrupt registry is reported in
plain text with no traceback, temporary files are cleaned, and only a signed-in
focal point may put the last good backup back, after confirming."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from focal_point import signed_in
from streamlit.testing.v1 import AppTest

from rcm_map.core.files import TEMP_MARK, list_backups, make_backup
from rcm_map.core.i18n import Translator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def corrupt(tmp_path: Path, small_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry cut in half whose newest backup is the intact small.geojson, plus a
    temporary file left by a writer that died."""
    good = small_path.read_bytes()
    path = tmp_path / "actors.geojson"
    path.write_bytes(good)
    make_backup(path, now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    path.write_bytes(good[: len(good) // 2])
    # pid 999999999 cannot be alive, so the file is a leftover
    (tmp_path / f".actors.geojson{TEMP_MARK}999999999-abcd").write_bytes(b"{")
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(path))
    monkeypatch.delenv("RCM_MAP_DATABASE_URL", raising=False)
    return path


def _health_shown(at: AppTest, tr: Translator, path: Path) -> None:
    assert not at.exception  # no traceback reaches the page
    assert at.error[0].value == tr.t("error.registry", path=path.name)
    summary = "\n".join(t.value for t in at.text)
    assert "registry unusable" in summary and "invalid JSON" in summary
    assert "Traceback" not in summary
    assert any(i.value == tr.t("health.backup_found", backup=list_backups(path)[0].name)
               for i in at.info)


@pytest.mark.parametrize("lang", ["es", "en", "fr"])
def test_corrupt_registry_at_start_up_is_reported_without_traceback(corrupt: Path,
                                                                    lang: str) -> None:
    damaged = corrupt.read_bytes()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    tr = Translator(lang)
    assert not at.exception
    assert [e.value for e in at.error] == [tr.t("health.repairing")]  # nothing more (issue 12)
    assert not at.text
    assert any(c.value == tr.t("health.sign_in_to_restore") for c in at.caption)
    assert not [b for b in at.button if b.key == "rcm_restore_start"]  # not signed in
    assert corrupt.read_bytes() == damaged  # never overwritten silently
    assert not [p for p in os.listdir(corrupt.parent) if TEMP_MARK in p]


def test_focal_point_restores_the_last_good_backup_after_confirming(
        corrupt: Path, small_path: Path) -> None:
    damaged = corrupt.read_bytes()
    at = signed_in("es")
    tr = Translator("es")
    _health_shown(at, tr, corrupt)
    assert not at.tabs  # no update on top of a damaged file

    at.button(key="rcm_restore_start").click().run()
    assert corrupt.read_bytes() == damaged  # asking is not doing
    assert at.warning[0].value.startswith("¿Reemplazar actors.geojson")
    at.button(key="rcm_restore_cancel").click().run()
    assert corrupt.read_bytes() == damaged

    at.button(key="rcm_restore_start").click().run()
    at.button(key="rcm_restore_yes").click().run()
    assert not at.exception
    assert corrupt.read_bytes() == small_path.read_bytes()
    assert any(b.read_bytes() == damaged for b in list_backups(corrupt))  # damaged one kept
    assert at.success[0].value.startswith("Registro restaurado")
    assert len(at.tabs) == 4


SECRET_POINT = [14.876543, -92.345678]  # lat/lon swapped: latitude out of range
SECRET_ADDRESS = "Calle Escondida 99"


@pytest.fixture
def leaky(tmp_path: Path, small_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry whose confidential shelter has a bad (swapped) point and an address."""
    text = small_path.read_text("utf-8").replace("[-92.2900,14.9200]", str(SECRET_POINT))
    text = text.replace("Calle Secreta 123", SECRET_ADDRESS)
    path = tmp_path / "actors.geojson"
    path.write_text(text, "utf-8")
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(path))
    monkeypatch.delenv("RCM_MAP_DATABASE_URL", raising=False)
    return path


def _page_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in (at.error, at.text, at.caption, at.info,
                                               at.warning, at.markdown) for e in kind)


def test_health_panel_shows_no_values_or_paths(leaky: Path) -> None:
    """Issue 12: the damaged-registry panel printed `(got [14.876543, -92.345678])` of a
    confidential feature and the server's absolute path to anonymous visitors."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    shown = _page_text(at)
    assert Translator("en").t("health.repairing") in shown
    for secret in ("876543", "345678", SECRET_ADDRESS, str(leaky.parent), leaky.name):
        assert secret not in shown

    admin = signed_in("en")
    shown = _page_text(admin)
    assert "swapped" in shown and "mex-tap-secret" in shown  # details, for the signed-in
    for secret in ("876543", "345678", SECRET_ADDRESS, str(leaky.parent)):
        assert secret not in shown
