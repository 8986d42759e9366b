"""What a webhook means: every event Meta sends to a Page app, stored and acted on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from crm_contracts import (
    AdReferral,
    Attachment,
    ContactSeen,
    ContactSeenData,
    ConversationModeChanged,
    ConversationModeChangedData,
    MessageReceived,
    MessageReceivedData,
)
from crm_servicekit.outbox import UnitOfWork

from . import repository
from .meta.webhook import Messaging, Referral, WebhookPayload, item_kind, ms_to_datetime, sort_key
from .rules import asks_for_person, is_idle


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Item:
    page_id: str
    raw: dict[str, Any]
    standby: bool


async def ingest_webhook(
    uow: UnitOfWork, payload: WebhookPayload, *, handover_idle: timedelta
) -> IngestResult:
    """Store every item of one POST and emit what happened, in one transaction.

    Items are applied in Meta's `timestamp` order: retries can deliver them out of order.
    """
    result = IngestResult()
    items = [Item(e.id, raw, False) for e in payload.entry for raw in e.messaging]
    items += [Item(e.id, raw, True) for e in payload.entry for raw in e.standby]
    items.sort(key=lambda item: sort_key(item.raw))
    ingest = _Ingest(uow, result, handover_idle)
    for item in items:
        kind = item_kind(item.raw)
        result.kinds[kind] += 1
        try:
            event = Messaging.model_validate(item.raw)
        except ValidationError as exc:
            await ingest.quarantine(item, kind, _why(exc))
            continue
        handler = getattr(ingest, f"on_{kind}", None)
        if handler is None:
            await ingest.quarantine(item, kind, "an event type we do not know")
            continue
        await handler(item, event)
    return result


def _why(exc: ValidationError) -> str:
    # Field locations and error types only: the input may hold personal data.
    return "unreadable: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())


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


class _Ingest:
    def __init__(self, uow: UnitOfWork, result: IngestResult, handover_idle: timedelta) -> None:
        self.uow = uow
        self.session = uow.session
        self.result = result
        self.handover_idle = handover_idle

    async def quarantine(self, item: Item, kind: str, reason: str) -> None:
        await repository.quarantine(self.session, item.page_id, kind, reason, item.raw)
        self.result.quarantined += 1

    async def _customer(self, item: Item, event: Messaging) -> str | None:
        """The PSID of the customer in an event they sent, or quarantine it."""
        if event.sender.id is None:
            await self.quarantine(item, item_kind(item.raw), "no sender.id (PSID)")
            return None
        return event.sender.id

    # --- customer messages and postbacks ---------------------------------------------------

    async def on_message(self, item: Item, event: Messaging) -> None:
        assert event.message is not None
        psid = await self._customer(item, event)
        if psid is None:
            return
        msg = event.message
        attachments = [
            Attachment(type=a.type, url=a.payload.url if a.payload else None) for a in msg.attachments
        ]
        quick_reply = msg.quick_reply.payload if msg.quick_reply else None
        kind = "quick_reply" if quick_reply else ("attachment" if attachments and not msg.text else "text")
        await self._inbound(
            item,
            event,
            psid,
            mid=msg.mid,
            text=msg.text,
            kind=kind,
            attachments=attachments,
            quick_reply_payload=quick_reply,
            postback_payload=None,
            referral=msg.referral,
        )

    async def on_postback(self, item: Item, event: Messaging) -> None:
        assert event.postback is not None
        psid = await self._customer(item, event)
        if psid is None:
            return
        pb = event.postback
        await self._inbound(
            item,
            event,
            psid,
            # Older postbacks carry no mid: their time and sender identify them.
            mid=pb.mid or f"postback:{psid}:{event.timestamp}",
            text=pb.title,
            kind="postback",
            attachments=[],
            quick_reply_payload=None,
            postback_payload=pb.payload,
            referral=pb.referral,
        )

    async def _inbound(
        self,
        item: Item,
        event: Messaging,
        psid: str,
        *,
        mid: str,
        text: str | None,
        kind: str,
        attachments: list[Attachment],
        quick_reply_payload: str | None,
        postback_payload: str | None,
        referral: Referral | None,
    ) -> None:
        session, at = self.session, event.at
        conversation, created = await repository.get_or_create_conversation(session, item.page_id, psid)
        ad = _referral(referral, at)
        message_id = await repository.insert_inbound(
            session,
            {
                "conversation_id": conversation.id,
                "page_id": item.page_id,
                "mid": mid,
                "kind": kind,
                "text": text,
                "attachments": [a.model_dump(mode="json") for a in attachments],
                "quick_reply_payload": quick_reply_payload,
                "postback_payload": postback_payload,
                "referral": ad.model_dump(mode="json") if ad else None,
                "standby": item.standby,
                "sent_at": at,
            },
        )
        if message_id is None:
            self.result.duplicates += 1  # Meta delivers at least once
            return
        self.result.stored += 1
        await repository.note_customer_message(session, conversation.id, at)
        mode = conversation.mode
        now = datetime.now(UTC)
        if mode == "human" and is_idle(
            conversation.human_since, conversation.last_staff_activity_at, now, self.handover_idle
        ):
            mode = "ai"
            await self._mode_changed(conversation, "ai", conversation.needs_human, "idle_timeout", mid, now)
        handover_requested = not item.standby and asks_for_person(text)
        if handover_requested:
            await repository.flag_for_human(session, conversation.id, "customer_requested")
        if ad is not None:
            await self._referral(
                conversation.id,
                item.page_id,
                psid,
                ad,
                referral,
                "postback" if kind == "postback" else "message",
                at,
            )
        if created or ad is not None:
            self._contact_seen(item.page_id, psid, conversation.id, at, ad, mid)
        self.uow.emit(
            MessageReceived(
                correlation_id=mid,
                data=MessageReceivedData(
                    message_id=message_id,
                    conversation_id=conversation.id,
                    page_id=item.page_id,
                    psid=psid,
                    mid=mid,
                    text=text,
                    attachments=attachments,
                    quick_reply_payload=quick_reply_payload,
                    postback_payload=postback_payload,
                    referral=ad,
                    sent_at=at,
                    conversation_mode=mode,
                    kind=kind,  # type: ignore[arg-type]
                    handover_requested=handover_requested,
                    standby=item.standby,
                ),
            )
        )

    # --- referrals, echoes, receipts, reactions, opt-ins -------------------------------------

    async def on_referral(self, item: Item, event: Messaging) -> None:
        """A click-to-Messenger ad (or m.me link) opened an existing thread."""
        assert event.referral is not None
        psid = await self._customer(item, event)
        if psid is None:
            return
        conversation, _ = await repository.get_or_create_conversation(self.session, item.page_id, psid)
        ad = _referral(event.referral, event.at)
        assert ad is not None
        if await self._referral(
            conversation.id, item.page_id, psid, ad, event.referral, "referral", event.at
        ):
            self.result.stored += 1
            self._contact_seen(
                item.page_id, psid, conversation.id, event.at, ad, f"referral:{psid}:{event.timestamp}"
            )
        else:
            self.result.duplicates += 1

    async def _referral(
        self,
        conversation_id: Any,
        page_id: str,
        psid: str,
        ad: AdReferral,
        raw: Referral | None,
        via: str,
        at: datetime,
    ) -> bool:
        return await repository.insert_referral(
            self.session,
            {
                "conversation_id": conversation_id,
                "page_id": page_id,
                "psid": psid,
                "source": ad.source,
                "type": ad.type,
                "ad_id": ad.ad_id,
                "ref": ad.ref,
                "ads_context_data": raw.ads_context_data if raw else None,
                "via": via,
                "occurred_at": at,
            },
        )

    def _contact_seen(
        self,
        page_id: str,
        psid: str,
        conversation_id: Any,
        at: datetime,
        ad: AdReferral | None,
        correlation: str,
    ) -> None:
        self.uow.emit(
            ContactSeen(
                correlation_id=correlation,
                data=ContactSeenData(
                    page_id=page_id, psid=psid, conversation_id=conversation_id, first_seen_at=at, referral=ad
                ),
            )
        )

    async def on_echo(self, item: Item, event: Messaging) -> None:
        """A message the Page sent. Ours comes back with our metadata; anything else was written
        by a person in the Page inbox (or another app): staff have taken over."""
        assert event.message is not None
        msg = event.message
        psid = event.recipient.id
        if psid is None:
            await self.quarantine(item, "echo", "no recipient.id (PSID)")
            return
        if (msg.metadata or "").startswith("crm:") or await repository.is_our_outbound(
            self.session, item.page_id, msg.mid
        ):
            self.result.duplicates += 1
            return
        conversation, _ = await repository.get_or_create_conversation(self.session, item.page_id, psid)
        stored = await repository.insert_echo(
            self.session,
            {
                "conversation_id": conversation.id,
                "page_id": item.page_id,
                "mid": msg.mid,
                "kind": "text" if msg.text else "attachment",
                "text": msg.text,
                "attachments": [
                    {"type": a.type, "url": a.payload.url if a.payload else None} for a in msg.attachments
                ],
                "sent_at": event.at,
            },
        )
        if stored is None:
            self.result.duplicates += 1
            return
        self.result.stored += 1
        await repository.note_staff_activity(self.session, conversation.id, event.at)
        if conversation.mode != "human":
            await self._mode_changed(
                conversation, "human", True, "page_inbox_reply", msg.mid, datetime.now(UTC)
            )

    async def on_read(self, item: Item, event: Messaging) -> None:
        assert event.read is not None
        conversation = await self._known(item, event)
        if conversation is not None:
            await repository.apply_read(self.session, conversation.id, ms_to_datetime(event.read.watermark))
            self.result.stored += 1

    async def on_delivery(self, item: Item, event: Messaging) -> None:
        assert event.delivery is not None
        conversation = await self._known(item, event)
        if conversation is not None:
            d = event.delivery
            watermark = ms_to_datetime(d.watermark) if d.watermark else None
            await repository.apply_delivery(self.session, conversation.id, d.mids, watermark)
            self.result.stored += 1

    async def on_reaction(self, item: Item, event: Messaging) -> None:
        assert event.reaction is not None
        psid = await self._customer(item, event)
        if psid is None:
            return
        r = event.reaction
        if r.action == "react":
            await repository.react(
                self.session, item.page_id, r.mid, psid, r.reaction or "other", r.emoji, event.at
            )
        elif r.action == "unreact":
            await repository.unreact(self.session, item.page_id, r.mid, psid, event.at)
        else:
            await self.quarantine(item, "reaction", "reaction action is neither react nor unreact")
            return
        self.result.stored += 1

    async def on_optin(self, item: Item, event: Messaging) -> None:
        assert event.optin is not None
        o = event.optin
        psid = event.sender.id
        if psid is None and o.user_ref is None and event.sender.user_ref is None:
            await self.quarantine(item, "optin", "neither sender.id nor user_ref")
            return
        stored = await repository.insert_optin(
            self.session,
            {
                "page_id": item.page_id,
                "psid": psid,
                "user_ref": o.user_ref or event.sender.user_ref,
                "type": o.type,
                "ref": o.ref,
                "payload": item.raw,
                "occurred_at": event.at,
            },
        )
        if stored:
            self.result.stored += 1
        else:
            self.result.duplicates += 1

    async def _known(self, item: Item, event: Messaging) -> Any:
        psid = await self._customer(item, event)
        if psid is None:
            return None
        conversation = await repository.find_conversation(self.session, item.page_id, psid)
        if conversation is None:
            await self.quarantine(item, item_kind(item.raw), "receipt for a conversation we do not have")
        return conversation

    async def _mode_changed(
        self, conversation: Any, mode: str, needs_human: bool, reason: str, correlation: str, at: datetime
    ) -> None:
        await repository.set_mode(
            self.session, conversation.id, mode=mode, needs_human=needs_human, reason=reason, at=at
        )
        self.uow.emit(mode_changed(conversation, mode, needs_human, reason, correlation, at))


def mode_changed(
    conversation: Any,
    mode: str,
    needs_human: bool,
    reason: str,
    correlation: str,
    at: datetime,
    staff_id: Any = None,
) -> ConversationModeChanged:
    return ConversationModeChanged(
        correlation_id=correlation,
        data=ConversationModeChangedData(
            conversation_id=conversation.id,
            page_id=conversation.page_id,
            psid=conversation.psid,
            mode=mode,  # type: ignore[arg-type]
            needs_human=needs_human,
            reason=reason,
            staff_id=staff_id,
            changed_at=at,
        ),
    )
