"""Everything else Meta sends about a thread, one item at a time: an ad or m.me link opening an
existing thread (stored once, `contact.seen`), echoes of what the Page sent (ours confirm that
Meta delivered the part; one written in the Page inbox means staff took over), delivery and read
receipts of what we sent, reactions, and opt-ins. An item we cannot place is quarantined with the reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from crm_messenger.conversations import messages, outgoing
from crm_messenger.conversations import service as conversations
from crm_messenger.meta.webhook import Messaging, item_kind, ms_to_datetime
from crm_messenger.outbound.service import PART_METADATA, sent_event
from crm_messenger.webhooks import repository
from crm_messenger.webhooks.batch import Batch, Item, ad_referral
from crm_servicekit.logging import get_logger

log = get_logger(__name__)


class PageEvents(Batch):
    async def on_referral(self, item: Item, event: Messaging) -> None:
        """A click-to-Messenger ad (or m.me link) opened an existing thread."""
        assert event.referral is not None
        psid = await self._customer(item, event)
        if psid is None:
            return
        conversation, _ = await conversations.get_or_create(self.session, item.page_id, psid)
        ad = ad_referral(event.referral, event.at)
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

    async def on_echo(self, item: Item, event: Messaging) -> None:
        """A message the Page sent. Ours comes back with our metadata; anything else was written
        by a person in the Page inbox (or another app): staff have taken over."""
        assert event.message is not None
        msg = event.message
        psid = event.recipient.id
        if psid is None:
            await self.quarantine(item, "echo", "no recipient.id (PSID)")
            return
        if (msg.metadata or "").startswith(PART_METADATA):
            await self._delivered(item, event, msg.metadata or "")
            return
        if await messages.is_ours(self.session, item.page_id, msg.mid):
            self.results[item.receipt].duplicates += 1
            return
        conversation, _ = await conversations.get_or_create(self.session, item.page_id, psid)
        stored = await messages.store_echo(
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
        await conversations.note_staff_activity(self.session, conversation.id, event.at)
        if conversation.mode != "human":
            await conversations.change_mode(
                self.uow, conversation, "human", True, "page_inbox_reply", msg.mid, datetime.now(UTC)
            )

    async def _delivered(self, item: Item, event: Messaging, metadata: str) -> None:
        """Our part came back: Meta delivered it. A part whose answer we never recorded (its
        process died, or the database blinked, after Meta accepted it) or that failed as
        "delivery unknown" is `sent` now, announced with `message.sent`."""
        assert event.message is not None
        try:
            part_id = uuid.UUID(metadata.removeprefix(PART_METADATA))
        except ValueError:
            await self.quarantine(item, "echo", "our metadata names no message")
            return
        mid = event.message.mid
        part = await outgoing.confirm_by_echo(self.session, part_id, item.page_id, mid, event.at)
        if part is None:  # recorded as sent already (the usual case), or erased
            await outgoing.mark_echoed(self.session, part_id, item.page_id)
            self.results[item.receipt].duplicates += 1
            return
        self.uow.emit(sent_event(part, mid, event.at))
        if part.source_event_id is not None:
            # The parts after it failed only because its delivery was unknown: they go out now
            # (the sweeper wakes the sender for them).
            await outgoing.revive_later_parts(self.session, part.source_event_id, part.part)
        self.results[item.receipt].stored += 1
        log.info("message confirmed sent by Meta's echo", message_id=str(part_id))

    async def on_read(self, item: Item, event: Messaging) -> None:
        assert event.read is not None
        conversation = await self._known(item, event)
        if conversation is not None:
            await messages.read(self.session, conversation.id, ms_to_datetime(event.read.watermark))
            self.results[item.receipt].stored += 1

    async def on_delivery(self, item: Item, event: Messaging) -> None:
        assert event.delivery is not None
        conversation = await self._known(item, event)
        if conversation is not None:
            d = event.delivery
            watermark = ms_to_datetime(d.watermark) if d.watermark else None
            await messages.delivered(self.session, conversation.id, d.mids, watermark)
            self.results[item.receipt].stored += 1

    async def on_reaction(self, item: Item, event: Messaging) -> None:
        assert event.reaction is not None
        psid = await self._customer(item, event)
        if psid is None:
            return
        r = event.reaction
        if r.action == "react":
            await messages.react(
                self.session, item.page_id, r.mid, psid, r.reaction or "other", r.emoji, event.at
            )
        elif r.action == "unreact":
            await messages.unreact(self.session, item.page_id, r.mid, psid, event.at)
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
        conversation = await conversations.find(self.session, item.page_id, psid)
        if conversation is None:
            await self.quarantine(item, item_kind(item.raw), "receipt for a conversation we do not have")
        return conversation
