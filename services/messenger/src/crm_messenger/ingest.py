"""What a webhook means: every event Meta sends to a Page app, stored and acted on."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError

from crm_contracts import (
    AdReferral,
    Attachment,
    ContactSeen,
    ContactSeenData,
    MessageReceived,
    MessageReceivedData,
)
from crm_servicekit.outbox import UnitOfWork

from . import repository
from .conversation_events import mode_changed
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
    receipt: int
    page_id: str
    raw: dict[str, Any]
    standby: bool


async def ingest_webhook(
    uow: UnitOfWork, payload: WebhookPayload, *, handover_idle: timedelta
) -> IngestResult:
    """Store every item of one POST and emit what happened, in the caller's transaction."""
    return (await ingest_batch(uow, [(0, payload)], handover_idle=handover_idle))[0]


async def ingest_batch(
    uow: UnitOfWork, payloads: list[tuple[int, WebhookPayload]], *, handover_idle: timedelta
) -> dict[int, IngestResult]:
    """Store every item of many POSTs (keyed by receipt) and emit what happened.

    Items are applied in Meta's `timestamp` order: retries can deliver them out of order. Runs
    of customer messages are stored a run at a time (a few statements for any number); every
    other kind is applied one by one, in between, so an echo still silences later messages.
    """
    results = {receipt: IngestResult() for receipt, _ in payloads}
    items = [
        Item(receipt, e.id, raw, standby)
        for receipt, payload in payloads
        for e in payload.entry
        for standby, raws in ((False, e.messaging), (True, e.standby))
        for raw in raws
    ]
    items.sort(key=lambda item: sort_key(item.raw))
    ingest = _Ingest(uow, results, handover_idle)
    run: list[tuple[Item, Messaging]] = []
    for item in items:
        kind = item_kind(item.raw)
        results[item.receipt].kinds[kind] += 1
        try:
            event = Messaging.model_validate(item.raw)
        except ValidationError as exc:
            await ingest.quarantine(item, kind, _why(exc))
            continue
        if kind == "message" and event.sender.id is not None:
            run.append((item, event))
            continue
        await ingest.messages(run)
        run = []
        handler = getattr(ingest, f"on_{kind}", None)
        if handler is None:
            await ingest.quarantine(item, kind, "an event type we do not know")
            continue
        await handler(item, event)
    await ingest.messages(run)
    return results


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


def _raw_referral(event: Messaging) -> Referral | None:
    """The ad or link that brought this message or postback, as Meta sent it."""
    if event.postback is not None:
        return event.postback.referral
    return (event.message.referral if event.message else None) or event.referral


def _row(item: Item, event: Messaging, conversation_id: uuid.UUID) -> dict[str, Any]:
    """The `messages` row of a customer message or postback."""
    if event.postback is not None:
        pb = event.postback
        # Older postbacks carry no mid: their sender and time identify them.
        mid, text, attachments = pb.mid or f"postback:{event.sender.id}:{event.timestamp}", pb.title, []
        quick_reply, postback, kind = None, pb.payload, "postback"
    else:
        msg = event.message
        assert msg is not None
        mid, text, postback = msg.mid, msg.text, None
        attachments = [
            Attachment(type=a.type, url=a.payload.url if a.payload else None) for a in msg.attachments
        ]
        quick_reply = msg.quick_reply.payload if msg.quick_reply else None
        kind = "quick_reply" if quick_reply else ("attachment" if attachments and not text else "text")
    ad = _referral(_raw_referral(event), event.at)
    return {
        "id": uuid.uuid4(),
        "conversation_id": conversation_id,
        "page_id": item.page_id,
        "mid": mid,
        "kind": kind,
        "text": text,
        "attachments": [a.model_dump(mode="json") for a in attachments],
        "quick_reply_payload": quick_reply,
        "postback_payload": postback,
        "referral": ad.model_dump(mode="json") if ad else None,
        "standby": item.standby,
        "sent_at": event.at,
    }


class _Ingest:
    def __init__(self, uow: UnitOfWork, results: dict[int, IngestResult], handover_idle: timedelta) -> None:
        self.uow = uow
        self.session = uow.session
        self.results = results
        self.handover_idle = handover_idle

    async def quarantine(self, item: Item, kind: str, reason: str) -> None:
        await repository.quarantine(self.session, item.page_id, kind, reason, item.raw)
        self.results[item.receipt].quarantined += 1

    async def _customer(self, item: Item, event: Messaging) -> str | None:
        """The PSID of the customer in an event they sent, or quarantine it."""
        if event.sender.id is None:
            await self.quarantine(item, item_kind(item.raw), "no sender.id (PSID)")
            return None
        return event.sender.id

    # --- customer messages and postbacks ---------------------------------------------------

    async def messages(self, run: list[tuple[Item, Messaging]]) -> None:
        """Customer messages, a run at a time: conversations, messages and counters in a few
        statements whatever the run's length; events in timestamp order."""
        if not run:
            return
        session = self.session
        keys = list(dict.fromkeys((item.page_id, event.sender.id or "") for item, event in run))
        conversations = await repository.ensure_conversations(session, keys)
        rows: list[dict[str, Any]] = []
        fresh: dict[str, tuple[Item, Messaging, dict[str, Any]]] = {}
        for item, event in run:
            key = (item.page_id, event.sender.id or "")
            row = _row(item, event, conversations[key][0].id)
            if f"{key[0]}/{row['mid']}" in fresh:
                self.results[item.receipt].duplicates += 1  # the same mid twice in one batch
                continue
            rows.append(row)
            fresh[f"{key[0]}/{row['mid']}"] = (item, event, row)
        stored = await repository.insert_inbound_many(session, rows)
        new = [(item, event, row) for item, event, row in fresh.values() if row["id"] in stored]
        for item, _, row in fresh.values():
            counter = self.results[item.receipt]
            if row["id"] in stored:
                counter.stored += 1
            else:
                counter.duplicates += 1  # Meta delivers at least once
        per_conversation: dict[tuple[str, str], list[tuple[Item, Messaging, dict[str, Any]]]] = {}
        for entry in new:
            per_conversation.setdefault((entry[0].page_id, entry[1].sender.id or ""), []).append(entry)
        await repository.note_customer_messages(
            session,
            [
                (conversations[key][0].id, max(e[1].at for e in entries), len(entries))
                for key, entries in per_conversation.items()
            ],
        )
        modes = {
            # The first new message of the conversation correlates a hand-back it causes.
            key: await self._current_mode(conversations[key][0], entries[0][2]["mid"])
            for key, entries in per_conversation.items()
        }
        announced: set[tuple[str, str]] = set()
        for item, event, row in new:
            key = (item.page_id, event.sender.id or "")
            conversation, created = conversations[key]
            ad = AdReferral.model_validate(row["referral"]) if row["referral"] else None
            via = "postback" if row["kind"] == "postback" else "message"
            await self._announce(
                item, event, conversation, row, ad, modes[key], created and key not in announced, via
            )
            announced.add(key)

    async def _current_mode(self, conversation: Any, correlation: str) -> str:
        """Staff idle for long enough hand the conversation back to the AI before it answers."""
        now = datetime.now(UTC)
        if conversation.mode == "human" and is_idle(
            conversation.human_since, conversation.last_staff_activity_at, now, self.handover_idle
        ):
            await self._mode_changed(
                conversation, "ai", conversation.needs_human, "idle_timeout", correlation, now
            )
            return "ai"
        return str(conversation.mode)

    async def _announce(
        self,
        item: Item,
        event: Messaging,
        conversation: Any,
        row: dict[str, Any],
        ad: AdReferral | None,
        mode: str,
        first_contact: bool,
        via: str,
    ) -> None:
        """Handover requests, ad referrals, and the events a new message causes."""
        psid, mid, text = conversation.psid, row["mid"], row["text"]
        handover_requested = not item.standby and asks_for_person(text)
        if handover_requested:
            await repository.flag_for_human(self.session, conversation.id, "customer_requested")
        if ad is not None:
            await self._referral(conversation.id, item.page_id, psid, ad, _raw_referral(event), via, event.at)
        if first_contact or ad is not None:
            self._contact_seen(item.page_id, psid, conversation.id, event.at, ad, mid)
        self.uow.emit(
            MessageReceived(
                correlation_id=mid,
                data=MessageReceivedData(
                    message_id=row["id"],
                    conversation_id=conversation.id,
                    page_id=item.page_id,
                    psid=psid,
                    mid=mid,
                    text=text,
                    attachments=[Attachment.model_validate(a) for a in row["attachments"]],
                    quick_reply_payload=row["quick_reply_payload"],
                    postback_payload=row["postback_payload"],
                    referral=ad,
                    sent_at=event.at,
                    conversation_mode=mode,  # type: ignore[arg-type]
                    kind=row["kind"],
                    handover_requested=handover_requested,
                    standby=item.standby,
                ),
            )
        )

    async def on_postback(self, item: Item, event: Messaging) -> None:
        """A button the customer pressed: stored and answered like a message (its title is the text)."""
        if await self._customer(item, event) is not None:
            await self.messages([(item, event)])

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
            self.results[item.receipt].stored += 1
            self._contact_seen(
                item.page_id, psid, conversation.id, event.at, ad, f"referral:{psid}:{event.timestamp}"
            )
        else:
            self.results[item.receipt].duplicates += 1

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
            self.results[item.receipt].duplicates += 1
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
            self.results[item.receipt].duplicates += 1
            return
        self.results[item.receipt].stored += 1
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
            self.results[item.receipt].stored += 1

    async def on_delivery(self, item: Item, event: Messaging) -> None:
        assert event.delivery is not None
        conversation = await self._known(item, event)
        if conversation is not None:
            d = event.delivery
            watermark = ms_to_datetime(d.watermark) if d.watermark else None
            await repository.apply_delivery(self.session, conversation.id, d.mids, watermark)
            self.results[item.receipt].stored += 1

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
        self.results[item.receipt].stored += 1

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
            self.results[item.receipt].stored += 1
        else:
            self.results[item.receipt].duplicates += 1

    async def _known(self, item: Item, event: Messaging) -> Any:
        psid = await self._customer(item, event)
        if psid is None:
            return None
        conversation = await repository.find_conversation(self.session, item.page_id, psid)
        if conversation is None:
            await self.quarantine(item, item_kind(item.raw), "receipt for a conversation we do not have")
        return conversation

    async def _mode_changed(
        self,
        conversation: Any,
        mode: Literal["ai", "human"],
        needs_human: bool,
        reason: str,
        correlation: str,
        at: datetime,
    ) -> None:
        await repository.set_mode(
            self.session, conversation.id, mode=mode, needs_human=needs_human, reason=reason, at=at
        )
        self.uow.emit(mode_changed(conversation, mode, needs_human, reason, correlation, at))
