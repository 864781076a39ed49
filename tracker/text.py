"""Vietnamese text helpers: search must work with and without diacritics."""
from __future__ import annotations

import unicodedata

_EXTRA = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """Lower-case ASCII form: "Lò Văn Việt" → "lo van viet"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def nfc(text: str) -> str:
    """The composed (NFC) form phones and spreadsheets do not always send."""
    return unicodedata.normalize("NFC", text)
