"""Text folding shared by search features (gazetteer, free-text filter)."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"[\s\-_.,;:/()'\"’]+")


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse punctuation to single spaces.

    >>> fold("  Tecún  Umán (Ayutla) ")
    'tecun uman ayutla'
    """
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE.sub(" ", bare.casefold()).strip()
