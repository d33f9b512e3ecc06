"""Shared UI helpers: cached loaders, the session's translator, the sidebar.

Loaders use ``st.cache_resource``: the registry, the gazetteer and the boundary
payloads are read once per server process and shared read-only by every session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from rcm_map.core import i18n
from rcm_map.registry import load_registry
from rcm_map.registry.model import Registry, RegistryError, default_registry_path

LANG_KEY = "lang"
LANG_WIDGET = "lang_choice"


@st.cache_resource(show_spinner=False, max_entries=2)
def _registry(path: str, stamp: tuple[int, int]) -> Registry:
    # `stamp` (mtime, size) is only part of the key: an update applied by a focal
    # point, or a restored backup, is picked up on the next run of every session.
    return load_registry(path)


@st.cache_resource(show_spinner=False)
def _startup_cleanup(path: str) -> int:
    """Remove temporary files of interrupted writes, once per server process."""
    from rcm_map.core.files import backup_dir, clean_temp_files

    file = Path(path)
    folders = (file.parent, backup_dir(file))
    return sum(len(clean_temp_files(d)) for d in folders if d.is_dir())


def _stamp(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (0, -1)
    return (info.st_mtime_ns, info.st_size)


def _load(path: Path) -> Registry:
    _startup_cleanup(str(path))
    return _registry(str(path), _stamp(path))


def registry_changed() -> None:
    """Forget the loaded registry after this process changed the file."""
    _registry.clear()


def registry(tr: i18n.Translator) -> Registry:
    """The registry in use, or stop the page with its health report."""
    path = default_registry_path()
    try:
        reg = _load(path)
    except RegistryError:
        show_registry_health(tr, path)
        st.stop()
        raise  # unreachable: st.stop() raises
    restored_notice(tr)
    return reg


def registry_health_panel(tr: i18n.Translator) -> bool:
    """True when the registry loads; else show its health report and return False."""
    path = default_registry_path()
    try:
        _load(path)
    except RegistryError:
        show_registry_health(tr, path)
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
    st.error(tr.t("error.registry", path=path.name))
    st.text(health.summary())  # st.text: issue lines quote file content literally
    backup = health.last_good_backup
    if backup is None:
        st.warning(tr.t("health.no_backup"))
        return
    st.info(tr.t("health.backup_found", backup=backup.name))
    user = current_user()
    if user is None:
        st.caption(tr.t("health.sign_in_to_restore"))
        return
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


@st.cache_resource(show_spinner=False)
def boundaries_payload(lang: str) -> dict[str, Any] | None:
    """Simplified admin-1 outlines for the results map (built once per language)."""
    frame = admin1_frame()
    if frame is None:
        return None
    from rcm_map.render.mapping import boundaries_payload as build

    return build(frame, lang)


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


def language_selector(tr: i18n.Translator) -> None:
    """The language picker in the sidebar (names in their own language)."""
    st.session_state[LANG_WIDGET] = tr.lang
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
