"""`fold` (free-text and place matching) on ASCII and non-ASCII text."""

from __future__ import annotations

import unicodedata

import pytest

from rcm_map.core.text import _SPACE, fold


def reference_fold(text: str) -> str:
    """The definition: NFKD, drop every combining mark, casefold, collapse punctuation."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE.sub(" ", bare.casefold()).strip()


@pytest.mark.parametrize("text", [
    "  Tecún  Umán (Ayutla) ", "Ciudad de Guatemala", "SAN PEDRO SULA", "Niñez-Adolescencia",
    "Straße", "ǅemal", "ﬁnca", "Ⅻ", "x\u0301\u0327", "İstanbul", "ΣΑΣ ς", "\u1e9e",
    "한국어", "e\u0345", "Ñandú", "Montréal, QC", "", "  ", "a\tb\nc", "O’Higgins",
])
def test_fold_matches_its_definition(text: str) -> None:
    assert fold(text) == reference_fold(text)


def test_fold_examples() -> None:
    assert fold("  Tecún  Umán (Ayutla) ") == "tecun uman ayutla"
    assert fold("STRASSE Straße") == "strasse strasse"
