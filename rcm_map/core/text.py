"""Text folding shared by search features (gazetteer, free-text filter)."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"[\s\-_.,;:/()'\"’]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse punctuation to single spaces.

    >>> fold("  Tecún  Umán (Ayutla) ")
    'tecun uman ayutla'
    """
    text = str(text)
    if text.isascii():  # most values: no decomposition, no marks, casefold == lower
        return _SPACE.sub(" ", text.lower()).strip()
    # Combining marks are never ASCII: only the non-ASCII characters are checked
    # (2-3x faster than testing every character; bulk seeding folds millions).
    bare = _NON_ASCII.sub(_drop_combining, unicodedata.normalize("NFKD", text))
    return _SPACE.sub(" ", bare.casefold()).strip()


def _drop_combining(match: re.Match[str]) -> str:
    char = match.group()
    return "" if unicodedata.combining(char) else char
