"""The Focal points page as a signed-in focal point, for AppTests of tests/app and
tests/store: Ana, focal point of MEX, signs in with the password form (no OIDC)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from rcm_map.store.auth import hash_password

PASSWORD = "long password 1"
ADMIN_PAGE = """
from rcm_map.ui import common
from rcm_map.ui.admin import admin_page
common.start_session()
admin_page()
"""


def focal_point_app(script: str = ADMIN_PAGE, lang: str = "es") -> AppTest:
    """`script` (default the Focal points page) with Ana (MEX) in its secrets, not run yet."""
    at = AppTest.from_string(script, default_timeout=60)
    at.secrets["focal_points"] = {"ana": {"country": "MEX",
                                          "password_hash": hash_password(PASSWORD)}}
    at.query_params["lang"] = lang
    return at


def signed_in(lang: str = "es") -> AppTest:
    """The Focal points page after Ana signed in (no exception on the way)."""
    at = focal_point_app(ADMIN_PAGE, lang).run()
    at.text_input[0].input("ana")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at
