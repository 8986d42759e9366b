"""Which language to answer in, from the script of the customer's text."""

from __future__ import annotations

import re

_THAI = re.compile(r"[\u0E00-\u0E7F]")
_KANA = re.compile(r"[\u3040-\u30FF]")
_CJK = re.compile(r"[\u4E00-\u9FFF]")


def detect_language(text: str) -> str:
    """`th`, `ja` or `en` (the school's three languages; anything else is answered in English)."""
    if _THAI.search(text):
        return "th"
    if _KANA.search(text) or _CJK.search(text):
        return "ja"
    return "en"
