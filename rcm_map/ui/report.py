"""The "report a problem" widget shown under a service (public, no sign-in).

Call `report_problem_widget(service_id)` where a caseworker looks at one service.
Reports hold the service id, a kind and a short comment: no name, contact or data
about the child, and the widget says so.
"""

from __future__ import annotations

import threading

import streamlit as st

from rcm_map.core.i18n import Translator
from rcm_map.store import Store, StoreError
from rcm_map.store.base import MAX_REPORT_COMMENT, REPORT_KINDS
from rcm_map.store.throttle import Throttle
from rcm_map.ui import common
from rcm_map.ui.session import client_address

MAX_REPORTS_PER_CLIENT = 10  # per client address per hour, across sessions
MAX_REPORTS_PER_SERVICE = 10  # per service per hour, whoever sends them
MAX_REPORTS_PER_HOUR = 200  # all reports of this server per hour
REPORT_WINDOW_S = 3600
MAX_COMMENT_CHARS = min(500, MAX_REPORT_COMMENT)  # a short note, not a case file


def _translator(lang: str | None) -> Translator:
    tr = common.translator()
    return tr if lang is None or lang == tr.lang else Translator(lang)


def report_problem_widget(service_id: str, store: Store | None = None,
                          lang: str | None = None) -> None:
    """An expander with a small form to flag a listing as wrong or closed.

    Parameters
    ----------
    service_id : str
        The service reported on (the only link between a report and the registry).
    store : Store, optional
        Where reports go; default the app's shared store.
    lang : str, optional
        Language of the widget; default the session's.
    """
    tr = _translator(lang)
    if store is None:
        from rcm_map.ui.session import shared_store

        store = shared_store()
    with st.expander(tr.t("report.title")):
        st.caption(tr.t("report.privacy"))
        with st.form(key=f"rcm_report_{service_id}", clear_on_submit=True):
            kind = st.selectbox(tr.t("report.kind"), list(REPORT_KINDS),
                                format_func=lambda code: tr.label("report_kind", code))
            comment = st.text_area(tr.t("report.comment"), max_chars=MAX_COMMENT_CHARS,
                                   help=tr.t("report.comment_help"))
            submitted = st.form_submit_button(tr.t("report.send"))
        if not submitted:
            return
        if not _allowed(service_id):
            st.warning(tr.t("report.too_many"))
            return
        try:
            store.report_problem(service_id, kind, comment)
        except StoreError as exc:
            st.error(tr.t("report.failed"))
            st.text(str(exc))
            return
        st.success(tr.t("report.thanks"))


@st.cache_resource(show_spinner=False)
def report_throttles() -> tuple[Throttle, Throttle, Throttle]:
    """Reports per client address, per service and in all, shared by every session.

    Issue 12: the limit lived in the session, so three sessions stored 30 reports.
    """
    return (Throttle(MAX_REPORTS_PER_CLIENT, REPORT_WINDOW_S),
            Throttle(MAX_REPORTS_PER_SERVICE, REPORT_WINDOW_S),
            Throttle(MAX_REPORTS_PER_HOUR, REPORT_WINDOW_S))


_REPORT_LOCK = threading.Lock()


def _allowed(service_id: str) -> bool:
    """Count one report unless a limit is reached (checked and counted under one lock)."""
    per_client, per_service, overall = report_throttles()
    client = client_address()
    gates = [(per_service, [f"service:{service_id}"]), (overall, ["all"])]
    if client:
        gates.append((per_client, [f"client:{client}"]))
    with _REPORT_LOCK:
        if any(gate.retry_after(keys) > 0 for gate, keys in gates):
            return False
        for gate, keys in gates:
            gate.record(keys)
    return True


__all__ = ["report_problem_widget"]
