"""The rules of a conversation that decide who may answer and when: Messenger's reply window, a
customer asking for a person, staff idle long enough for the AI to resume, and which staff member
may act on it (`staff_refusal`). Pure functions, no I/O."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class ReplyWindow:
    can_reply: bool
    messaging_type: Literal["RESPONSE", "MESSAGE_TAG"] | None
    tag: Literal["HUMAN_AGENT"] | None
    closes_at: datetime | None
    refusal: str | None = None


def reply_window(
    last_customer_message_at: datetime | None, now: datetime, *, sender: Literal["ai", "staff"]
) -> ReplyWindow:
    """Inside 24 hours of the customer's last message anyone may answer (`RESPONSE`); a person
    may still answer for 7 days with the `HUMAN_AGENT` tag; a bot never uses that tag."""
    if last_customer_message_at is None:
        return ReplyWindow(False, None, None, None, "the customer has not written to the Page yet")
    standard_end = last_customer_message_at + STANDARD_WINDOW
    if now < standard_end:
        return ReplyWindow(True, "RESPONSE", None, standard_end)
    human_end = last_customer_message_at + HUMAN_AGENT_WINDOW
    if sender == "staff" and now < human_end:
        return ReplyWindow(True, "MESSAGE_TAG", "HUMAN_AGENT", human_end)
    if sender == "ai":
        return ReplyWindow(
            False, None, None, standard_end, "outside the 24-hour window: only a person can reply now"
        )
    return ReplyWindow(
        False,
        None,
        None,
        human_end,
        "more than 7 days since the customer's last message: no reply is allowed until they write again",
    )


_PERSON_PHRASES = (
    # English
    "talk to staff", "talk to a staff", "talk to a person", "talk to a human", "talk to someone",
    "speak to staff", "speak to a person", "speak to a human", "speak to someone", "real person",
    "human agent", "live agent", "customer service", "contact staff", "call me",
    # Thai
    "ขอคุยกับเจ้าหน้าที่", "คุยกับเจ้าหน้าที่", "ติดต่อเจ้าหน้าที่", "ขอสายเจ้าหน้าที่", "ขอคุยกับคน",
    "คุยกับคนจริง", "ขอคุยกับแอดมิน", "คุยกับแอดมิน", "ขอคุยกับพนักงาน", "ให้เจ้าหน้าที่โทร",
    # Japanese
    "スタッフと話", "担当者と話", "人と話", "オペレーター", "担当の方",
)  # fmt: skip


def asks_for_person(text: str | None) -> bool:
    """Does the customer ask to talk to a member of staff?"""
    if not text:
        return False
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = re.sub(r"\s+", " ", folded)
    return any(phrase in folded or phrase.replace(" ", "") in folded for phrase in _PERSON_PHRASES)


def is_idle(
    human_since: datetime | None, last_staff_activity_at: datetime | None, now: datetime, idle: timedelta
) -> bool:
    """Has staff been silent long enough in a `human` conversation for the AI to resume?"""
    last = max((t for t in (human_since, last_staff_activity_at) if t is not None), default=None)
    return last is not None and now - last >= idle


# --- who may act on a conversation (ADR 10) ------------------------------------------------------

StaffAction = Literal["reply", "hand_back", "assign"]
_VERBS = {"reply": "reply to", "hand_back": "hand back", "assign": "reassign"}


@dataclass(frozen=True)
class Actor:
    """The staff member the gateway acts for, and whether their role may act on every
    conversation (the gateway's `conversation:manage`: managers and admins)."""

    staff_id: uuid.UUID
    on_any: bool = False


def staff_refusal(
    assigned: uuid.UUID | None, actor: Actor, action: StaffAction, assignee: uuid.UUID | None = None
) -> str | None:
    """Why `actor` may not do `action` on a conversation assigned to `assigned` (None: they may).

    Staff without `on_any` act only on conversations assigned to them or to nobody: they reply to,
    hand back, take (assign to themselves) or release (unassign) those. Assigning to someone else,
    and anything on a conversation someone else has, is for managers."""
    if actor.on_any:
        return None
    if assigned is not None and assigned != actor.staff_id:
        return (
            f"This conversation is assigned to another staff member: only they or a manager may "
            f"{_VERBS[action]} it."
        )
    if action == "assign" and assignee is not None and assignee != actor.staff_id:
        return (
            "Only a manager may assign a conversation to someone else; you may take an unassigned "
            "conversation or release your own."
        )
    return None
