"""Browser-test fixtures: a real `streamlit run` server and an offline Chromium.

`streamlit_server` starts any Streamlit script from the repository root (so
``.streamlit/config.toml`` with ``enableStaticServing`` applies) on a free port
and yields its base URL. `page` is a Playwright page in a context that aborts
every request not addressed to localhost, which proves the map works offline.
A screenshot of every failing test goes to ``test-artifacts/``.

With ``CI=true`` a missing Chromium or Playwright fails the tests; elsewhere they
are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from serving import (  # noqa: F401 - LOCAL_HOSTS and free_port: bench/app_browser.py
    LOCAL_HOSTS,
    ROOT,
    free_port,
    offline_guard,
    start_streamlit,
    stop,
)

APP = ROOT / "app.py"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("RCM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _unavailable(reason: str) -> None:
    """Fail under CI=true (the suite must run there), skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], str]:
    """Start ``streamlit run <script>`` once per script; return its base URL."""
    started: dict[Path, tuple[str, subprocess.Popen[bytes]]] = {}

    def start(script: Path) -> str:
        script = Path(script).resolve()
        if script in started:
            return started[script][0]
        log = tmp_path_factory.mktemp("streamlit") / "server.log"
        base_url, proc = start_streamlit(script, log)
        started[script] = (base_url, proc)
        return base_url

    yield start
    for _, proc in started.values():
        stop(proc)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        _unavailable(f"playwright is not installed ({err})")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def base_url(streamlit_server: Callable[[Path], str]) -> Iterator[str]:
    """app.py served on the bundled registry (modules that need another registry
    define their own `base_url`)."""
    saved = os.environ.pop("RCM_MAP_REGISTRY", None)
    try:
        yield streamlit_server(APP)
    finally:
        if saved is not None:
            os.environ["RCM_MAP_REGISTRY"] = saved


@pytest.fixture
def blocked_requests() -> list[str]:
    """URLs the offline guard aborted during the test."""
    return []


@pytest.fixture
def page(
    browser: Any, blocked_requests: list[str], request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A fresh page that can reach only localhost; screenshot on failure."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})

    context.route("**/*", offline_guard(blocked_requests))
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.page_errors = errors  # type: ignore[attr-defined]
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item so `page` knows about failures."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
