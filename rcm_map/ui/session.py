"""Per-process and per-session state of the pages: the shared store and the
signed-in focal point. Used by every page; imports no page module.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rcm_map.store import Store, auth, database_url, open_store

SESSION_USER = "rcm_focal_point"


def shared_store() -> Store:
    """One store per server process and configuration (PostGIS when
    RCM_MAP_DATABASE_URL is set, else the registry file in use)."""
    from rcm_map.registry.model import default_registry_path

    return cached_store(database_url() or "", str(default_registry_path()))


def _close(store: Store) -> None:
    store.close()


@st.cache_resource(show_spinner=False, on_release=_close)
def cached_store(url: str, registry: str) -> Store:
    """The store of a configuration, opened once per process (the registry reader of
    `common` shares it). Not cached when opening fails (database down): the next
    rerun tries again."""
    return open_store(url or None, registry=registry)


def secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, KeyError, AttributeError):
        return {}


def oidc_configured() -> bool:
    return bool(secrets().get("auth"))


def current_user() -> auth.FocalPoint | None:
    """The signed-in focal point of this session, or None."""
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        return auth.user_from_oidc(st.user.to_dict(), secrets())
    user = st.session_state.get(SESSION_USER)
    return user if isinstance(user, auth.FocalPoint) else None


def client_address() -> str | None:
    """The client's address as Streamlit sees it (the proxy's, behind one), or None.

    Keys the server-side limits of sign-ins and problem reports; never logged.
    """
    return getattr(st.context, "ip_address", None) or None
