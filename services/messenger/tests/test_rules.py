"""The rules that decide what may be sent, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_messenger.conversations.rules import (
    Actor,
    StaffAction,
    asks_for_person,
    is_idle,
    reply_window,
    staff_refusal,
)
from crm_messenger.outbound.parts import TEXT_LIMIT, quick_reply_options, split_text

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "sender", "expected"),
    [
        (timedelta(hours=23, minutes=59), "ai", ("RESPONSE", None)),
        (timedelta(hours=23, minutes=59), "staff", ("RESPONSE", None)),
        (timedelta(hours=24), "ai", None),
        (timedelta(hours=25), "staff", ("MESSAGE_TAG", "HUMAN_AGENT")),
        (timedelta(days=6, hours=23), "staff", ("MESSAGE_TAG", "HUMAN_AGENT")),
        (timedelta(days=7), "staff", None),
    ],
)
def test_reply_window(ago: timedelta, sender: str, expected: tuple[str, str | None] | None) -> None:
    window = reply_window(NOW - ago, NOW, sender=sender)  # type: ignore[arg-type]
    if expected is None:
        assert not window.can_reply
        assert window.refusal
    else:
        assert window.can_reply
        assert (window.messaging_type, window.tag) == expected


def test_a_bot_never_gets_the_human_agent_tag() -> None:
    for hours in range(0, 24 * 8, 5):
        window = reply_window(NOW - timedelta(hours=hours), NOW, sender="ai")
        assert window.tag is None


def test_no_reply_before_the_customer_writes() -> None:
    assert not reply_window(None, NOW, sender="staff").can_reply


@pytest.mark.parametrize(
    "text",
    [
        "ขอคุยกับเจ้าหน้าที่ค่ะ",
        "ขอ คุยกับแอดมิน หน่อยครับ",
        "Can I talk to staff please?",
        "I want to speak to a HUMAN",
        "スタッフと話したいです",
    ],
)
def test_asking_for_a_person_is_recognised(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", ["คอร์สซูชิราคาเท่าไหร่คะ", "How much is ramen?", "", None, "ราเมงอร่อยไหม"])
def test_ordinary_questions_are_not_a_handover(text: str | None) -> None:
    assert not asks_for_person(text)


def test_split_prefers_sentence_ends_and_keeps_every_character() -> None:
    sentence = "Our sushi course runs for four weeks. "
    text = sentence * 120  # ~4,560 characters
    parts = split_text(text)
    assert all(len(p) <= TEXT_LIMIT for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert "".join(p + " " for p in parts).split() == text.split()


def test_split_thai_on_spaces_and_hard_cut_without_any() -> None:
    thai = ("คอร์สซูชิของเรามีสี่สัปดาห์ " * 150).strip()
    parts = split_text(thai)
    assert all(len(p) <= TEXT_LIMIT for p in parts)
    assert " ".join(parts).split() == thai.split()
    unbroken = "ก" * 4500
    assert [len(p) for p in split_text(unbroken)] == [2000, 2000, 500]
    assert split_text("short") == ["short"]


def test_quick_replies_follow_messengers_limits() -> None:
    options = quick_reply_options([f"Option number {i} with a long title" for i in range(20)])
    assert len(options) == 13
    assert all(len(o["title"]) <= 20 for o in options)
    assert options[0]["payload"] == "Option number 0 with a long title"


def test_idle_after_the_last_staff_action() -> None:
    idle = timedelta(minutes=30)
    assert is_idle(NOW - timedelta(hours=2), NOW - timedelta(minutes=31), NOW, idle)
    assert not is_idle(NOW - timedelta(hours=2), NOW - timedelta(minutes=5), NOW, idle)
    assert not is_idle(None, None, NOW, idle)


# --- who may act on a conversation (ADR 10) ------------------------------------------------------

ME, OTHER = uuid.uuid4(), uuid.uuid4()
AGENT, MANAGER = Actor(ME), Actor(ME, on_any=True)


@pytest.mark.parametrize("action", ["reply", "hand_back", "assign"])
def test_staff_act_on_their_own_or_unassigned_conversations_and_managers_on_any(action: StaffAction) -> None:
    assert staff_refusal(ME, AGENT, action, ME) is None
    assert staff_refusal(None, AGENT, action, ME) is None
    assert staff_refusal(OTHER, MANAGER, action, ME) is None
    refusal = staff_refusal(OTHER, AGENT, action, ME)
    assert refusal is not None
    assert refusal.startswith("This conversation is assigned to another staff member: only they or a manager")


def test_only_managers_assign_to_someone_else() -> None:
    assert staff_refusal(ME, AGENT, "assign", None) is None  # releasing their own
    assert staff_refusal(None, AGENT, "assign", OTHER) is not None
    assert staff_refusal(ME, AGENT, "assign", OTHER) is not None
    assert staff_refusal(None, MANAGER, "assign", OTHER) is None
