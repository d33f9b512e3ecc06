"""No search trail: the searched place and point are written nowhere.

A canary point and a made-up place name are searched through the CLI, the search
page (AppTest) and a real `streamlit run` server driven by Chromium with
Streamlit's logger at DEBUG. Then captured logs, stdout/stderr, the sandboxed
HOME (~/.streamlit), cache folders, TMPDIR, files changed in /tmp and in the
repository during the test are grepped for the canary: zero hits.

The browser's own profile (Playwright's temporary Chromium profile) is excluded:
it is the user's machine, not the server, and holds the URL they typed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rcm_map.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]
CANARY_LAT, CANARY_LON = "14.876543", "-92.345678"
CANARY_PLACE = "Zorbitlan del Canario"
CANARIES = [CANARY_LAT, CANARY_LON, "876543", "345678", CANARY_PLACE, "Zorbitlan",
            "zorbitlan"]
# Tool folders, and __pycache__ (pytest's compiled copy of this very file holds the canary).
SKIP_DIRS = {".git", "node_modules", ".venv", "static", ".pytest_cache", ".ruff_cache",
             ".hypothesis", "__pycache__"}
CHROMIUM = os.environ.get("RCM_CHROMIUM", "/usr/bin/chromium")


def hits(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


def files_changed_since(root: Path, since: float) -> Iterator[Path]:
    """Regular files under `root` modified after `since` (skipping bulky tool folders)."""
    if not root.exists():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS
                       and not d.startswith("playwright_chromium")]
        for name in filenames:
            path = Path(dirpath) / name
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_mtime >= since:
                    yield path


def file_hits(roots: list[Path], since: float) -> dict[str, list[str]]:
    found = {}
    for root in roots:
        for path in files_changed_since(root, since):
            with contextlib.suppress(OSError):
                data = path.read_bytes()[:20_000_000].decode("utf-8", "replace")
                if hits(data):
                    found[str(path)] = hits(data)
    return found


def run_cli(argv: list[str]) -> tuple[int, str]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    out.flush()
    err.flush()
    return code, out.buffer.getvalue().decode() + err.buffer.getvalue().decode()  # type: ignore[attr-defined]


def test_the_canary_detector_works() -> None:
    assert hits(f"lat={CANARY_LAT}") and hits(CANARY_PLACE.lower())


def test_cli_search_leaves_no_trail(caplog: pytest.LogCaptureFixture, small_path: Path) -> None:
    start = time.time() - 1
    registry = small_path
    with caplog.at_level(logging.DEBUG):
        for args in (["--near", f"{CANARY_LAT},{CANARY_LON}", "--radius-km", "80"],
                     ["--text", CANARY_PLACE]):
            for fmt in ("table", "csv", "geojson"):
                code, output = run_cli(["search", "--registry", str(registry), "--format",
                                        fmt, *args])
                assert code == 0 and hits(output) == [], output
    assert hits(caplog.text) == []
    assert file_hits([ROOT, Path(os.environ.get("TMPDIR", "/tmp")), Path.home() / ".cache",
                      Path.home() / ".streamlit"], start) == {}


def test_search_page_leaves_no_trail(caplog: pytest.LogCaptureFixture,
                                     monkeypatch: pytest.MonkeyPatch, small_path: Path) -> None:
    from streamlit.testing import v1 as testing
    start = time.time() - 1
    monkeypatch.setenv("RCM_MAP_REGISTRY", str(small_path))
    with caplog.at_level(logging.DEBUG):
        at = testing.AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params.update({"lat": CANARY_LAT, "lon": CANARY_LON, "radius": "80"})
        at.run()
        assert not at.exception, at.exception
        box = next((t for t in at.text_input if t.key == "place_text"), None)
        if box is not None:
            box.set_value(CANARY_PLACE).run()
            assert not at.exception, at.exception
    assert hits(caplog.text) == []
    assert file_hits([ROOT, Path("/tmp"), Path.home() / ".cache",
                      Path.home() / ".streamlit"], start) == {}


# --------------------------------------------------------------------------- real server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "streamlit exited early"
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.3)
    pytest.fail("streamlit did not become healthy")


def _type_canary(sync_api: Any, url: str) -> None:
    """Open the canary URL in Chromium and type the canary place."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(f"{url}/?lat={CANARY_LAT}&lon={CANARY_LON}&radius=80&lang=es")
        page.wait_for_selector("[data-testid='stTextInput'] input", timeout=60_000)
        page.wait_for_timeout(3000)
        box = page.locator("[data-testid='stTextInput'] input").first
        box.fill(CANARY_PLACE)
        box.press("Enter")
        page.wait_for_timeout(4000)
        browser.close()


@pytest.mark.slow
@pytest.mark.browser
def test_streamlit_server_at_debug_leaves_no_trail(tmp_path: Path) -> None:
    """`streamlit run` with --logger.level debug, a sandboxed HOME, cache and TMPDIR;
    Chromium opens the canary URL and types the canary place."""
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    try:
        from playwright import sync_api
    except ImportError:
        (pytest.fail if in_ci else pytest.skip)("playwright is not installed")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        (pytest.fail if in_ci else pytest.skip)(f"no Chromium at {CHROMIUM}")
    sandbox = {name: tmp_path / name for name in ("home", "cache", "tmp")}
    for folder in sandbox.values():
        folder.mkdir()
    env = {**os.environ, "HOME": str(sandbox["home"]), "XDG_CACHE_HOME": str(sandbox["cache"]),
           "TMPDIR": str(sandbox["tmp"]),
           "RCM_MAP_REGISTRY": str(tmp_path / "small.geojson")}
    shutil.copy(ROOT / "tests" / "data" / "small.geojson", tmp_path / "small.geojson")
    port = free_port()
    log = tmp_path / "server.log"
    start = time.time() - 1
    streamlit = Path(sys.executable).with_name("streamlit")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(streamlit), "run", "app.py", "--server.port", str(port), "--server.headless",
             "true", "--server.address", "127.0.0.1", "--logger.level", "debug"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        # Playwright's sync API refuses to start in a thread that already runs one
        # (the e2e tests keep a session-wide browser), so drive Chromium from its own.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(_type_canary, sync_api, url).result(timeout=180)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    server_output = log.read_text("utf-8", "replace")
    assert "Runtime state" in server_output, "the debug log is not on"
    assert hits(server_output) == [], [line for line in server_output.splitlines()
                                       if hits(line)][:5]
    log.unlink()
    roots = [*sandbox.values(), ROOT, Path("/tmp")]
    assert file_hits(roots, start) == {}
