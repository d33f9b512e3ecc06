"""Read the result cards (st.html elements) of an AppTest run."""

from __future__ import annotations

import html
import re
from typing import Any

CARD = re.compile(r'data-rcm-kind="(\w+)".*?<strong class="rcm-card-name">(.*?)</strong>', re.S)


def cards_of(at: Any, kind: str = "result") -> list[str]:
    """Names on the cards of one list (result, beyond, countrywide), in order."""
    found = [CARD.search(h.proto.body) for h in at.get("html")]
    return [html.unescape(m.group(2)) for m in found if m and m.group(1) == kind]
