"""The "report a problem" widget shown under a service (public, no sign-in).

Call `report_problem_widget(service_id)` inside a service's detail card. Reports
hold the service id, a kind and a short comment: no name, contact or data about
the child, and the widget says so.
"""

from __future__ import annotations

import streamlit as st

from rcm_map.store import Store, StoreError
from rcm_map.store.base import MAX_REPORT_COMMENT, REPORT_KINDS

MAX_REPORTS_PER_SESSION = 10


def report_problem_widget(service_id: str, store: Store | None = None, lang: str = "es") -> None:
    """An expander with a small form to flag a listing as wrong or closed."""
    if store is None:
        from rcm_map.ui.admin import shared_store

        store = shared_store()
    sent = st.session_state.setdefault("rcm_reports_sent", 0)
    with st.expander("Report a problem with this listing"):
        with st.form(f"rcm_report_{service_id}", clear_on_submit=True):
            kind = st.selectbox("What is wrong?", list(REPORT_KINDS),
                                format_func=lambda code: REPORT_KINDS[code].get(
                                    lang, REPORT_KINDS[code]["en"]))
            comment = st.text_area("Comment", max_chars=MAX_REPORT_COMMENT,
                                   help="Do not write names, contacts or anything about the "
                                        "child.")
            submitted = st.form_submit_button("Send report")
        if not submitted:
            return
        if sent >= MAX_REPORTS_PER_SESSION:
            st.warning("Thank you; you have sent many reports already.")
            return
        try:
            store.report_problem(service_id, kind, comment)
        except StoreError as exc:
            st.error(str(exc))
            return
        st.session_state["rcm_reports_sent"] = sent + 1
        st.success("Thank you. The focal point of the country will review it.")


__all__ = ["report_problem_widget"]
