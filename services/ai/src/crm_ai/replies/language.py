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


_LATIN = re.compile(r"[A-Za-z]")
# Thai letters without the marks written above and below them (vowels, tones, ์), which would
# otherwise make a Thai word count for more than a Latin one of the same length.
_THAI_LETTER = re.compile(r"[\u0E01-\u0E30\u0E32\u0E33\u0E40-\u0E46]")
# Share of an answer's letters that must be in the customer's script: product names and
# brand words in another script are normal ("คอร์ส Sushi Masterclass ราคา ...").
MIN_SHARE = 0.3


def written_in(text: str, language: str) -> bool:
    """Whether `text` is written in `language` (`th`, `ja` or `en`), judged by its letters."""
    thai = len(_THAI_LETTER.findall(text))
    japanese = len(_KANA.findall(text)) + len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    letters = thai + japanese + latin
    if not letters:
        return True  # only digits, emoji or punctuation: nothing to judge
    if language == "th":
        return thai / letters >= MIN_SHARE
    if language == "ja":
        # Japanese needs kana (kanji alone reads as Chinese) unless the answer is very short.
        return japanese / letters >= MIN_SHARE and (len(_KANA.findall(text)) > 0 or japanese < 6)
    return (thai + japanese) / letters < MIN_SHARE
