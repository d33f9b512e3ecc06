"""Shared UI helpers: the registry reader, cached loaders, the session's translator,
the sidebar.

The store and the registry reader (`rcm_map.store.reading`) are one per server
process (``st.cache_resource``), shared by every session; the reader rebuilds its
whole-registry views when the registry changes (file stamp or database version,
checked on each rerun). The gazetteer and the boundary payloads are read once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from rcm_map.core import i18n
from rcm_map.registry.model import Registry, RegistryError, default_registry_path
from rcm_map.store import StoreUnavailable, database_url
from rcm_map.store.reading import FileReader, RegistryReader, open_reader
from rcm_map.ui import session

LANG_KEY = "lang"
LANG_WIDGET = "lang_choice"
T = TypeVar("T")


def _config() -> tuple[str, str]:
    """(database URL or "", registry file): the source of truth this process uses."""
    return (database_url() or "", str(default_registry_path()))


@st.cache_resource(show_spinner=False)
def _cached_reader(url: str, registry: str) -> RegistryReader:
    if url:  # reads share the focal points' store and its connection pool
        return open_reader(store=session.cached_store(url, registry))
    return FileReader(registry)


def reader() -> RegistryReader:
    """Where this process reads the public registry: PostGIS when a database URL is
    configured (the GeoJSON file is then never read), else the registry file."""
    return _cached_reader(*_config())


def place_finder() -> Any:
    """The place finder ranked with the services of the registry in use (its
    reader's points: the database's when one is configured, never the file then)."""
    from rcm_map.search.placefinder import finder_of

    return finder_of(reader())


@st.cache_resource(show_spinner=False)
def _startup_cleanup(path: str) -> int:
    """Remove temporary files of interrupted writes, once per server process."""
    from rcm_map.core.files import backup_dir, clean_temp_files

    file = Path(path)
    folders = (file.parent, backup_dir(file))
    return sum(len(clean_temp_files(d)) for d in folders if d.is_dir())


def registry_changed() -> None:
    """Forget the views of the registry after this process changed it."""
    try:
        reader().forget()
    except StoreUnavailable:
        pass  # nothing cached can be trusted less than it already is


def database_unavailable(tr: i18n.Translator) -> None:
    """Say the database is unreachable (no server detail: visitors are anonymous)."""
    st.error(tr.t("error.database"), icon=":material/cloud_off:")


def guarded(tr: i18n.Translator, read: Callable[[], T]) -> T:
    """Run a read; when the database is unreachable say so and stop the page."""
    try:
        return read()
    except StoreUnavailable:
        database_unavailable(tr)
        st.stop()
        raise  # unreachable: st.stop() raises


def read_source(tr: i18n.Translator) -> RegistryReader:
    """The registry reader, checked for this rerun, or stop the page with the reason.

    The start-up health check: the registry file loads and validates (else its
    health report), or the database answers (else a plain message).
    """
    if not registry_health_panel(tr):
        st.stop()
    return reader()


def registry(tr: i18n.Translator) -> Registry:
    """The whole public registry in use, or stop the page with the reason."""
    return guarded(tr, read_source(tr).registry)


def registry_health_panel(tr: i18n.Translator) -> bool:
    """True when the registry can be read; else show why and return False."""
    path = _config()[1]
    try:
        source = reader()
        if isinstance(source, FileReader):
            _startup_cleanup(path)
            source.registry()
        else:
            source.stamp()  # the database answers and holds the schema
    except StoreUnavailable:
        database_unavailable(tr)
        return False
    except RegistryError:
        show_registry_health(tr, Path(path))
        return False
    restored_notice(tr)
    return True


_RESTORE_CONFIRM = "rcm_restore_confirm"
_RESTORED = "rcm_restored_from"


def show_registry_health(tr: i18n.Translator, path: Path) -> None:
    """What is wrong with the registry file, as plain text, and (for a signed-in focal
    point) the last good backup to restore after confirmation. Nothing is restored
    without a person's decision."""
    from rcm_map.registry.recovery import check_registry_health
    from rcm_map.ui.session import current_user

    health = check_registry_health(path)
    user = current_user()
    if user is None:  # anonymous: no file names, values or paths (issue 12)
        st.error(tr.t("health.repairing"))
        if health.last_good_backup is not None:
            st.caption(tr.t("health.sign_in_to_restore"))
        return
    st.error(tr.t("error.registry", path=path.name))
    st.text(health.redacted_summary())  # st.text: issue lines quote file content literally
    backup = health.last_good_backup
    if backup is None:
        st.warning(tr.t("health.no_backup"))
        return
    st.info(tr.t("health.backup_found", backup=backup.name))
    if not st.session_state.get(_RESTORE_CONFIRM):
        if st.button(tr.t("health.restore"), key="rcm_restore_start"):
            st.session_state[_RESTORE_CONFIRM] = str(backup)
            st.rerun()
        return
    st.warning(tr.t("health.confirm", backup=backup.name, path=path.name))
    yes, no = st.columns(2)
    if no.button(tr.t("health.cancel"), key="rcm_restore_cancel"):
        st.session_state.pop(_RESTORE_CONFIRM, None)
        st.rerun()
    if yes.button(tr.t("health.confirm_button"), type="primary", key="rcm_restore_yes"):
        _restore(path, backup, st.session_state.pop(_RESTORE_CONFIRM, None))


def _restore(path: Path, backup: Path, confirmed: str | None) -> None:
    from rcm_map.core.files import restore_backup

    if confirmed != str(backup):
        st.rerun()  # a newer backup appeared since the confirmation: ask again
    restore_backup(backup, path)  # keeps the damaged file as a backup too
    registry_changed()
    st.session_state[_RESTORED] = backup.name
    st.rerun()


def restored_notice(tr: i18n.Translator) -> None:
    """Say once, after the rerun, which backup was put back."""
    name = st.session_state.pop(_RESTORED, None)
    if name:
        st.success(tr.t("health.restored", backup=name))


@st.cache_resource(show_spinner=False)
def gazetteer() -> Any | None:
    """The bundled gazetteer, or None when its data file cannot be read."""
    from rcm_map.search.gazetteer import default_gazetteer

    try:
        return default_gazetteer()
    except (OSError, ValueError):
        return None


@st.cache_resource(show_spinner=False)
def admin1_frame() -> Any | None:
    """Admin-1 boundaries as a GeoDataFrame, or None when not installed."""
    try:
        from rcm_map.core.boundaries import load_admin1

        return load_admin1()
    except (OSError, ValueError):  # the data file is missing or unreadable
        return None


@st.cache_resource(show_spinner=False, max_entries=64)
def admin1_outlines(countries: tuple[str, ...], lang: str) -> dict[str, Any] | None:
    """Simplified admin-1 outlines of the countries (all when none), for the search and
    coverage maps; built once per (countries, language) and never mutated."""
    frame = admin1_frame()
    if frame is None:
        return None
    from rcm_map.render.mapping import boundaries_payload

    if countries:
        frame = frame[frame["country_iso3"].isin(countries)]
    return boundaries_payload(frame, lang)


def _header(name: str) -> str | None:
    try:
        return st.context.headers.get(name)
    except (AttributeError, RuntimeError):
        return None


def _locale() -> str | None:
    try:
        return st.context.locale
    except (AttributeError, RuntimeError):
        return None


def session_language() -> str:
    """The language of this session: ?lang=, an earlier choice, the browser's, or es."""
    requested = st.query_params.get("lang")
    if isinstance(requested, str) and requested in i18n.LANGUAGES:
        lang = requested
    elif st.session_state.get(LANG_KEY) in i18n.LANGUAGES:
        lang = st.session_state[LANG_KEY]
    else:
        lang = i18n.negotiate_language(None, _header("Accept-Language"), _locale())
    st.session_state[LANG_KEY] = lang
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang


def translator() -> i18n.Translator:
    """The session's translator (one per session, never installed globally)."""
    lang = st.session_state.get(LANG_KEY) or session_language()
    current = st.session_state.get("_translator")
    if not isinstance(current, i18n.Translator) or current.lang != lang:
        current = i18n.Translator(lang)
        st.session_state["_translator"] = current
    return current


def start_session() -> i18n.Translator:
    """Settle the session language for this run and return its translator."""
    session_language()
    return translator()


def _on_language_change() -> None:
    lang = st.session_state.get(LANG_WIDGET)
    if lang in i18n.LANGUAGES:
        st.session_state[LANG_KEY] = lang
        st.query_params["lang"] = lang


def page_language_script(lang: str) -> str:
    """A script setting ``<html lang>`` to the interface language, so screen readers
    pronounce and browsers hyphenate and offer translation correctly."""
    if lang not in i18n.LANGUAGES:
        raise ValueError(f"Expected a language in {i18n.LANGUAGES!r}, instead got: {lang!r}.")
    return f"<script>document.documentElement.lang = {json.dumps(lang)};</script>"


def language_selector(tr: i18n.Translator) -> None:
    """The language picker in the sidebar (names in their own language); also sets
    the page's ``lang`` attribute."""
    with st.sidebar:
        st.html(page_language_script(tr.lang), unsafe_allow_javascript=True)
    if st.session_state.get(LANG_WIDGET) != tr.lang:  # written only when it differs: a
        st.session_state[LANG_WIDGET] = tr.lang  # written value is re-applied on each run
    st.sidebar.selectbox(
        tr.t("sidebar.language"),
        options=list(i18n.LANGUAGES),
        format_func=lambda code: i18n.LANGUAGE_NAMES[code],
        key=LANG_WIDGET,
        on_change=_on_language_change,
    )


def sidebar_footer(tr: i18n.Translator) -> None:
    """Short, always-visible reminder and credit."""
    st.sidebar.caption(tr.t("sidebar.verify"))
    st.sidebar.caption(tr.t("about.geonames_credit"))
    st.sidebar.caption(tr.t("about.natural_earth"))
