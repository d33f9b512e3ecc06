"""The search page's download area: referral sheet (view, print, HTML, PDF) and exports.

Widgets only. The sheet comes from `rcm_map.render.referral` / `rcm_map.render.referral_pdf`, the
workbook from `rcm_map.formats.workbook`, the machine formats from `rcm_map.formats.export` and
`rcm_map.formats.interop`. Every file is made only when its button is clicked
(Streamlit's deferred downloads, in memory), so a rerun builds none of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from rcm_map.core.i18n import Translator
from rcm_map.formats import export, interop
from rcm_map.formats.workbook import XLSX_MIME, to_xlsx_bytes
from rcm_map.render import listing
from rcm_map.render.referral import Searched, build_sheet, sheet_html
from rcm_map.render.referral_pdf import pdf_available, sheet_pdf
from rcm_map.search.query import SearchResult

SHEET_HEIGHT = 560


def _ids(frame: pd.DataFrame) -> np.ndarray:
    return frame["id"].to_numpy(dtype=object) if "id" in frame else np.empty(0, dtype=object)


class _Rows:
    """The rows to export (`listing.results_for_export`) and those of the referral
    sheet (the chosen ones, all when none, then the help lines not among them),
    built only when a file is asked for."""

    def __init__(self, result: SearchResult, chosen: list[str], lines: pd.DataFrame) -> None:
        self._result = result
        self._chosen = list(chosen)
        self._all: pd.DataFrame | None = None
        ids = np.concatenate([_ids(result.located), _ids(result.countrywide)])
        self.count = len(ids)
        listed = ids[np.isin(ids, self._chosen)] if chosen else ids
        self._lines = lines[~np.isin(_ids(lines), listed)] if len(lines) else lines
        self.sheet_count = len(listed) + len(self._lines)

    def all(self) -> pd.DataFrame:
        if self._all is None:
            self._all = listing.results_for_export(self._result.located,
                                                   self._result.countrywide)
        return self._all

    def sheet(self) -> pd.DataFrame:
        rows = self.all()
        rows = rows[rows["id"].isin(self._chosen)] if self._chosen else rows
        if self._lines.empty:
            return rows
        lines = self._lines.reindex(columns=rows.columns) if len(rows.columns) else self._lines
        return pd.concat([rows, lines], ignore_index=True) if len(rows) else lines


def _later(make: Callable[..., bytes], rows: Callable[[], pd.DataFrame],
           *args: Any) -> Callable[[], bytes]:
    """A no-argument callable for a deferred download of `make(rows(), *args)`."""
    return lambda: make(rows(), *args)


def _sheet_bytes(rows: pd.DataFrame, lang: str, searched: Searched, today: dt.date,
                 as_pdf: bool) -> bytes:
    """The sheet as HTML (UTF-8) or PDF bytes."""
    sheet = build_sheet(rows, lang, searched, today)
    return sheet_pdf(sheet) if as_pdf else sheet_html(sheet).encode("utf-8")


def _button_row() -> Any:
    """Buttons side by side, wrapping onto the next line on a narrow screen: one
    container, where columns would be one block per button plus their row (every
    block is redrawn by the browser on each rerun)."""
    return st.container(horizontal=True, gap="small")


def _referral(tr: Translator, rows: _Rows, searched: Searched, today: dt.date) -> None:
    """HTML and PDF downloads of the sheet, and the sheet itself with its print button.

    Nothing is built on a rerun unless asked for: the files when their button is
    clicked, the page when the "view and print" switch is on.
    """
    n = rows.sheet_count
    row = _button_row()
    row.download_button(tr.t("download.referral", n=n),
                         _later(_sheet_bytes, rows.sheet, tr.lang, searched, today, False),
                         file_name="rcm-referral.html", mime="text/html", key="dl_referral",
                         on_click="ignore")
    if pdf_available():
        row.download_button(tr.t("download.referral_pdf", n=n),
                              _later(_sheet_bytes, rows.sheet, tr.lang, searched, today, True),
                              file_name="rcm-referral.pdf", mime="application/pdf",
                              key="dl_referral_pdf", on_click="ignore")
    else:
        row.caption(tr.t("download.pdf_unavailable"))
    st.caption(tr.t("download.referral_help"))
    if st.toggle(tr.t("download.print", n=n), key="show_sheet"):
        # The sheet in a frame: every value escaped, no external resource, and a
        # Content-Security-Policy that runs only its own print button's script.
        page = _sheet_bytes(rows.sheet(), tr.lang, searched, today, False).decode("utf-8")
        st.iframe(page, height=SHEET_HEIGHT)


def _exports(tr: Translator, rows: _Rows, searched: Searched, today: dt.date) -> None:
    """Excel for people, CSV and GeoJSON for machines, partner formats folded."""
    row = _button_row()
    row.download_button(tr.t("download.xlsx"),
                            _later(to_xlsx_bytes, rows.all, tr.lang, searched, today),
                            file_name="rcm-services.xlsx", mime=XLSX_MIME, key="dl_xlsx",
                            on_click="ignore")
    row.download_button(tr.t("download.csv"), _later(export.to_csv_bytes, rows.all),
                            file_name="rcm-services.csv", mime="text/csv", key="dl_csv",
                            on_click="ignore")
    row.download_button(tr.t("download.geojson"), _later(export.to_geojson_bytes, rows.all),
                            file_name="rcm-services.geojson", mime="application/geo+json",
                            key="dl_geojson", on_click="ignore")
    st.caption(tr.t("download.which"))
    with st.expander(tr.t("download.formats")):
        row = _button_row()
        row.download_button(tr.t("download.hsds"), _later(interop.hsds_zip_bytes, rows.all),
                             file_name="rcm-services-hsds.zip", mime="application/zip",
                             key="dl_hsds", on_click="ignore")
        row.download_button(tr.t("download.hxl"), _later(interop.export_hxl, rows.all),
                              file_name="rcm-services-hxl.csv", mime="text/csv", key="dl_hxl",
                              on_click="ignore")


def render_downloads(tr: Translator, result: SearchResult, chosen: list[str],
                     state: Any, place: str | None = None,
                     lines: pd.DataFrame | None = None) -> None:
    """The download area under the results.

    Parameters
    ----------
    tr
        The session's translator.
    result
        The search result shown on the page.
    chosen
        Ids of the services the user selected; the sheet lists these (all when none).
    state
        The `rcm_map.search.urlstate.SearchState` shown, for "what was searched".
    place
        Display name of the chosen place (else the typed text or rounded coordinates).
    lines
        The help lines shown for the place (`rcm_map.search.lines`): the sheet lists
        them after the services, so a sheet always has a number to call.
    """
    rows = _Rows(result, chosen, pd.DataFrame() if lines is None else lines)
    st.subheader(tr.t("download.title"))
    if not rows.sheet_count:
        st.caption(tr.t("download.nothing"))
        return
    today = dt.date.today()
    searched = Searched.from_state(state, place)
    _referral(tr, rows, searched, today)
    if rows.count:
        _exports(tr, rows, searched, today)
