"""Read the HTML tables (`rcm_map.render.tables`) of an AppTest run as DataFrames."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pandas as pd


class _Cells(HTMLParser):
    """Rows of cells (text) of every ``<table>`` in a page fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(at: Any) -> list[pd.DataFrame]:
    """Every rcm-table of the run, in page order: header row as columns, cells as
    text (numbers as shown on the page)."""
    found = []
    for element in at.get("html"):
        if 'class="rcm-table"' not in element.proto.body:
            continue
        parser = _Cells()
        parser.feed(element.proto.body)
        for rows in parser.tables:
            found.append(pd.DataFrame(rows[1:], columns=rows[0]))
    return found
