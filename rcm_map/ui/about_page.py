"""About page: what the registry is, verify before referral, sources, privacy."""

from __future__ import annotations

import streamlit as st

from rcm_map.store.reading import FileReader
from rcm_map.ui import common


def render() -> None:
    """The about page (every sentence comes from the catalogue)."""
    tr = common.translator()
    source = common.read_source(tr)
    count = common.guarded(tr, source.count)
    st.title(tr.t("about.title"))
    st.markdown(tr.t("about.what"))
    st.metric(tr.t("about.services_count"), count)
    st.caption(tr.t("about.file", name=source.describe()) if isinstance(source, FileReader)
               else tr.t("about.database"))
    st.error(tr.t("about.verify"), icon=":material/warning:")
    st.subheader(tr.t("about.sources_title"))
    st.markdown(tr.t("about.sources"))
    st.markdown("- " + tr.t("about.geonames_credit") + "\n- " + tr.t("about.natural_earth")
                + "\n- " + tr.t("about.osm"))
    st.subheader(tr.t("about.privacy_title"))
    st.markdown(tr.t("about.privacy"))
    st.subheader(tr.t("about.confidential_title"))
    st.markdown(tr.t("about.confidential"))
