"""rcm_map: map of protection services for migrant children (router only).

Run with ``make run`` (or ``streamlit run app.py``). Pages live in rcm_map/ui/.
"""

import streamlit as st

from rcm_map.ui import about_page, admin, common, coverage_page, search_page

tr = common.start_session()
st.set_page_config(page_title=tr.t("app.title"), layout="wide")
common.language_selector(tr)
navigation = st.navigation([
    st.Page(search_page.render, title=tr.t("nav.search"),
            url_path="search", default=True),
    st.Page(coverage_page.render, title=tr.t("nav.coverage"),
            url_path="coverage"),
    st.Page(about_page.render, title=tr.t("nav.about"),
            url_path="about"),
    st.Page(admin.admin_page, title=tr.t("nav.admin"),
            url_path="admin"),
])
common.sidebar_footer(tr)
navigation.run()
