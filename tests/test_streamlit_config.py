"""The hardened `.streamlit/config.toml`: each setting, and that it is valid."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".streamlit" / "config.toml"
EXPECTED = {
    ("server", "enableStaticServing"): True,
    ("server", "headless"): True,
    ("server", "enableXsrfProtection"): True,
    ("server", "enableCORS"): True,
    ("client", "showErrorDetails"): "none",
    ("client", "toolbarMode"): "minimal",
    ("browser", "gatherUsageStats"): False,
    ("logger", "level"): "warning",
    ("runner", "postScriptGC"): False,  # speed: no full GC per rerun (bench/README.md)
    ("server", "fileWatcherType"): "none",  # speed: no module watch per new session
}


def settings() -> dict[str, dict[str, object]]:
    return tomllib.loads(CONFIG.read_text("utf-8"))


@pytest.mark.parametrize(("key", "value"), EXPECTED.items(),
                         ids=[".".join(k) for k in EXPECTED])
def test_hardened_setting(key: tuple[str, str], value: object) -> None:
    section, name = key
    assert settings()[section][name] == value


def test_upload_limit_is_small() -> None:
    assert 1 <= settings()["server"]["maxUploadSize"] <= 25  # MB (Streamlit's default: 200)


def test_every_option_exists_in_this_streamlit() -> None:
    """A misspelt option is silently ignored by Streamlit: check against its own list."""
    from streamlit import config

    known = config._config_options_template
    for section, values in settings().items():
        for name in values:
            assert f"{section}.{name}" in known, f"unknown option {section}.{name}"
    assert "server.allowedHosts" in known  # documented in the file for hosting


def test_allowed_hosts_documented() -> None:
    assert "allowedHosts" in CONFIG.read_text("utf-8")
    assert "allowedHosts" in (ROOT / "docs" / "reliability.md").read_text("utf-8")


@pytest.mark.slow
def test_streamlit_reads_the_file() -> None:
    """`streamlit config show` run from the repository reports our values."""
    streamlit = Path(sys.executable).with_name("streamlit")
    out = subprocess.run([str(streamlit), "config", "show"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    for line in ('showErrorDetails = "none"', "gatherUsageStats = false",
                 "enableXsrfProtection = true", "maxUploadSize = 20", 'toolbarMode = "minimal"',
                 'level = "warning"'):
        assert line in out, line
