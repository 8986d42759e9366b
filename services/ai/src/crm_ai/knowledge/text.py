"""Text as documents give it: what PostgreSQL cannot store taken out, and the language a
document is written in."""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def printable(text: str) -> str:
    """The text without U+0000, lone surrogates and other control characters (a PDF's or an
    export's debris), which PostgreSQL text cannot hold or nobody reads; newlines and tabs stay."""
    return _UNPRINTABLE.sub("", text)


# -- language -----------------------------------------------------------------------------------

_THAI = re.compile(r"[\u0E00-\u0E7F]")
_JAPANESE = re.compile(r"[\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")


def detect_language(text: str) -> str:
    """The script most of the letters are in: `th`, `ja` or `en` (the school's three languages).

    A Latin word takes about twice the characters of the same word in Thai and four times a
    Japanese one, so Latin letters count half: a Thai page quoting English course names is Thai.
    """
    thai = len(_THAI.findall(text))
    japanese = len(_JAPANESE.findall(text)) * 2
    latin = len(_LATIN.findall(text)) / 2
    best = max(thai, japanese, latin)
    if best == 0 or best == latin:
        return "en"
    return "th" if thai >= japanese else "ja"
