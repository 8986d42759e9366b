"""The rules behind the guards and the catalog lookup, on their own (no service, no model)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from crm_ai.catalog.service import Product, pick_mentioned
from crm_ai.replies import amounts
from crm_ai.replies.grounding import Grounding
from crm_ai.replies.guards import ModelAnswer, after_model, small_talk
from crm_ai.replies.language import written_in

from .conftest import Passage


def product(name_th: str, name_en: str | None, price: str) -> Product:
    return Product(uuid.uuid4(), "course", name_th, name_en, None, Decimal(price))


CATALOG = [
    product("คอร์สซูชิ", "Sushi Course", "12900"),
    product("คอร์สราเมง", "Ramen Masterclass", "8500"),
    product("แพ็กเกจซูชิและราเมง", "Sushi & Ramen Package", "19900"),
    product("มีดญี่ปุ่น", "Japanese Knife", "3500"),
    product("คอร์สทำขนมวากาชิ", None, "5500"),
]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("คอสซูชิราคาเท่าไหร่คะ", {"คอร์สซูชิ", "แพ็กเกจซูชิและราเมง"}),  # คอส for คอร์ส
        ("ราเมนกี่บาทคะ", {"คอร์สราเมง", "แพ็กเกจซูชิและราเมง"}),  # ราเมน for ราเมง
        ("Is there a ramen masterclass?", {"คอร์สราเมง", "แพ็กเกจซูชิและราเมง"}),
        ("มีดราคาเท่าไร", {"มีดญี่ปุ่น"}),
        ("วากาชิเปิดเมื่อไหร่", {"คอร์สทำขนมวากาชิ"}),
        ("I want to start a course", set()),  # "art" is not a word of "start"; "course" names nothing
        ("สวัสดีค่ะ สนใจคอร์สเรียนค่ะ", set()),
    ],
)
def test_products_named_in_a_question_with_spelling_variants(text: str, names: set[str]) -> None:
    assert {p.name_th for p in pick_mentioned(CATALOG, [text])} == names


@pytest.mark.parametrize(
    ("text", "money", "percent"),
    [
        ("คอร์สซูชิราคา 12,900 บาทค่ะ", {"12900"}, set()),
        ("ราคา ๑๒,๙๐๐ บาท", {"12900"}, set()),
        ("THB 4500 only", {"4500"}, set()),
        ("It costs 12900.", {"12900"}, set()),
        ("12,900.00฿", {"12900"}, set()),
        ("ลด 90% ค่ะ", set(), {"90"}),
        ("a discount of 15 percent", set(), {"15"}),
        ("เรียน 3 ครั้ง ครั้งละ 2 ชั่วโมง วันที่ 12 มกราคม", set(), set()),
    ],
)
def test_amounts_and_percentages_stated_in_an_answer(text: str, money: set[str], percent: set[str]) -> None:
    assert amounts.money(text) == {Decimal(m) for m in money}
    assert amounts.percentages(text) == {Decimal(p) for p in percent}


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("คอร์ส Sushi Masterclass ราคา 12,900 บาทค่ะ", "th", True),
        ("The Sushi Course (คอร์สซูชิ) is 12,900 baht.", "en", True),
        ("The Sushi Course is on Saturdays.", "th", False),
        ("คอร์สซูชิเรียนวันเสาร์ค่ะ", "en", False),
        ("寿司コースは土曜日です。", "ja", True),
        ("寿司コースは土曜日です。", "th", False),
    ],
)
def test_an_answer_is_judged_by_the_script_of_its_letters(text: str, language: str, expected: bool) -> None:
    assert written_in(text, language) is expected


@pytest.mark.parametrize("text", ["สวัสดีค่ะ", "ขอบคุณมากค่ะ 🙏", "hi!", "ok thanks", "ありがとうございます"])
def test_greetings_and_thanks_are_small_talk(text: str) -> None:
    assert small_talk(text)


@pytest.mark.parametrize("text", ["คอร์สซูชิราคาเท่าไหร่คะ", "What time?", "ลด 90% ได้ไหม"])
def test_questions_are_not_small_talk(text: str) -> None:
    assert not small_talk(text)


def test_a_price_is_supported_by_the_catalog_or_a_cited_passage_but_not_an_uncited_one() -> None:
    sushi = CATALOG[0]
    cited = Passage("โปรโมชัน", ("ศิษย์เก่า",), "ศิษย์เก่าลด 10% ค่าอุปกรณ์ 800 บาท")
    uncited = Passage("เก่า", ("ราคา",), "ชุดมีด 2,400 บาท")
    grounding = Grounding(passages=(cited, uncited), products=(sushi,), ids={"P1": cited, "P2": uncited})

    def findings(text: str, used: list[str]) -> list[str]:
        answer = ModelAnswer(answer=text, used_passages=used, language="th")
        return [f.reason for f in after_model(answer, "th", grounding)]

    assert findings("คอร์สซูชิ 12,900 บาท ค่าอุปกรณ์ 800 บาท ศิษย์เก่าลด 10% ค่ะ", ["P1"]) == []
    assert findings("ชุดมีด 2,400 บาทค่ะ", ["P1"]) == ["unsupported_amount"]
    assert findings("ชุดมีด 2,400 บาทค่ะ", ["[P2]"]) == []
    assert findings("ลดให้ 20% ค่ะ", ["P1"]) == ["unsupported_amount"]
    assert findings("ราคา 800 บาทค่ะ", []) == ["unsupported_amount"], "a passage counts only when cited"
