"""Focal-point pages: sign in, upload a country update with preview and confirm,
history with restore, and the open problem reports of their country.

Widgets only; the logic lives in rcm_map.auth and rcm_map.store. Wire it in app.py
as `st.Page(admin_page, title="Focal points", url_path="admin")`.
"""

from __future__ import annotations

import os
import time
from typing import Any

import streamlit as st

from rcm_map import auth
from rcm_map.store import ConflictError, Store, StoreError, UpdateRejected, open_store
from rcm_map.store.cli_support import diff_lines, history_lines, read_update

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_LOGIN_FAILURES = 5
_SESSION_USER = "rcm_focal_point"


def shared_store() -> Store:
    """One store per server process and configuration (PostGIS when
    RCM_MAP_DATABASE_URL is set, else the registry file in use)."""
    from rcm_map.registry import default_registry_path

    return _cached_store(os.environ.get("RCM_MAP_DATABASE_URL", ""), str(default_registry_path()))


@st.cache_resource(show_spinner=False)
def _cached_store(url: str, registry: str) -> Store:
    return open_store(url or None, registry=registry)


def _secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, KeyError, AttributeError):
        return {}


def _oidc_configured() -> bool:
    return bool(_secrets().get("auth"))


def current_user() -> auth.FocalPoint | None:
    """The signed-in focal point of this session, or None."""
    if _oidc_configured() and getattr(st.user, "is_logged_in", False):
        return auth.user_from_oidc(st.user.to_dict(), _secrets())
    user = st.session_state.get(_SESSION_USER)
    return user if isinstance(user, auth.FocalPoint) else None


def _login_form() -> None:
    if _oidc_configured():
        if getattr(st.user, "is_logged_in", False):
            st.error("This account is not registered as a focal point.")
            st.button("Sign out", on_click=st.logout)
        else:
            st.button("Sign in", on_click=st.login, type="primary")
        return
    failures = st.session_state.get("rcm_login_failures", 0)
    if failures >= MAX_LOGIN_FAILURES:
        st.error("Too many failed attempts; reload the page later.")
        return
    with st.form("focal_point_login"):
        username = st.text_input("User")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            creds = auth.load_credentials(_secrets())
        except auth.AuthError as exc:
            st.error(f"Sign-in is misconfigured: {exc}")
            return
        user = auth.authenticate(creds, username, password)
        if user is None:
            st.session_state["rcm_login_failures"] = failures + 1
            time.sleep(1.0)  # slows guessing; the hash already costs ~50 ms
            st.error("Wrong user or password.")
            return
        st.session_state[_SESSION_USER] = user
        st.rerun()


def _sign_out() -> None:
    if _oidc_configured():
        st.logout()
    st.session_state.pop(_SESSION_USER, None)


def _upload_tab(store: Store, user: auth.FocalPoint) -> None:
    st.write(f"Upload the complete list of services of **{user.country}** (CSV or GeoJSON). "
             "Services missing from the file will be removed.")
    upload = st.file_uploader("Country file", type=["csv", "geojson", "json"],
                              key="rcm_admin_upload")
    if upload is None:
        return
    if upload.size > MAX_UPLOAD_BYTES:
        st.error(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        return
    features, issues = read_update(upload.name, upload.getvalue(), MAX_UPLOAD_BYTES)
    blocking = [i for i in issues if i.severity == "error"]
    if blocking:
        st.error(f"{len(blocking)} problems; nothing will be changed:")
        st.code("\n".join(str(i) for i in blocking[:200]), language=None)
        return
    try:
        diff = store.preview_update(user.country, features, file=upload.name)
    except UpdateRejected as exc:
        st.error(f"{len(exc.issues)} problems; nothing will be changed:")
        st.code("\n".join(str(i) for i in exc.issues[:200]), language=None)
        return
    st.subheader("Preview")
    st.code("\n".join(diff_lines(diff)), language=None)  # st.code shows text, never HTML
    if diff.is_empty:
        st.info("Nothing would change.")
        return
    if st.button("Apply these changes", type="primary", key="rcm_admin_apply"):
        try:
            change_id = store.apply_update(diff, user.label, note=f"from {upload.name}")
        except ConflictError as exc:
            st.error(str(exc))
            return
        st.success(f"Applied as change #{change_id}.")


def _history_tab(store: Store, user: auth.FocalPoint) -> None:
    st.code("\n".join(history_lines(store, country=user.country, limit=30)) or "No changes yet.",
            language=None)
    change_id = st.number_input("Undo change #", min_value=1, step=1, value=None)
    if change_id and st.button("Undo this change", key="rcm_admin_undo"):
        try:
            auth.require_country(user, store.change(int(change_id)).country)
            new_id = store.restore(int(change_id), user.label)
        except (StoreError, auth.PermissionDenied) as exc:
            st.error(str(exc))
            return
        st.success(f"Restored as change #{new_id}.")


def _reports_tab(store: Store, user: auth.FocalPoint) -> None:
    reports = store.open_reports(user.country)
    if not reports:
        st.info("No open reports.")
        return
    for report in reports:
        with st.container(border=True):
            st.text(f"#{report.report_id} · {report.service_id} · {report.kind} · "
                    f"{report.created_at[:10]}")
            st.text(report.comment)  # st.text: the comment is shown literally
            note = st.text_input("Note", key=f"rcm_note_{report.report_id}", max_chars=500)
            if st.button("Mark resolved", key=f"rcm_resolve_{report.report_id}"):
                try:
                    store.resolve_report(report.report_id, user.label, note)
                except StoreError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()


def admin_page(store: Store | None = None) -> None:
    """The focal-point page: sign in, then update, history and reports tabs."""
    st.header("Focal points")
    user = current_user()
    if user is None:
        _login_form()
        return
    store = store or shared_store()
    st.caption(f"Signed in as {user.username} · {user.country}")
    st.button("Sign out", on_click=_sign_out, key="rcm_sign_out")
    upload, history, reports = st.tabs(["Update", "History", "Reports"])
    with upload:
        _upload_tab(store, user)
    with history:
        _history_tab(store, user)
    with reports:
        _reports_tab(store, user)
