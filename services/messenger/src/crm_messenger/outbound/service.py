"""Replies out, accepted under Messenger's rules: the AI's reply (`reply.generated`) and a staff
member's are written as pending parts of at most 2,000 characters, each at most once, and the
sender (`outbound.sender`) sends them in order.

- The AI stays quiet when staff handle the conversation or have answered since the message it
  answers; outside the 24-hour window its parts are written failed, with why
  (`message.send_failed`); an AI asking for a person hands the conversation to staff.
- Staff answer inside 24 hours as a response, inside 7 days with the `HUMAN_AGENT` tag, never
  later (`WindowClosed`); only on a conversation assigned to them or to nobody, unless they may
  act on any (ADR 10); a staff reply takes the conversation over (and an unassigned one becomes
  theirs), and the same request sent again (its idempotency key) sends nothing new.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from crm_contracts import (
    MessageSendFailed,
    MessageSendFailedData,
    MessageSent,
    MessageSentData,
    ReplyGenerated,
)
from crm_messenger.conversations import messages, outgoing
from crm_messenger.conversations import service as conversations
from crm_messenger.conversations.rules import Actor, reply_window
from crm_messenger.outbound.parts import quick_reply_options, split_text
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

log = get_logger(__name__)

CONSUMER_REPLIES = "messenger.replies"
# Each part goes out with metadata `crm:<part id>`, which Meta echoes back (`webhooks.ingest_events`).
PART_METADATA = "crm:"
# Staff replies are keyed by their Idempotency-Key within a conversation.
STAFF_NAMESPACE = uuid.UUID("6f1b1c1e-5d0a-4a53-9d1e-2f6f3c8b7a10")


class ConversationNotFound(LookupError):
    pass


class WindowClosed(Exception):
    """Messenger's rules allow no reply now; the message says why."""


def _parts(
    text: str, base: dict[str, Any], quick_replies: list[str], sources: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The rows of a reply split at Messenger's limit; the last carries the quick replies and the
    passages the reply was grounded on."""
    chunks = split_text(text)
    last = len(chunks) - 1
    return [
        {
            **base,
            "part": i,
            "text": chunk,
            "quick_replies": quick_reply_options(quick_replies) if i == last else [],
            "sources": (sources or []) if i == last else [],
            "typing": False,
        }
        for i, chunk in enumerate(chunks)
    ]


async def accept_reply(
    uow: UnitOfWork, event: ReplyGenerated, *, now: datetime | None = None
) -> uuid.UUID | None:
    """Record the AI's reply as pending parts. Returns the conversation to send for, if any."""
    if not await uow.claim(event.event_id, CONSUMER_REPLIES):
        # Recorded before: a redelivery wakes the sender, in case whoever recorded it could not.
        return event.data.conversation_id
    d = event.data
    now = now or datetime.now(UTC)
    conversation = await conversations.get(uow.session, d.conversation_id, for_update=True)
    if conversation is None:
        # The conversation is written before its message is announced, so it can only be gone
        # because the customer was erased (PDPA) while the AI was answering: the reply is dropped,
        # not retried and parked with the text in it.
        log.info("ai reply dropped: the conversation was erased", conversation_id=str(d.conversation_id))
        await uow.commit()
        return None
    answered_at = await messages.inbound_sent_at(uow.session, d.page_id, d.in_reply_to_mid)
    staff_since = (
        conversation.last_staff_activity_at is not None
        and answered_at is not None
        and conversation.last_staff_activity_at >= answered_at
    )
    if conversation.mode == "human" or staff_since:
        # Staff handle the conversation, or have answered since this message: the AI stays quiet.
        log.info("ai reply suppressed: staff handle this conversation", conversation_id=str(conversation.id))
        await uow.commit()
        return None
    window = reply_window(conversation.last_customer_message_at, now, sender="ai")
    base = {
        "conversation_id": conversation.id,
        "page_id": d.page_id,
        "sent_by": "ai",
        "source_event_id": event.event_id,
        "messaging_type": "RESPONSE",
        "status": "pending" if window.can_reply else "failed",
        "error_reason": window.refusal,
    }
    rows = _parts(d.text, base, d.quick_replies, [s.model_dump(mode="json") for s in d.sources])
    rows[0]["typing"] = window.can_reply
    ids = await outgoing.add_parts(uow.session, rows)
    if not window.can_reply:
        for message_id in ids:
            uow.emit(
                failed_event(
                    message_id,
                    conversation.id,
                    conversation.page_id,
                    conversation.psid,
                    None,
                    None,
                    window.refusal or "",
                    str(event.event_id),
                )
            )
    if d.handover:
        reason = d.handover_reason or "ai_handover"
        await conversations.change_mode(uow, conversation, "human", True, reason, event.correlation_id, now)
    await uow.commit()
    return conversation.id if window.can_reply else None


async def staff_reply(
    uow: UnitOfWork,
    conversation_id: uuid.UUID,
    *,
    actor: Actor,
    text: str,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> uuid.UUID:
    """A staff member answers: inside 24 hours as a response, inside 7 days with the
    `HUMAN_AGENT` tag, never later; only on a conversation they may act on (`NotYours`
    otherwise), an unassigned one becoming theirs. The AI stays quiet from now on. Returns the
    first part's id."""
    now = now or datetime.now(UTC)
    staff_id = actor.staff_id
    conversation = await conversations.get(uow.session, conversation_id, for_update=True)
    if conversation is None:
        raise ConversationNotFound(str(conversation_id))
    conversations.authorize(conversation, actor, "reply")
    source = (
        uuid.uuid5(STAFF_NAMESPACE, f"{conversation_id}:{idempotency_key}")
        if idempotency_key
        else uuid.uuid4()
    )
    existing = await outgoing.parts_of(uow.session, source)
    if existing:
        first: uuid.UUID = existing[0].id
        return first  # the same request again: nothing new is sent
    window = reply_window(conversation.last_customer_message_at, now, sender="staff")
    if not window.can_reply:
        raise WindowClosed(f"This reply cannot be sent: {window.refusal}.")
    base = {
        "conversation_id": conversation.id,
        "page_id": conversation.page_id,
        "sent_by": "staff",
        "staff_id": staff_id,
        "source_event_id": source,
        "messaging_type": window.messaging_type,
        "tag": window.tag,
        "status": "pending",
    }
    ids = await outgoing.add_parts(uow.session, _parts(text, base, []))
    await conversations.take_if_unassigned(uow.session, conversation, actor)
    await conversations.note_staff_activity(uow.session, conversation.id, now)
    if conversation.mode != "human":
        await conversations.change_mode(
            uow, conversation, "human", False, "staff_replied", str(source), now, staff_id
        )
    await uow.commit()
    return ids[0]


def failed_event(
    message_id: uuid.UUID,
    conversation_id: uuid.UUID,
    page_id: str,
    psid: str,
    code: int | None,
    subcode: int | None,
    reason: str,
    correlation: str,
) -> MessageSendFailed:
    return MessageSendFailed(
        correlation_id=correlation,
        data=MessageSendFailedData(
            message_id=message_id,
            conversation_id=conversation_id,
            page_id=page_id,
            psid=psid,
            error_code=code,
            error_subcode=subcode,
            reason=reason,
            failed_at=datetime.now(UTC),
        ),
    )


def sent_event(part: Any, mid: str, at: datetime) -> MessageSent:
    """`message.sent` for a part Meta accepted (its answer, or its echo), with Meta's id."""
    return MessageSent(
        correlation_id=str(part.source_event_id or part.id),
        data=MessageSentData(
            message_id=part.id,
            conversation_id=part.conversation_id,
            page_id=part.page_id,
            psid=part.psid,
            meta_message_id=mid,
            text=part.text,
            sent_by=part.sent_by,
            staff_id=part.staff_id,
            messaging_type=part.messaging_type or "RESPONSE",
            tag=part.tag,
            in_reply_to_event_id=part.source_event_id if part.sent_by == "ai" else None,
            sent_at=at,
        ),
    )
