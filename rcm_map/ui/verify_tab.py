"""The Focal points page's "Verify" tab: the verification queue and "Mark verified".

Widgets only: the queue comes from `rcm_map.store.verification`, the wording of
each entry's status from `rcm_map.core.freshness`, and marking goes through
`Store.mark_verified`, which records a "verify" change in the history.
"""

from __future__ import annotations

import streamlit as st

from rcm_map.core.freshness import freshness_text
from rcm_map.core.i18n import Translator
from rcm_map.store import Store, StoreError, auth
from rcm_map.store.verification import verification_queue
from rcm_map.ui import common

QUEUE_SHOWN = 30  # the head of the queue; the picker offers every entry


def verify_tab(tr: Translator, store: Store, user: auth.FocalPoint) -> None:
    """The queue of the focal point's country, most urgent first, and the verify form."""
    st.caption(tr.t("admin.verify_intro"))
    stored = {s.id: s for s in store.all_features(user.country)}
    queue = verification_queue([s.feature for s in stored.values()])
    if not queue:
        st.success(tr.t("admin.verify_none"))
        return
    st.markdown(tr.plural("admin.verify_count", len(queue)))
    lines = [f"{n}. {item.name}{', ' + item.city if item.city else ''} · "
             f"{tr.t('admin.tier_' + item.tier)} · "
             f"{freshness_text(stored[item.service_id].feature['properties'], tr)}"
             for n, item in enumerate(queue[:QUEUE_SHOWN], start=1)]
    st.code("\n".join(lines), language=None)  # text, never HTML
    ids = [item.service_id for item in queue]
    names = {item.service_id: item.name for item in queue}
    chosen = st.selectbox(tr.t("admin.verify_pick"), ids, format_func=names.__getitem__,
                          key="rcm_verify_pick")
    confirmed = st.checkbox(tr.t("admin.verify_confirm"), key="rcm_verify_confirm")
    if st.button(tr.t("admin.verify_button"), type="primary", disabled=not confirmed,
                 key="rcm_verify_button") and chosen:
        try:
            version = store.mark_verified(chosen, user.label, stored[chosen].version)
        except StoreError as exc:
            st.error(tr.t("admin.verify_failed"))
            st.text(str(exc))
            return
        common.registry_changed()
        st.success(tr.t("admin.verify_done", version=version))
