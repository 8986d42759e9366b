"""The signals a message carries and the score staff see, without any infrastructure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_ai.leads.insights import Lead, rule_insights
from crm_ai.leads.scoring import Rules, compute, temperature
from crm_ai.leads.signals import detect, has_thai_mobile, language

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("คอร์สซูชิราคาเท่าไหร่คะ", {"asked_price", "named_course"}),
        ("เทาไหรคะ", {"asked_price"}),  # no tone marks, misspelled
        ("ค่าเรียนกี่ตังคะ", {"asked_price"}),
        ("ผ่อนได้มั้ยยย", {"asked_installments"}),
        ("แบ่งจ่ายได้ไหม กี่งวด", {"asked_installments", "asked_payment"}),
        ("โอนเงินยังไงคะ", {"asked_payment"}),
        ("เปิดรอบหน้าวันไหนคะ", {"asked_schedule"}),
        ("อยู่ตรงไหนคะ", {"asked_location"}),
        ("อยากสมัครค่ะ", {"wants_to_enrol"}),
        ("How much is the ramen course?", {"asked_price", "named_course"}),
        ("Can I pay in installments?", {"asked_payment", "asked_installments"}),
        ("Where is the school? Near BTS?", {"asked_location"}),
        ("寿司のコースはいくらですか", {"asked_price", "named_course"}),
        ("分割払いはできますか", {"asked_installments", "asked_payment"}),
        ("แพงจัง ขอคิดก่อนนะคะ", {"objection_price", "thinking_it_over"}),
        # Words that only look like intent: rice balls, relaxing, family, crispy, a greeting.
        ("โอนิกิริอร่อยมาก", set()),
        ("ผ่อนคลายดีค่ะ", set()),
        ("ครอบครัวชอบของกรอบ", set()),
        ("สวัสดีค่ะ", set()),
        ("Thanks!", set()),
    ],
)
def test_signals_in_informal_thai_english_and_japanese(text: str, expected: set[str]) -> None:
    assert detect(text) == expected


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("เบอร์ 081-234-5678 ค่ะ", True),
        ("โทร 0812345678", True),
        ("+66 81 234 5678", True),
        ("๐๘๑๒๓๔๕๖๗๘", True),  # Thai digits
        ("02 123 4567", False),  # a Bangkok landline, not a mobile
        ("order 123456789012", False),
        ("ราคา 15,900 บาท", False),
    ],
)
def test_thai_mobile_numbers_are_a_signal(text: str, found: bool) -> None:
    assert has_thai_mobile(text) is found
    assert ("gave_phone" in detect(text)) is found


def test_language_by_script() -> None:
    assert [language(t) for t in ("ราคา", "いくら", "price", "12345")] == ["th", "ja", "en", None]


def test_an_ad_lead_asking_the_price_today_is_warm_with_the_biggest_reasons_first() -> None:
    scored = compute(
        {"from_ad", "asked_price", "named_course"}, [NOW - timedelta(minutes=5)], NOW, NOW, Rules()
    )
    assert (scored.score, scored.temperature) == (58, "warm")
    assert [r.signal for r in scored.reasons] == [
        "asked_price",
        "from_ad",
        "named_course",
        "recent",
        "engaged",
    ]
    assert scored.reasons[0].label == "asked about the price"
    assert sum(r.points for r in scored.reasons) == scored.score


def test_a_phone_number_and_payment_question_make_a_hot_lead() -> None:
    times = [NOW - timedelta(minutes=m) for m in (1, 2, 3)]
    scored = compute({"asked_price", "asked_payment", "gave_phone"}, times, NOW, NOW, Rules())
    assert scored.temperature == "hot"
    assert scored.score == 20 + 20 + 25 + 9 + 10


def test_a_quiet_lead_loses_points_per_quiet_day_and_never_goes_below_zero() -> None:
    last = NOW - timedelta(days=2, hours=1)
    rules = Rules(engagement_days=3, decay_points_per_day=5)
    scored = compute({"asked_price", "from_ad"}, [last], last, NOW, rules)
    # 20 + 15 + 3 (one message in 3 days), no recency, minus 2 quiet days x 5.
    assert (scored.score, scored.quiet_days) == (28, 2)
    assert scored.reasons[-1].signal == "engaged"
    assert next(r for r in scored.reasons if r.signal == "quiet").points == -10
    long_gone = compute({"named_course"}, [], NOW - timedelta(days=60), NOW, rules)
    assert long_gone.score == 0
    assert [r.points for r in long_gone.reasons] == [10, -10]


def test_the_score_is_capped_at_100_before_decay() -> None:
    every = {"asked_price", "asked_payment", "asked_installments", "asked_schedule", "gave_phone", "from_ad"}
    fresh = compute(every, [NOW], NOW, NOW, Rules())
    a_day_later = compute(every, [NOW], NOW, NOW + timedelta(days=1, minutes=1), Rules())
    assert fresh.score == 100
    assert a_day_later.score == 95, "one quiet day shows, even for a lead far above 100 points"


@pytest.mark.parametrize(
    ("score", "label"), [(0, "cold"), (39, "cold"), (40, "warm"), (69, "warm"), (70, "hot")]
)
def test_temperature_thresholds(score: int, label: str) -> None:
    assert temperature(score) == label


def test_rule_insights_fill_what_the_signals_tell() -> None:
    lead = Lead(
        page_id="p",
        psid="u",
        conversation_id=uuid.uuid4(),
        signals=frozenset({"asked_price", "asked_installments", "named_course", "objection_price"}),
        product_ids=(),
        language="th",
        message_count=3,
    )
    draft = rule_insights(lead)
    assert draft.source == "rules"
    assert draft.intent == "compare prices"
    assert draft.budget == "asked about installments; finds the price high"
    assert draft.objections == ("finds the price high",)
    assert draft.language == "th"
    assert "asked about the price" in draft.summary
    assert draft.next_best_action
