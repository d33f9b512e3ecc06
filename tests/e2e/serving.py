"""What the browser tests share besides fixtures: starting a Streamlit server and
keeping Chromium offline. `conftest.py` builds its fixtures on these; test modules
that start their own servers or browser contexts (replicas, geolocation) import
them directly (this folder is on `sys.path` for its test modules)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
STARTUP_TIMEOUT_S = 60


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def streamlit_command(script: Path, port: int, *extra: str) -> list[str]:
    """``streamlit run script`` headless on 127.0.0.1:port (no usage statistics)."""
    return [str(Path(sys.executable).with_name("streamlit")), "run", str(script),
            "--server.port", str(port), "--server.headless", "true",
            "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *extra]


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], log: Path,
                 timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Poll /_stcore/health until it answers ok, or fail with the server log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:  # refused, reset, timed out: not up yet
            pass
        time.sleep(0.3)
    pytest.fail(f"streamlit not healthy after {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


def start_streamlit(script: Path, log: Path, *extra: str, env: dict[str, str] | None = None,
                    timeout_s: float = STARTUP_TIMEOUT_S) -> tuple[str, subprocess.Popen[bytes]]:
    """Serve `script` from the repository root (its .streamlit/config.toml applies) on a
    free port, output to `log`; return its base URL and process once it is healthy
    (stopped again, and the test failed, if it never is)."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(streamlit_command(script, port, *extra), cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, proc, log, timeout_s)
    except BaseException:
        stop(proc)
        raise
    return base_url, proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server, killing it if it has not ended after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def offline_guard(blocked: list[str]) -> Callable[[Any], None]:
    """A Playwright route handler letting through only localhost (and data:, blob:,
    about:); every other URL is aborted and appended to `blocked`."""

    def guard(route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    return guard
