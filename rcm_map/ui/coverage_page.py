"""Coverage page for the network: services per country and admin-1, a choropleth,
and the admin-1 units with no service of a chosen type for a chosen age (gaps).

Every table and count is computed once per (registry version, filters) and kept in
memory (``st.cache_data``; aggregates of the public registry, nothing about a
visitor); the choropleth's outlines once per (countries, language).
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import cached_property

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from rcm_map.core import schema
from rcm_map.core.boundaries import admin1_units
from rcm_map.core.i18n import Translator
from rcm_map.registry.model import Registry
from rcm_map.render import tables
from rcm_map.search import coverage
from rcm_map.ui import common

BANDS = (coverage.ALL_AGES, *schema.AGE_BANDS)
CACHE_ENTRIES = 256  # filter combinations kept per computation (small tables)


def _units(countries: list[str]) -> list[coverage.Unit]:
    return [coverage.Unit(u.code, u.country, u.name) for u in admin1_units()
            if not countries or u.country in countries]


def _unit_names() -> dict[str, str]:
    return {u.code: u.name for u in _units([])}


def _controls(tr: Translator) -> tuple[str, str, int | None, list[str]]:
    cols = st.columns(4)
    service = cols[0].selectbox(tr.t("coverage.service"), list(schema.SERVICE_TYPES),
                                key="cov_service",
                                format_func=lambda c: tr.label("service_types", c))
    band = cols[1].selectbox(tr.t("coverage.band"), BANDS, key="cov_band",
                             format_func=lambda b: tr.t("coverage.all_ages") if b == "all"
                             else tr.t("search.band_label", band=b))
    age = cols[2].number_input(tr.t("coverage.age"), min_value=schema.AGE_LIMITS[0],
                               max_value=schema.AGE_LIMITS[1], value=None, step=1,
                               key="cov_age", placeholder=tr.t("search.any"))
    countries = cols[3].multiselect(tr.t("search.countries"), list(schema.COUNTRIES),
                                    key="cov_countries", placeholder=tr.t("search.any"),
                                    format_func=lambda c: tr.label("country", c))
    return service, band, (int(age) if age is not None else None), countries


def _frame(reg: Registry, countries: list[str]) -> pd.DataFrame:
    frame = reg.frame
    return frame[frame["country"].isin(countries)] if countries else frame


class _View:
    """The registry rows the page shows (`frame`) and the key of the cached results
    computed from them: the registry's version, and the countries chosen.

    The rows are selected only when a cached result must be computed: at 1M services
    selecting the corridor's rows takes ~1.6 s, which a rerun served from the cache
    should not pay."""

    def __init__(self, reg: Registry, stamp: Hashable, countries: list[str]) -> None:
        self.key = (stamp, id(reg), tuple(countries))
        self._reg, self._countries = reg, countries

    @cached_property
    def frame(self) -> pd.DataFrame:
        return _frame(self._reg, self._countries)


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _coverage_table(key: Hashable, level: str, age: int | None, band: str,
                    _view: _View) -> pd.DataFrame:
    return coverage.coverage_table(_view.frame, level, age=age, age_band=band)


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _band_table(key: Hashable, level: str, service: str, _view: _View) -> pd.DataFrame:
    return coverage.band_table(_view.frame, level, service)


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _admin1_counts(key: Hashable, service: str, age: int | None, band: str,
                   _view: _View) -> dict[str, int]:
    return coverage.admin1_counts(_view.frame, service, age=age, age_band=band)


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _gap_rows(key: Hashable, countries: tuple[str, ...], service: str, age: int | None,
              band: str, _view: _View) -> pd.DataFrame:
    return coverage.gaps(_view.frame, _units(list(countries)), service, age=age, age_band=band,
                         countries=list(countries) or None)


def _labelled(table: pd.DataFrame, tr: Translator, level: str) -> pd.DataFrame:
    """Translate index and column codes into labels (a display copy)."""
    out = table.reset_index()
    out["country"] = [tr.label("country", c) for c in out["country"]]
    if level == "admin1":
        names = _unit_names()
        out["admin1"] = [names.get(c, c) if c else tr.t("coverage.no_admin1")
                         for c in out["admin1"]]
    renames = {c: tr.label("service_types", c) for c in schema.SERVICE_TYPES}
    renames.update({"country": tr.t("list.col.country"), "admin1": tr.t("coverage.admin1"),
                    "total": tr.t("coverage.total")})
    renames.update({b: tr.t("search.band_label", band=b) for b in schema.AGE_BANDS})
    return out.rename(columns=renames)


def _show(tr: Translator, table: pd.DataFrame, label: str) -> None:
    """A table as HTML (`rcm_map.render.tables`: text a person can select, print and
    have read aloud; a fraction of the browser's work of ``st.dataframe``), its
    counts in the language's format (``12 345`` in fr)."""
    st.html(tables.html_table(table, label, number=lambda v: tr.number(v, 0)))


def _tables(tr: Translator, view: _View, band: str, age: int | None, service: str) -> None:
    level = st.radio(tr.t("coverage.level"), ("country", "admin1"), horizontal=True,
                     key="cov_level", format_func=lambda lv: tr.t(f"coverage.level.{lv}"))
    table = _coverage_table(view.key, level, age, band, view)
    st.caption(tr.t("coverage.table_help"))
    _show(tr, _labelled(table, tr, level), tr.t("coverage.tab_table"))
    by_band = tr.t("coverage.by_band", service=tr.label("service_types", service))
    st.subheader(by_band)
    _show(tr, _labelled(_band_table(view.key, level, service, view), tr, level), by_band)


def _choropleth(tr: Translator, view: _View, service: str, band: str,
                age: int | None, countries: list[str]) -> None:
    outlines = common.admin1_outlines(tuple(countries), tr.lang)
    if outlines is None:
        st.info(tr.t("coverage.no_boundaries"))
        return
    from rcm_map.render.choropleth import build_choropleth

    counts = _admin1_counts(view.key, service, age, band, view)
    labels = {"title": tr.label("service_types", service), "count": tr.t("coverage.count"),
              "gap": tr.t("coverage.gap_legend")}
    fmap = build_choropleth(outlines, counts, labels, tr.lang)
    st_folium(fmap, key="coverage_map", height=480, use_container_width=True,
              returned_objects=[])


def _gaps(tr: Translator, view: _View, service: str, band: str, age: int | None,
          countries: list[str]) -> None:
    found = _gap_rows(view.key, tuple(countries), service, age, band, view)
    what = tr.label("service_types", service)
    who = (tr.t("coverage.for_age", age=age) if age is not None
           else tr.t("coverage.all_ages") if band == "all"
           else tr.t("search.band_label", band=band))
    st.markdown(tr.plural("coverage.gaps_summary", len(found), service=what, ages=who))
    if found.empty:
        return
    shown = pd.DataFrame({
        tr.t("list.col.country"): [tr.label("country", c) for c in found["country"]],
        tr.t("coverage.admin1"): found["name"],
        tr.t("coverage.code"): found["admin1"],
        tr.t("coverage.countrywide"): found["countrywide"],
    })
    _show(tr, shown, tr.t("coverage.tab_gaps"))
    st.download_button(tr.t("coverage.gaps_csv"),  # made when clicked, like the search's
                       lambda: found.to_csv(index=False).encode("utf-8"),
                       file_name="rcm-gaps.csv", mime="text/csv", key="dl_gaps",
                       on_click="ignore")


def render() -> None:
    """The coverage page."""
    tr = common.translator()
    # the version first: a registry newer than its key is recomputed on the next visit
    stamp = common.guarded(tr, lambda: common.reader().stamp())
    reg = common.registry(tr)
    st.title(tr.t("coverage.title"))
    st.caption(tr.t("coverage.intro"))
    st.html(tables.style_tag())
    service, band, age, countries = _controls(tr)
    view = _View(reg, stamp, countries)
    # The tabs track which one is open, so the map (a heavy frame for the browser) is
    # drawn only once its tab is chosen; the tables and gaps are light and always sent.
    tab_table, tab_map, tab_gaps = st.tabs(
        [tr.t("coverage.tab_table"), tr.t("coverage.tab_map"), tr.t("coverage.tab_gaps")],
        key="cov_tab", on_change="rerun")
    with tab_table:
        _tables(tr, view, band, age, service)
    if tab_map.open is not False:
        with tab_map:
            _choropleth(tr, view, service, band, age, countries)
    with tab_gaps:
        _gaps(tr, view, service, band, age, countries)
