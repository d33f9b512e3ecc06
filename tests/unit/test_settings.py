"""One settings table: rcm_map.core.settings, and docs/deploy.md generated from it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rcm_map.core import settings

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_doc_holds_the_generated_table() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert settings.markdown_table() in doc, (
        "docs/deploy.md's settings table differs from rcm_map.core.settings: "
        "paste the output of `python -m rcm_map.core.settings`")


def test_no_module_reads_the_environment_itself() -> None:
    """Every variable goes through settings, so the table lists them all."""
    offenders = []
    for path in (ROOT / "rcm_map").rglob("*.py"):
        if path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_defaults_and_types() -> None:
    env = {settings.DATABASE_URL_ENV: "  "}
    assert settings.get(settings.DATABASE_URL_ENV, env) is None
    flag = settings.Setting("RCM_MAP_TEST_FLAG", bool, False, "test")
    assert flag.read({"RCM_MAP_TEST_FLAG": "yes"}) is True
    number = settings.Setting("RCM_MAP_TEST_N", int, 3, "test")
    assert number.read({}) == 3
    with pytest.raises(ValueError, match=r"RCM_MAP_TEST_N: expected an integer, instead got: 'x'"):
        number.read({"RCM_MAP_TEST_N": "x"})
