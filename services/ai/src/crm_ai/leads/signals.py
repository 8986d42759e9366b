"""What a customer's message says about their intent to buy, as signal codes, never as text.

Customers write fast, informal Messenger Thai ("ราคาเท่าไหร่คะ", "เทาไหร", "กี่ตัง", "ผ่อนได้มั้ย"),
English and sometimes Japanese. Each intent has a small lexicon; text and lexicon are normalised
the same way (lower case, Thai tone marks and silenced letters dropped, a Thai letter typed
several times kept once) so that common misspellings match. A few Thai words hide inside other
words ("โอน" in "โอนิกิริ", "ผ่อน" in "ผ่อนคลาย", "รอบ" in "ครอบครัว"/"กรอบ"): those patterns
say what may not surround them. A Thai mobile number (06/08/09 + 8 digits, or +66) is a signal
too; the number itself is never kept. Only the codes leave this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TONES = re.compile(r"[\u0e47-\u0e4b\u0e4d]")
_SILENT = re.compile(r"[\u0e01-\u0e2e][\u0e34\u0e38]?\u0e4c")
_REPEATED_THAI = re.compile(r"([\u0e00-\u0e7f])\1+")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# Digits with the separators people type between them: "081-234-5678", "+66 81 234 5678".
_DIGIT_RUN = re.compile(r"\+?\d[\d\s\-.()]{7,16}\d")
_THAI_MOBILE = re.compile(r"(?:\+?66|0)[689]\d{8}")


def normalise(text: str) -> str:
    """Lower case; Thai tone marks, silenced letters and repeated letters dropped (ค่าาา -> คา)."""
    text = _SILENT.sub("", text.lower())
    text = _TONES.sub("", text)
    return _REPEATED_THAI.sub(r"\1", text)


# code -> patterns. Thai and Japanese patterns match anywhere (no spaces between words);
# English ones are whole words. Patterns are normalised like the text before compiling.
_THAI_JA: dict[str, tuple[str, ...]] = {
    "asked_price": (
        "ราคา",
        "เท่าไหร่",
        "เท่าไร",
        "เท่ารัย",
        "เท่าไห",
        "กี่บาท",
        "กี่ตัง",
        "ค่าเรียน",
        "ค่าคอร์ส",
        "ค่าสมัคร",
        "いくら",
        "値段",
        "料金",
        "価格",
        "費用",
    ),
    "asked_schedule": (
        "วันไหน",
        "วันที่",
        "(?<![คก])รอบ(?!คอบ|รู้)",
        "เปิดรอบ",
        "เมื่อไหร่",
        "เมื่อไร",
        "กี่โมง",
        "ตารางเรียน",
        "เรียนวัน",
        "เสาร์อาทิตย์",
        "いつ",
        "日程",
        "スケジュール",
        "開講",
        "何時",
    ),
    "asked_payment": (
        "โอน(?!ิ)",
        "จ่าย(?!ตลาด)",
        "ชำระ",
        "มัดจำ",
        "เลขบัญชี",
        "พร้อมเพย์",
        "บัตรเครดิต",
        "รูดบัตร",
        "支払",
        "払い",
        "振込",
        "振り込",
    ),
    "asked_installments": ("ผ่อน(?!คลาย)", "งวด", "แบ่งจ่าย", "分割"),
    "asked_location": (
        "ที่ไหน",
        "ตรงไหน",
        "อยู่ไหน",
        "สาขา",
        "แผนที่",
        "เดินทาง",
        "จอดรถ",
        "どこ",
        "場所",
        "住所",
        "アクセス",
    ),
    "wants_to_enrol": (
        "สมัคร",
        "จองที่",
        "จองคอร์ส",
        "จองรอบ",
        "ลงเรียน",
        "ลงทะเบียน",
        "อยากเรียน",
        "申し込",
        "申込",
        "予約",
    ),
    "named_course": (
        "คอร์ส",
        "คอส",
        "หลักสูตร",
        "ซูชิ",
        "ราเมง",
        "ราเมน",
        "ซาชิมิ",
        "ซาซิมิ",
        "เทมปุระ",
        "เทมปุร้า",
        "วากิว",
        "เบนโตะ",
        "วากาชิ",
        "ขนมญี่ปุ่น",
        "อาหารญี่ปุ่น",
        "ดงบุริ",
        "อุด้ง",
        "โซบะ",
        "コース",
        "寿司",
        "すし",
        "ラーメン",
        "天ぷら",
        "刺身",
        "和菓子",
        "弁当",
        "料理教室",
    ),
    "objection_price": ("แพง", "ลดได้", "ลดราคา", "高い"),
    "objection_time": ("ไม่ว่าง", "ไม่สะดวก", "忙しい"),
    "objection_distance": ("ไกล", "遠い"),
    "thinking_it_over": ("ขอคิด", "คิดดูก่อน", "ไว้ก่อน", "考えます"),
}
_ENGLISH: dict[str, tuple[str, ...]] = {
    "asked_price": ("price", "prices", "how much", "cost", "costs", "fee", "fees", "tuition", "baht", "thb"),
    "asked_schedule": (
        "when",
        "schedule",
        "date",
        "dates",
        "next class",
        "next round",
        "weekend",
        "what time",
    ),
    "asked_payment": ("pay", "payment", "transfer", "credit card", "deposit", "bank account", "promptpay"),
    "asked_installments": ("installment", "installments", "instalment", "instalments", "monthly payments?"),
    "asked_location": ("where", "location", "address", "map", "parking", "bts", "mrt"),
    "wants_to_enrol": ("sign up", "enrol", "enroll", "register", "book", "booking", "reserve", "join"),
    "named_course": (
        "course",
        "courses",
        "class",
        "classes",
        "sushi",
        "ramen",
        "sashimi",
        "tempura",
        "wagyu",
        "bento",
        "wagashi",
        "donburi",
        "udon",
        "soba",
        "knife skills",
    ),
    "objection_price": ("expensive", "too much", "discount", "cheaper"),
    "objection_time": ("busy", "no time", "not free"),
    "objection_distance": ("too far", "far away"),
    "thinking_it_over": ("think about it", "let me think", "maybe later"),
}


def _compile() -> dict[str, re.Pattern[str]]:
    compiled: dict[str, re.Pattern[str]] = {}
    for code in _THAI_JA.keys() | _ENGLISH.keys():
        parts = [normalise(p) for p in _THAI_JA.get(code, ())]
        parts += [rf"\b{p}\b" for p in _ENGLISH.get(code, ())]
        compiled[code] = re.compile("|".join(parts))
    return compiled


_PATTERNS = _compile()
# Codes that say something about the conversation but add no points (insights read them).
OBJECTIONS = frozenset({"objection_price", "objection_time", "objection_distance", "thinking_it_over"})


def has_thai_mobile(text: str) -> bool:
    for run in _DIGIT_RUN.findall(text.translate(_THAI_DIGITS)):
        digits = re.sub(r"[^\d+]", "", run)
        if _THAI_MOBILE.fullmatch(digits):
            return True
    return False


def detect(text: str) -> set[str]:
    """The signal codes a message carries."""
    normalised = normalise(text)
    found = {code for code, pattern in _PATTERNS.items() if pattern.search(normalised)}
    if has_thai_mobile(text):
        found.add("gave_phone")
    return found


def language(text: str) -> str | None:
    """`th`, `ja` or `en` by script; None when the message has no letters (a sticker, digits)."""
    if re.search(r"[\u0e00-\u0e7f]", text):
        return "th"
    if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text):
        return "ja"
    if re.search(r"[A-Za-z]", text):
        return "en"
    return None


def detect_all(texts: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        found |= detect(text)
    return found
