"""Which catalog products a piece of text talks about.

Customers shorten and misspell names: "คอสซูชิ" for "คอร์สซูชิ", "ราเมน" for "ราเมง", "sushi"
for "Sushi Masterclass". A product is mentioned when its whole Thai or English name appears, or one of
its distinctive words does (a word of its name that is not a generic word like "course" or
"คอร์ส"; a word two products share names both). Both sides are normalised first: lower case, no
spaces, Thai tone marks dropped, and a letter silenced by the thanthakhat (์) dropped with it, so
the common spelling variants compare equal. Latin words match whole words only ("art" is not in
"start"); Thai has no spaces, so Thai words match anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from pythainlp.corpus import thai_words
from pythainlp.tokenize import word_tokenize

# Thai tone marks, ไม้ไต่คู้ and นิคหิต: often left out or misplaced when typing fast.
_TONES = re.compile(r"[\u0e47-\u0e4b\u0e4d]")
# A consonant (with an optional vowel mark) silenced by ์ is often not typed at all: คอร์ส -> คอส.
_SILENT = re.compile(r"[\u0e01-\u0e2e][\u0e34\u0e38]?\u0e4c")
_SPACE = re.compile(r"[\s\-_.,/()'\"!?:;]+")
_LATIN = re.compile(r"[a-z0-9]+")
_WORD = re.compile(r"[a-z0-9]+|[\u0e00-\u0e7f]+|[\u3040-\u30ff\u4e00-\u9fff]+")

# Words every product shares: naming one of them names no product in particular.
GENERIC = frozenset(
    {
        "course",
        "courses",
        "class",
        "classes",
        "package",
        "set",
        "the",
        "and",
        "of",
        "for",
        "with",
        "japanese",
        "basic",
        "advanced",
        "คอร์ส",
        "คอส",
        "หลักสูตร",
        "แพ็กเกจ",
        "แพ็คเกจ",
        "แพคเกจ",
        "เรียน",
        "การทำ",
        "ทำ",
        "อาหาร",
        "อาหารญี่ปุ่น",
        "ญี่ปุ่น",
        "ชุด",
        "และ",
        "กับ",
        "สำหรับ",
        "ขั้นพื้นฐาน",
        "พื้นฐาน",
        "コース",
    }
)
# Spelling variants customers use, mapped onto one form (after the normalisation above).
VARIANTS = (("ราเมน", "ราเมง"), ("แพ็กเกจ", "แพคเกจ"), ("แพ็คเกจ", "แพคเกจ"))
MIN_WORD = 3
_DICTIONARY = thai_words()


def normalise(text: str) -> str:
    text = _SILENT.sub("", text.lower())
    text = _TONES.sub("", text)
    for variant, form in VARIANTS:
        text = text.replace(_TONES.sub("", variant), _TONES.sub("", form))
    return _SPACE.sub("", text)


_GENERIC_NORMALISED = frozenset(normalise(g) for g in GENERIC)


@lru_cache(maxsize=4096)
def words(name: str) -> tuple[str, ...]:
    """The parts of a product name worth matching alone, normalised: Latin words, and Thai runs
    between generic words ("แพ็กเกจซูชิและราเมง" -> ซูชิ, ราเมง). The word segmenter shatters
    loanwords (ราเมง -> รา เม ง), so a run is kept whole; a run that opens with a dictionary
    word also gives that word and the rest ("มีดเชฟ" -> มีดเชฟ, มีด, เชฟ)."""
    found: list[str] = []
    for part in _WORD.findall(name.lower()):
        if _is_thai(part):
            for run in _thai_runs(part):
                found.extend(run)
        elif part not in GENERIC:
            found.append(part)
    return tuple(dict.fromkeys(w for w in (normalise(f) for f in found) if len(w) >= MIN_WORD))


def _thai_runs(text: str) -> list[list[str]]:
    runs: list[list[str]] = [[]]
    for token in word_tokenize(text, engine="newmm", keep_whitespace=False):
        if token in GENERIC or normalise(token) in _GENERIC_NORMALISED:
            runs.append([])
        else:
            runs[-1].append(token)
    out: list[list[str]] = []
    for run in runs:
        if not run:
            continue
        parts = ["".join(run)]
        if len(run) > 1 and len(run[0]) >= MIN_WORD and run[0] in _DICTIONARY:
            parts += [run[0], "".join(run[1:])]
        out.append(parts)
    return out


def _is_thai(word: str) -> bool:
    return bool(word) and "\u0e00" <= word[0] <= "\u0e7f"


def mentioned_names(names: Sequence[Sequence[str]], texts: Iterable[str]) -> list[int]:
    """Indexes of the products (each given by its names) that the texts mention, in catalog order."""
    joined = "\n".join(t for t in texts if t)
    haystack = normalise(joined)
    latin = set(_LATIN.findall(joined.lower()))
    if not haystack:
        return []
    found: list[int] = []
    for index, product in enumerate(names):
        whole = [normalise(n) for n in product if n and len(normalise(n)) >= MIN_WORD]
        distinct = {w for name in product if name for w in words(name)}
        if any(n in haystack for n in whole) or any(
            (w in latin) if _LATIN.fullmatch(w) else (w in haystack) for w in distinct
        ):
            found.append(index)
    return found
