"""Online street tiles: a deployment setting, off unless a user turns them on.

The map works offline with its own outlines and place names. A deployment may
name a tile server (`TILE_URL_ENV`, a ``{z}/{x}/{y}`` URL template, with its
attribution in `TILE_ATTRIBUTION_ENV`); users then see a toggle, off by
default, that says in one line what the tile server learns. Nothing here talks
to the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from rcm_map.core import settings
from rcm_map.core.settings import TILE_ATTRIBUTION_ENV, TILE_URL_ENV

_PLACEHOLDER = re.compile(r"\{(z|x|y|s|r)\}")


@dataclass(frozen=True)
class TileServer:
    """A tile server a deployment allows: URL template and attribution."""

    url: str
    attribution: str

    @property
    def host(self) -> str:
        """The server's host name, for the one-line privacy notice."""
        return urlsplit(self.url.replace("{s}", "a")).hostname or self.url


def validate_template(url: str) -> str:
    """Check a tile URL template: https (or http on localhost) with {z}, {x}, {y}.

    >>> validate_template("https://tile.example.org/{z}/{x}/{y}.png")
    'https://tile.example.org/{z}/{x}/{y}.png'
    """
    text = url.strip()
    parts = urlsplit(_PLACEHOLDER.sub("0", text))
    local = parts.hostname in ("localhost", "127.0.0.1")
    if not (parts.scheme == "https" or (parts.scheme == "http" and local)) or not parts.hostname:
        raise ValueError(f"{TILE_URL_ENV}: expected an https:// URL template, "
                         f"instead got: {url!r}.")
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in text]
    if missing:
        raise ValueError(f"{TILE_URL_ENV}: the template lacks {', '.join(missing)}, "
                         f"instead got: {url!r}.")
    return text


def tile_server(environ: Mapping[str, str] | None = None) -> TileServer | None:
    """The tile server this deployment allows, or None (offline only, the default).

    Raises ValueError naming the variable when the URL is malformed or set
    without an attribution.
    """
    url = settings.text(TILE_URL_ENV, environ)
    if not url:
        return None
    attribution = settings.text(TILE_ATTRIBUTION_ENV, environ)
    if not attribution:
        raise ValueError(f"{TILE_ATTRIBUTION_ENV}: required with {TILE_URL_ENV} "
                         f"(the tile provider's credit line), instead got: ''.")
    return TileServer(validate_template(url), attribution)
