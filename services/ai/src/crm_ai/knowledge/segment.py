"""Words for keyword search, the same way for what we index and for what a customer asks.

Thai has no spaces between words, so a Thai run goes through PyThaiNLP's dictionary segmenter
(newmm) with the school's own words added, so that "คอร์สซูชิ" is "คอร์ส" + "ซูชิ" and not
split into syllables; the polite particles every Thai message ends with (ค่ะ, ครับ, นะคะ ...)
carry no meaning for search and are dropped. Latin words are lower-cased, numbers lose their
thousands separators (12,900 -> 12900) and Thai digits become Arabic ones. Japanese becomes
overlapping character pairs, which needs no dictionary download and finds words of any length.
The first Thai call builds the dictionary (about a second): `warm()` does it at start-up.

Customers write "รร." for โรงเรียน: such abbreviations are spelled out before segmenting. Words
cannot meet across languages (a Thai question, an English page), so `GLOSSARY` groups the school's
words that mean the same in Thai, English and Japanese; `equivalents` gives a query's other-language
words, added to the keyword search on the query side only (the stored chunk tokens need no reindex).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from pythainlp.corpus import thai_words
from pythainlp.tokenize import word_tokenize
from pythainlp.util import Trie, dict_trie

# Course, dish and school words the general dictionary lacks or splits.
SCHOOL_WORDS = frozenset(
    {
        "คอร์ส", "คอส", "ซูชิ", "ซาชิมิ", "ราเมง", "ราเม็ง", "เทมปุระ", "วากาชิ", "ข้าวปั้น",
        "โอนิกิริ", "เบนโตะ", "เบนโต", "มัทฉะ", "มัจฉะ", "มิโซะ", "อุด้ง", "โซบะ", "เทอริยากิ",
        "ทงคัตสึ", "ทงคัตซึ", "คัตสึ", "คาเระ", "ดงบุริ", "เกี๊ยวซ่า", "ไดฟุกุ", "โมจิ",
        "ดอรายากิ", "ทาโกะยากิ", "โอโคโนมิยากิ", "ยากิโทริ", "ยากินิกุ", "สุกียากี้", "ชาบู",
        "วาซาบิ", "ไคเซกิ", "ดาชิ", "โชยุ", "มิริน", "สาเก", "เชฟ", "คลาส", "เวิร์กช็อป",
        "แพ็กเกจ", "แพคเกจ", "แพ็คเกจ", "ประกาศนียบัตร", "ออนไลน์", "มัดจำ", "ผ่อนชำระ",
    }
)  # fmt: skip

# Polite particles and their usual spellings and pairings: no search meaning.
THAI_PARTICLES = frozenset(
    {
        "ค่ะ", "คะ", "ค่า", "คับ", "ครับ", "ครับผม", "ฮะ", "ฮ่ะ", "จ้ะ", "จ้า", "จ๊ะ", "จ่ะ", "นะ",
        "น้า", "น้ะ", "นะคะ", "นะครับ", "นะคับ", "นะจ๊ะ", "นะจ้ะ", "เนอะ", "งับ", "ค้าบ", "คร้าบ",
        "ค้า", "คร่ะ", "ๆ", "ฯ",
    }
)  # fmt: skip

# Abbreviations customers type (with their dot); spelled out on both sides.
ABBREVIATIONS = {"รร.": "โรงเรียน", "ร.ร.": "โรงเรียน", "ค่าเทอม": "ค่าเรียน", "ตจว.": "ต่างจังหวัด"}

# Words that mean the same, one group per idea (phrases are matched as whole runs of tokens).
GLOSSARY: tuple[tuple[str, ...], ...] = (
    ("มีด", "knife", "knives", "包丁"),
    ("ลับมีด", "หินลับมีด", "sharpen", "sharpening", "whetstone", "研ぎ"),
    ("ครู", "อาจารย์", "ผู้สอน", "คนสอน", "เชฟ", "teacher", "teachers", "chef", "chefs", "instructor",
     "講師", "先生"),
    ("องค์กร", "บริษัท", "พนักงาน", "ทีม", "corporate", "company", "team", "staff", "企業", "会社"),
    ("ส่วนตัว", "ไพรเวท", "private", "プライベート", "個人"),
    ("วันเกิด", "birthday", "誕生日"),
    ("ใบประกาศนียบัตร", "ประกาศนียบัตร", "ใบประกาศ", "ใบเซอร์", "เซอร์", "certificate", "修了証"),
    ("ผ่อน", "ผ่อนชำระ", "installment", "installments", "instalment", "分割"),
    ("คืนเงิน", "เงินคืน", "refund", "refunds", "money back", "返金"),
    ("ยกเลิก", "cancel", "cancellation", "キャンセル"),
    ("เลื่อน", "reschedule", "postpone", "延期"),
    ("ที่จอดรถ", "จอดรถ", "parking", "park", "駐車場"),
    ("ที่ตั้ง", "ตรงไหน", "ที่ไหน", "แผนที่", "where", "location", "address", "場所", "住所"),
    ("สถานี", "รถไฟฟ้า", "station", "駅"),
    ("โรงเรียน", "school", "学校"),
    ("ราคา", "กี่บาท", "ตัง", "ค่าเรียน", "price", "cost", "costs", "fee", "how much", "値段", "料金"),
    ("รอบ", "เปิดรอบ", "รอบหน้า", "ตารางเรียน", "schedule", "next class", "日程"),
    ("ภาษาไทย", "thai", "タイ語"),
    ("ภาษาอังกฤษ", "english", "英語"),
    ("ภาษาญี่ปุ่น", "japanese", "日本語"),
    ("มังสวิรัติ", "กินเจ", "vegetarian", "vegan", "ベジタリアン", "菜食"),
    ("ฮาลาล", "มุสลิม", "halal", "muslim", "ハラール"),
    ("แพ้", "allergy", "allergic", "アレルギー"),
    ("เด็ก", "ลูก", "child", "children", "kid", "kids", "son", "daughter", "子供", "子ども"),
    ("ซุป", "soup", "broth", "スープ"),
    ("ราเมง", "ราเม็ง", "ramen", "ラーメン"),
    ("ซูชิ", "sushi", "寿司"),
    ("วากาชิ", "ขนมญี่ปุ่น", "wagashi", "和菓子"),
    ("เบนโตะ", "ข้าวกล่อง", "bento", "弁当"),
    ("โฮมคุกกิ้ง", "home cooking", "家庭料理"),
    ("เวิร์กช็อป", "เวิร์คช้อป", "workshop", "ワークショップ"),
    ("ใบกำกับภาษี", "tax invoice", "領収書", "請求書"),
    ("มัดจำ", "deposit", "予約金"),
    ("โอนเงิน", "bank transfer", "振込"),
    ("บัตรเครดิต", "รูดบัตร", "credit card", "クレジットカード"),
    ("ทดลอง", "ลองเรียน", "trial", "体験"),
    ("ผู้เริ่มต้น", "มือใหม่", "beginner", "beginners", "初心者"),
    ("ถ่ายรูป", "อัดคลิป", "วิดีโอ", "photo", "photos", "video", "写真", "動画"),
    ("ขาย", "sell", "sells", "販売"),
    ("ออฟฟิศ", "นอกสถานที่", "office", "venue", "出張"),
)  # fmt: skip

COMPOUND_MIN_CHARS = 4

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_RUNS = re.compile(
    r"(?P<thai>[\u0E00-\u0E4F\u0E5A-\u0E7F]+)"
    r"|(?P<ja>[\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]+)"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"|(?P<word>[^\W\d_\u0E00-\u0E7F\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]+)"
)


@lru_cache(maxsize=1)
def _dictionary() -> Trie:
    return dict_trie(set(thai_words()) | SCHOOL_WORDS)


def warm() -> None:
    """Build the Thai dictionary and run the segmenter once, so the first customer does not wait."""
    tokens("คอร์สซูชิราคาเท่าไหร่คะ")


def normalise(text: str) -> str:
    """Full-width Latin and digits to ASCII, half-width kana to full-width, lower case.

    NFKC splits Thai SARA AM (ำ) into NIKHAHIT + SARA AA; it is put back together, which also
    repairs the same two characters typed separately.
    """
    text = unicodedata.normalize("NFKC", text).replace("\u0e4d\u0e32", "\u0e33")
    return text.translate(_THAI_DIGITS).lower()


def _number(raw: str) -> str:
    number = raw.replace(",", "")
    if "." in number:
        whole, fraction = number.split(".", 1)
        number = whole if not fraction.strip("0") else f"{whole}.{fraction.rstrip('0')}"
    return number


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def thai_words_of(run: str) -> list[str]:
    """newmm words of a Thai run, with the school's dictionary; particles included."""
    return [
        w for w in word_tokenize(run, custom_dict=_dictionary(), engine="newmm", keep_whitespace=False) if w
    ]


def expand_abbreviations(text: str) -> str:
    for short, full in ABBREVIATIONS.items():
        text = text.replace(short, full)
    return text


def tokens(text: str) -> list[str]:
    """Search terms of `text`, in order; used for indexing and for querying alike."""
    out: list[str] = []
    for match in _RUNS.finditer(expand_abbreviations(normalise(text))):
        kind, value = match.lastgroup, match.group()
        if kind == "thai":
            out.extend(w for w in thai_words_of(value) if w not in THAI_PARTICLES and w.strip())
        elif kind == "ja":
            out.extend(_bigrams(value))
        elif kind == "num":
            out.append(_number(value))
        else:
            out.append(value)
    return out


@lru_cache(maxsize=1)
def _glossary() -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Each group's phrases as the token runs `tokens` makes of them."""
    return tuple(tuple(t for t in (tuple(tokens(p)) for p in group) if t) for group in GLOSSARY)


def _contains(haystack: Sequence[str], run: tuple[str, ...]) -> bool:
    n = len(run)
    return any(tuple(haystack[i : i + n]) == run for i in range(len(haystack) - n + 1))


def _compound_part(word: str, query: Sequence[str]) -> bool:
    """A Thai word that starts or ends a compound the segmenter kept whole (พนักงานบริษัท);
    short words are left out, they hide inside unrelated ones (รอบ in ครอบครัว)."""
    return len(word) >= COMPOUND_MIN_CHARS and any(
        len(t) > len(word) and (t.startswith(word) or t.endswith(word)) for t in query
    )


def equivalents(query: Sequence[str]) -> list[list[str]]:
    """For each glossary group a phrase of which is in `query` (tokens), the tokens of the group's
    other phrases: the same idea in the other languages (and other spellings)."""
    found: list[list[str]] = []
    present = set(query)
    for group in _glossary():
        hits = [
            run
            for run in group
            if (run[0] in present and _contains(query, run))
            or (len(run) == 1 and _compound_part(run[0], query))
        ]
        if hits:
            found.append(list(dict.fromkeys(t for run in group if run not in hits for t in run)))
    return found
