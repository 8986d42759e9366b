"""Search terms: the same words come out of a Thai question and the Thai page that answers it."""

from __future__ import annotations

import pytest

from crm_ai.knowledge.segment import tokens


def test_thai_question_is_cut_into_words_not_at_spaces_and_loses_its_particles() -> None:
    assert tokens("คอร์สซูชิราคาเท่าไหร่คะ") == ["คอร์ส", "ซูชิ", "ราคา", "เท่าไหร่"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("สนใจคอร์สราเมงครับ", ["สนใจ", "คอร์ส", "ราเมง"]),
        ("เทมปุระกับวากาชิเรียนวันไหนนะคะ", ["เทมปุระ", "กับ", "วากาชิ", "เรียน", "วัน", "ไหน"]),
        ("โอเคจ้า ขอบคุณค่ะ", ["โอเค", "ขอบคุณ"]),
    ],
)
def test_school_words_stay_whole_and_particles_go(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_question_and_page_share_their_words() -> None:
    question = set(tokens("คอร์สซูชิราคาเท่าไหร่คะ"))
    page = set(tokens("ราคาคอร์สซูชิพื้นฐาน 12,900 บาท รวมวัตถุดิบทั้งหมด"))

    assert {"คอร์ส", "ซูชิ", "ราคา"} <= question & page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ramen Course: 3 days, 12,900 THB!", ["ramen", "course", "3", "days", "12900", "thb"]),
        ("ราคา ๑๒,๙๐๐ บาท", ["ราคา", "12900", "บาท"]),
        ("12,900.00 or 12900", ["12900", "or", "12900"]),
        ("ＳＵＳＨＩ　１２９００", ["sushi", "12900"]),
        ("Sushi-Kurs für Anfänger", ["sushi", "kurs", "für", "anfänger"]),
    ],
)
def test_latin_words_are_lower_case_and_numbers_lose_separators(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_japanese_becomes_character_pairs() -> None:
    assert tokens("寿司コース。料金") == ["寿司", "司コ", "コー", "ース", "料金"]


def test_mixed_languages_in_one_message() -> None:
    assert tokens("ขอราคา sushi course ค่ะ 寿司") == ["ขอ", "ราคา", "sushi", "course", "寿司"]


def test_sara_am_typed_as_two_characters_matches_the_word() -> None:
    assert tokens("ทํา") == tokens("ทำ") == ["ทำ"]
