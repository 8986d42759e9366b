"""Money amounts and percentages stated in a text, for the guard that stops invented prices.

An amount is a number next to a currency (฿ 12,900 / 12,900 บาท / THB 12900 / 12900 baht /
1.2万バーツ is not handled) or near a price word (ราคา 12900, price: 12,900, ค่าเรียน 4500), or any
number written with thousands separators (12,900). Thai digits count as digits. A percentage is a
number before %, เปอร์เซ็นต์ or percent. Small counts ("3 ครั้ง", "2 hours") are not amounts.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CURRENCY_AFTER = r"(?:บาท|฿|thb|baht|bht|\.-|-\s*บาท|バーツ)"
_CURRENCY_BEFORE = r"(?:฿|thb)"
_PRICE_WORD = (
    r"(?:ราคา|ค่าเรียน|ค่าคอร์ส|ค่าใช้จ่าย|ลดเหลือ|เหลือ|เพียง|แค่|price[sd]?|costs?|fees?|only|total|"
    r"pay|deposit|มัดจำ|料金|価格|値段)"
)
_AFTER = re.compile(rf"(?P<n>{_NUMBER})\s*{_CURRENCY_AFTER}", re.IGNORECASE)
_BEFORE = re.compile(rf"{_CURRENCY_BEFORE}\s*(?P<n>{_NUMBER})", re.IGNORECASE)
_NEAR_WORD = re.compile(rf"{_PRICE_WORD}[^\d\n]{{0,15}}?(?P<n>{_NUMBER})", re.IGNORECASE)
_GROUPED = re.compile(r"(?<![\d.,])(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?)(?![\d,]*\s*%)")
_PERCENT = re.compile(rf"(?P<n>{_NUMBER})\s*(?:%|％|เปอร์เซ็นต์|เปอร์เซ็น|percent|per cent)", re.IGNORECASE)
_ANY_NUMBER = re.compile(_NUMBER)


def _value(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def _clean(text: str) -> str:
    return text.translate(_THAI_DIGITS)


def money(text: str) -> set[Decimal]:
    """The THB amounts the text states."""
    text = _clean(text)
    found: set[Decimal] = set()
    for pattern in (_AFTER, _BEFORE, _NEAR_WORD, _GROUPED):
        for match in pattern.finditer(text):
            value = _value(match.group("n"))
            if value is not None:
                found.add(value)
    return found - percentages(text)


def percentages(text: str) -> set[Decimal]:
    text = _clean(text)
    return {v for m in _PERCENT.finditer(text) if (v := _value(m.group("n"))) is not None}


def numbers(text: str) -> set[Decimal]:
    """Every number in the text (a passage may state a price without a currency word)."""
    return {v for m in _ANY_NUMBER.finditer(_clean(text)) if (v := _value(m.group(0))) is not None}


def same(a: Decimal, b: Decimal) -> bool:
    return a.normalize() == b.normalize()
