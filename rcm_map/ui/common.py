"""Shared UI helpers: cached loaders, the session's translator, the sidebar.

Loaders use ``st.cache_resource``: the registry, the gazetteer and the boundary
payloads are read once per server process and shared read-only by every session.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rcm_map import i18n
from rcm_map.registry import Registry, RegistryError, default_registry_path, load_registry

LANG_KEY = "lang"
LANG_WIDGET = "lang_choice"


@st.cache_resource(show_spinner=False)
def _registry(path: str) -> Registry:
    return load_registry(path)


def registry(tr: i18n.Translator) -> Registry:
    """The registry in use, or stop the page with a clear message."""
    path = default_registry_path()
    try:
        return _registry(str(path))
    except RegistryError as exc:
        st.error(tr.t("error.registry", path=path.name))
        st.text("\n".join(str(i) for i in exc.issues[:20]))
        st.stop()
        raise  # unreachable: st.stop() raises


@st.cache_resource(show_spinner=False)
def gazetteer() -> Any | None:
    """The bundled gazetteer, or None when it is not installed."""
    try:
        from rcm_map.gazetteer import default_gazetteer
    except ImportError:
        return None
    try:
        return default_gazetteer()
    except (OSError, ValueError):
        return None


@st.cache_resource(show_spinner=False)
def admin1_frame() -> Any | None:
    """Admin-1 boundaries as a GeoDataFrame, or None when not installed."""
    try:
        from rcm_map.boundaries import load_admin1

        return load_admin1()
    except (ImportError, OSError, ValueError):
        return None


@st.cache_resource(show_spinner=False)
def boundaries_payload(lang: str) -> dict[str, Any] | None:
    """Simplified admin-1 outlines for the results map (built once per language)."""
    frame = admin1_frame()
    if frame is None:
        return None
    from rcm_map.mapping import boundaries_payload as build

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
