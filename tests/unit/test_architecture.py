"""Only app.py and rcm_map/ui/ may import streamlit or streamlit_folium."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI_MODULES = ("streamlit", "streamlit_folium")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_streamlit_only_in_the_ui():
    allowed = {ROOT / "app.py", *(ROOT / "rcm_map" / "ui").glob("*.py")}
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "rcm_map").rglob("*.py")
        if path not in allowed and _imports(path) & set(UI_MODULES)
    ]
    assert not offenders, offenders


def test_the_ui_really_uses_streamlit():
    """Guards the test above against scanning the wrong folder."""
    assert "streamlit" in _imports(ROOT / "rcm_map" / "ui" / "search_page.py")
    assert "streamlit" in _imports(ROOT / "app.py")


def test_app_is_a_router():
    """app.py holds page config, language and navigation only: no widgets or logic."""
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    assert "st.navigation" in source
    assert len(source.splitlines()) < 40
    tree = ast.parse(source)
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


# The only HTML the UI may write: made by these escaping builders (every registry
# value through html.escape; tested in tests/unit/test_cards.py and, for the coverage
# tables, tests/unit/test_coverage.py) or fixed markup.
HTML_BUILDERS = {"cards.card_html", "cards.lines_html", "cards.style_tag",
                 "tables.html_table", "tables.style_tag", "page_language_script"}


def _call_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        return _call_name(node.func)
    if isinstance(node, ast.Attribute):
        return f"{_call_name(node.value)}.{node.attr}".lstrip(".")
    return node.id if isinstance(node, ast.Name) else ""


def test_no_unsafe_html_in_the_ui():
    for path in [ROOT / "app.py", *(ROOT / "rcm_map" / "ui").glob("*.py")]:
        source = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in source, path
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and _call_name(node.func).endswith("st.html"):
                built_by = _call_name(node.args[0]) if node.args else ""
                assert built_by in HTML_BUILDERS, f"{path.name}:{node.lineno}: {built_by!r}"
