"""The messenger's rules: what a webhook means, and how a reply reaches the customer."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from crm_contracts import (
    AdReferral,
    Attachment,
    ContactSeen,
    ContactSeenData,
    MessageReceived,
    MessageReceivedData,
    MessageSendFailed,
    MessageSendFailedData,
    MessageSent,
    MessageSentData,
    ReplyGenerated,
)
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import repository
from .meta.send_api import GraphError, SendApiClient
from .meta.webhook import Messaging, Referral, WebhookPayload, item_kind

log = get_logger(__name__)


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _referral(r: Referral | None, at: datetime) -> AdReferral | None:
    if r is None:
        return None
    ctx = r.ads_context_data or {}
    return AdReferral(
        source=r.source,
        type=r.type,
        ad_id=r.ad_id,
        ref=r.ref,
        ad_title=ctx.get("ad_title"),
        post_id=ctx.get("post_id"),
        referred_at=at,
    )


async def ingest_webhook(uow: UnitOfWork, payload: WebhookPayload) -> IngestResult:
    """Store every event of one POST and emit what happened, in one transaction.

    Items are applied in Meta's `timestamp` order, since retries can deliver them out of order.
    """
    result = IngestResult()
    items: list[tuple[str, dict[str, Any]]] = [
        (entry.id, raw) for entry in payload.entry for raw in (*entry.messaging, *entry.standby)
    ]
    items.sort(
        key=lambda item: item[1].get("timestamp", 0) if isinstance(item[1].get("timestamp"), int) else 0
    )
    for page_id, raw in items:
        kind = item_kind(raw)
        result.kinds[kind] += 1
        try:
            messaging = Messaging.model_validate(raw)
        except ValidationError as exc:
            await repository.quarantine(uow.session, page_id, kind, _why(exc), raw)
            result.quarantined += 1
            continue
        if kind == "message":
            await _customer_message(uow, page_id, messaging, result)
        elif kind == "echo" and messaging.message is not None:
            if await repository.is_our_outbound(uow.session, page_id, messaging.message.mid):
                result.ignored += 1  # the echo of a message we sent
            else:
                await repository.quarantine(
                    uow.session, page_id, kind, "page inbox reply: handover is not handled yet", raw
                )
                result.quarantined += 1
        else:
            await repository.quarantine(uow.session, page_id, kind, f"{kind} events are not handled yet", raw)
            result.quarantined += 1
    return result


def _why(exc: ValidationError) -> str:
    # Field locations and error types only: the input may hold personal data.
    return "unreadable: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())


async def _customer_message(uow: UnitOfWork, page_id: str, m: Messaging, result: IngestResult) -> None:
    assert m.message is not None
    psid = m.sender.id
    if psid is None:
        await repository.quarantine(
            uow.session, page_id, "message", "message without sender.id", m.model_dump()
        )
        result.quarantined += 1
        return
    conversation, created = await repository.get_or_create_conversation(uow.session, page_id, psid)
    referral = _referral(m.message.referral or m.referral, m.sent_at)
    attachments = [
        Attachment(type=a.type, url=a.payload.url if a.payload else None) for a in m.message.attachments
    ]
    quick_reply = m.message.quick_reply.payload if m.message.quick_reply else None
    message_id = await repository.insert_inbound(
        uow.session,
        {
            "conversation_id": conversation.id,
            "page_id": page_id,
            "mid": m.message.mid,
            "text": m.message.text,
            "attachments": [a.model_dump(mode="json") for a in attachments],
            "quick_reply_payload": quick_reply,
            "referral": referral.model_dump(mode="json") if referral else None,
            "sent_at": m.sent_at,
        },
    )
    if message_id is None:
        result.duplicates += 1  # Meta delivers at least once
        return
    result.stored += 1
    await repository.note_customer_message(uow.session, conversation.id, m.sent_at)
    correlation = m.message.mid
    if created or referral is not None:
        uow.emit(
            ContactSeen(
                correlation_id=correlation,
                data=ContactSeenData(
                    page_id=page_id,
                    psid=psid,
                    conversation_id=conversation.id,
                    first_seen_at=m.sent_at,
                    referral=referral,
                ),
            )
        )
    uow.emit(
        MessageReceived(
            correlation_id=correlation,
            data=MessageReceivedData(
                message_id=message_id,
                conversation_id=conversation.id,
                page_id=page_id,
                psid=psid,
                mid=m.message.mid,
                text=m.message.text,
                attachments=attachments,
                quick_reply_payload=quick_reply,
                referral=referral,
                sent_at=m.sent_at,
                conversation_mode=conversation.mode,
            ),
        )
    )


# --- outbound -----------------------------------------------------------------------------------

CONSUMER_REPLIES = "messenger.replies"


async def accept_reply(uow: UnitOfWork, event: ReplyGenerated) -> uuid.UUID | None:
    """Record the AI's reply as a pending outbound message. Returns its id if it should be sent."""
    if not await uow.claim(event.event_id, CONSUMER_REPLIES):
        return None
    d = event.data
    conversation = await repository.get_conversation(uow.session, d.conversation_id)
    if conversation is None:
        raise LookupError("reply for an unknown conversation")
    if d.handover:
        await repository.flag_for_human(uow.session, conversation.id, d.handover_reason or "ai_requested")
    if conversation.mode == "human":
        log.info("ai reply suppressed: staff handle this conversation", conversation_id=str(conversation.id))
        await uow.commit()
        return None
    message_id = await repository.insert_outbound(
        uow.session,
        {
            "conversation_id": conversation.id,
            "page_id": d.page_id,
            "text": d.text,
            "sent_by": "ai",
            "source_event_id": event.event_id,
        },
    )
    await uow.commit()
    return message_id


async def send_message(
    uow_factory: Callable[[], UnitOfWork], client: SendApiClient, message_id: uuid.UUID
) -> None:
    """Send one pending outbound message at most once, and record what Meta said."""
    async with uow_factory() as uow:
        claimed = await repository.claim_for_sending(uow.session, message_id)
        await uow.commit()
    if claimed is None:
        return  # already sent, being sent, or failed
    base = {
        "message_id": claimed.id,
        "conversation_id": claimed.conversation_id,
        "page_id": claimed.page_id,
        "psid": claimed.psid,
    }
    try:
        mid = await client.send_text(claimed.psid, claimed.text)
    except GraphError as exc:
        await _failed(
            uow_factory, base, exc.code, exc.subcode, exc.reason, correlation=str(claimed.source_event_id)
        )
        return
    except Exception as exc:
        # No answer from Meta: it may have delivered, so the message is not repeated.
        reason = f"no answer from Meta ({type(exc).__name__}); not resent to avoid a duplicate"
        await _failed(uow_factory, base, None, None, reason, correlation=str(claimed.source_event_id))
        return
    now = datetime.now(UTC)
    async with uow_factory() as uow:
        await repository.mark_sent(uow.session, claimed.id, mid, now)
        uow.emit(
            MessageSent(
                correlation_id=str(claimed.source_event_id or claimed.id),
                data=MessageSentData(
                    **base,
                    meta_message_id=mid,
                    text=claimed.text,
                    sent_by=claimed.sent_by,
                    in_reply_to_event_id=claimed.source_event_id,
                    sent_at=now,
                ),
            )
        )
        await uow.commit()
    log.info("message sent", message_id=str(claimed.id), conversation_id=str(claimed.conversation_id))


async def _failed(
    uow_factory: Callable[[], UnitOfWork],
    base: dict[str, Any],
    code: int | None,
    subcode: int | None,
    reason: str,
    *,
    correlation: str,
) -> None:
    async with uow_factory() as uow:
        await repository.mark_failed(uow.session, base["message_id"], code, subcode, reason)
        uow.emit(
            MessageSendFailed(
                correlation_id=correlation,
                data=MessageSendFailedData(
                    **base, error_code=code, error_subcode=subcode, reason=reason, failed_at=datetime.now(UTC)
                ),
            )
        )
        await uow.commit()
    log.warning("message failed", message_id=str(base["message_id"]), error_code=code, error_subcode=subcode)
