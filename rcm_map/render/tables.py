"""Tables as plain, escaped HTML (pure): the coverage page's counts and gaps.

Why not ``st.dataframe``: its grid is a canvas (no text to select, print or read
aloud) and its code is the heaviest the page loads (the DataFrame chunk, Arrow and
the grid: ~0.9 MB of JavaScript, most of the coverage page's first-open time in
Chromium). These tables are a few KB of HTML: the page scrolls down, never sideways
(the table scrolls inside its own box, its first column and header stay in view),
and the numbers are right-aligned for comparing.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

TABLE_CSS = (
    ".rcm-table{max-width:100%;max-height:32rem;overflow:auto;border:1px solid #d6d6d6;"
    "border-radius:.4rem;margin:.25rem 0 1rem}"
    ".rcm-table table{border-collapse:separate;border-spacing:0;font-size:.9rem;width:max-content;"
    "min-width:100%}"
    ".rcm-table th,.rcm-table td{padding:.3rem .6rem;border-bottom:1px solid #e6e6e6;"
    "text-align:left;vertical-align:top}"
    ".rcm-table thead th{position:sticky;top:0;background:#f4f4f4;z-index:2;"
    "font-weight:600;max-width:9rem;white-space:normal}"
    ".rcm-table tbody th{position:sticky;left:0;background:#fff;z-index:1;font-weight:500}"
    ".rcm-table thead th:first-child{left:0;z-index:3}"
    ".rcm-table td.rcm-num,.rcm-table th.rcm-num{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    ".rcm-table tbody tr:nth-child(even) td,.rcm-table tbody tr:nth-child(even) th{"
    "background:#fafafa}"
)


def html_table(frame: pd.DataFrame, label: str,
               number: Callable[[object], str] = str) -> str:
    """`frame` as an escaped HTML table in a scrolling, labelled region.

    The first column heads each row (``<th scope="row">``); numeric columns are
    right-aligned and written by `number` (e.g. the interface language's format);
    missing values are empty cells. `label` names the region for screen readers.
    """
    numeric = [is_numeric_dtype(frame[c]) and not is_bool_dtype(frame[c]) for c in frame.columns]
    head = "".join(f'<th scope="col"{_num(numeric[i])}>{_esc(str(name))}</th>'
                   for i, name in enumerate(frame.columns))
    body = []
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for i, value in enumerate(row):
            text = "" if _missing(value) else number(value) if numeric[i] else str(value)
            tag = "th" if i == 0 else "td"
            scope = ' scope="row"' if i == 0 else ""
            cells.append(f"<{tag}{scope}{_num(numeric[i])}>{_esc(text)}</{tag}>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="rcm-table" role="region" tabindex="0" aria-label="{_esc(label)}">'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "</div>")


def style_tag() -> str:
    """The tables' stylesheet as a ``<style>`` element."""
    return f"<style>{TABLE_CSS}</style>"


def _num(numeric: bool) -> str:
    return ' class="rcm-num"' if numeric else ""


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
