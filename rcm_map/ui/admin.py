"""Focal-point page: sign in, upload a country update with preview and confirm,
the verification queue, history with restore, and the open problem reports.

Widgets only; the logic lives in rcm_map.store.auth, rcm_map.store and, for uploads,
rcm_map.store.importing (the same pipeline as `rcm-map import`). `app.py` wires it
as the "Focal points" page (url_path "admin"). Messages that come from the core
(validation issues, conflicts) are English one-liners naming file, row, field and
value; the page frames them in the session's language and shows them as text.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rcm_map.core.i18n import Translator
from rcm_map.store import ConflictError, Store, StoreError, auth
from rcm_map.store.base import REPORT_KINDS, Diff
from rcm_map.store.importing import (
    apply_country_update,
    diff_lines,
    history_lines,
    prepare_country_update,
)
from rcm_map.store.throttle import Throttle, login_keys
from rcm_map.ui import common, session
from rcm_map.ui.session import SESSION_USER, client_address, current_user, shared_store
from rcm_map.ui.verify_tab import verify_tab

DEFAULT_MAX_UPLOAD_MB = 20  # server.maxUploadSize in .streamlit/config.toml
MAX_UPDATE_FEATURES = 50_000  # one country's services; the largest has a few hundred
MAX_LOGIN_FAILURES = 5  # per user name in LOGIN_WINDOW_S, across all sessions
MAX_LOGIN_FAILURES_PER_CLIENT = 20  # per client address (an office may share one)
LOGIN_WINDOW_S = 15 * 60
MAX_ISSUES_SHOWN = 200


def max_upload_bytes() -> int:
    """The upload limit: Streamlit's server.maxUploadSize (MB), which the uploader enforces
    too; checked here again so a changed config cannot let a bigger file be parsed."""
    try:
        megabytes = int(st.get_option(key="server.maxUploadSize"))
    except (RuntimeError, TypeError, ValueError):
        megabytes = DEFAULT_MAX_UPLOAD_MB
    return megabytes * 1024 * 1024


def _login_form(tr: Translator) -> None:
    if session.oidc_configured():
        if getattr(st.user, "is_logged_in", False):
            st.error(tr.t("admin.not_registered"))
            st.button(tr.t("admin.sign_out"), on_click=st.logout)
        else:
            st.button(tr.t("admin.sign_in"), on_click=st.login, type="primary")
        return
    per_user, per_client = login_throttles()
    client = client_address()
    if client and per_client.retry_after(login_keys("", client)[1:]) > 0:
        st.error(tr.t("admin.too_many_attempts"))
        return
    with st.form(key="focal_point_login"):
        username = st.text_input(tr.t("admin.user"))
        password = st.text_input(tr.t("admin.password"), type="password")
        submitted = st.form_submit_button(tr.t("admin.sign_in"), type="primary")
    if submitted:
        try:
            creds = auth.load_credentials(session.secrets())
        except auth.AuthError as exc:
            _failed(tr, "admin.misconfigured", exc)
            return
        keys = login_keys(username, client)
        if per_user.retry_after(keys[:1]) > 0 or per_client.retry_after(keys[1:]) > 0:
            st.error(tr.t("admin.too_many_attempts"))  # checked before the hash is computed
            return
        user = auth.authenticate(creds, username, password)
        if user is None:  # counted on the server: no reload or new tab resets it
            per_user.record(keys[:1])
            per_client.record(keys[1:])
            st.error(tr.t("admin.wrong_credentials"))
            return
        per_user.forget(keys[:1])
        st.session_state[SESSION_USER] = user
        st.rerun()


@st.cache_resource(show_spinner=False)
def login_throttles() -> tuple[Throttle, Throttle]:
    """Failed sign-ins per user name and per client address, shared by all sessions."""
    return (Throttle(MAX_LOGIN_FAILURES, LOGIN_WINDOW_S),
            Throttle(MAX_LOGIN_FAILURES_PER_CLIENT, LOGIN_WINDOW_S))


def _sign_out() -> None:
    if session.oidc_configured():
        st.logout()
    st.session_state.pop(SESSION_USER, None)


def _failed(tr: Translator, key: str, exc: Exception) -> None:
    """A translated failure, then the core's one-line reason as plain text."""
    st.error(tr.t(key))
    st.text(str(exc))


def _show_problems(tr: Translator, issues: list[Any]) -> None:
    """Blocking issues: a translated count, then one plain-text line each."""
    st.error(tr.t("admin.problems", n=len(issues)))
    st.code("\n".join(str(i) for i in issues[:MAX_ISSUES_SHOWN]), language=None)


def _preview(tr: Translator, diff: Diff) -> None:
    st.subheader(tr.t("admin.preview"))
    st.markdown(tr.t("admin.preview_counts", added=len(diff.added), changed=len(diff.changed),
                     removed=len(diff.removed), unchanged=diff.unchanged))
    st.code("\n".join(diff_lines(diff, tr)[1:]) or "-", language=None)  # text, never HTML


def _upload_tab(tr: Translator, store: Store, user: auth.FocalPoint) -> None:
    st.markdown(tr.t("admin.upload_intro", country=tr.label("country", user.country)))
    limit = max_upload_bytes()
    upload = st.file_uploader(tr.t("admin.country_file"), type=["csv", "geojson", "json"],
                              key="rcm_admin_upload",
                              help=tr.t("admin.upload_limits", mb=limit // (1024 * 1024),
                                        n=f"{MAX_UPDATE_FEATURES:,}"))
    if upload is None:
        return
    if upload.size > limit:  # before reading the bytes into anything else
        st.error(tr.t("admin.too_large", file=upload.name, mb=limit // (1024 * 1024)))
        return
    update = prepare_country_update(store, user.country, upload, name=upload.name,
                                    max_bytes=limit, max_features=MAX_UPDATE_FEATURES)
    if update.diff is None:
        _show_problems(tr, update.problems)
        return
    diff = update.diff
    _preview(tr, diff)
    if diff.is_empty:
        st.info(tr.t("admin.nothing_to_change"))
        return
    if st.button(tr.t("admin.apply"), type="primary", key="rcm_admin_apply"):
        try:
            change_id = apply_country_update(store, update, user.label)
        except ConflictError as exc:
            _failed(tr, "admin.conflict", exc)
            return
        common.registry_changed()
        st.success(tr.t("admin.applied", id=change_id))


def _history_tab(tr: Translator, store: Store, user: auth.FocalPoint) -> None:
    lines = history_lines(store, tr, country=user.country, limit=30)
    if lines:
        st.code("\n".join(lines), language=None)
    else:
        st.info(tr.t("admin.no_changes"))
    change_id = st.number_input(tr.t("admin.undo_change"), min_value=1, step=1, value=None,
                                key="rcm_admin_undo_id")
    if change_id and st.button(tr.t("admin.undo"), key="rcm_admin_undo"):
        try:
            auth.require_countries(user, store.change(int(change_id)).countries)
            new_id = store.restore(int(change_id), user.label)
        except auth.PermissionDenied as exc:
            _failed(tr, "admin.other_country", exc)
            return
        except StoreError as exc:
            _failed(tr, "admin.undo_failed", exc)
            return
        common.registry_changed()
        st.success(tr.t("admin.restored", id=new_id))


def _report_kind(code: str, lang: str) -> str:
    labels = REPORT_KINDS.get(code)
    return labels.get(lang, labels["en"]) if labels else code


def _reports_tab(tr: Translator, store: Store, user: auth.FocalPoint) -> None:
    reports = store.open_reports(user.country)
    if not reports:
        st.info(tr.t("admin.no_reports"))
        return
    st.caption(tr.t("admin.reports_count", n=len(reports)))
    for report in reports:
        with st.container(border=True):
            st.text(f"#{report.report_id} · {report.service_id} · "
                    f"{_report_kind(report.kind, tr.lang)} · {report.created_at[:10]}")
            st.text(report.comment)  # st.text: the comment is shown literally
            note = st.text_input(tr.t("admin.note"), key=f"rcm_note_{report.report_id}",
                                 max_chars=500)
            if st.button(tr.t("admin.resolve"), key=f"rcm_resolve_{report.report_id}"):
                try:
                    store.resolve_report(report.report_id, user.label, note)
                except StoreError as exc:
                    _failed(tr, "admin.resolve_failed", exc)
                else:
                    st.rerun()


def admin_page(store: Store | None = None) -> None:
    """The focal-point page: sign in, then update, history and reports tabs."""
    tr = common.translator()
    st.header(tr.t("admin.title"))
    user = current_user()
    if user is None:
        st.caption(tr.t("admin.sign_in_intro"))
        _login_form(tr)
        return
    st.caption(tr.t("admin.signed_in", user=user.username, country=user.country))
    st.button(tr.t("admin.sign_out"), on_click=_sign_out, key="rcm_sign_out")
    if store is None and not common.registry_health_panel(tr):
        return  # a damaged registry file: the panel above offers the last good backup
    store = store or shared_store()
    upload, verify, history, reports = st.tabs(
        [tr.t("admin.tab_update"), tr.t("admin.tab_verify"), tr.t("admin.tab_history"),
         tr.t("admin.tab_reports")])
    with upload:
        _upload_tab(tr, store, user)
    with verify:
        verify_tab(tr, store, user)
    with history:
        _history_tab(tr, store, user)
    with reports:
        _reports_tab(tr, store, user)
