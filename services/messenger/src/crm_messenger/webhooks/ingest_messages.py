"""Customer messages and postbacks, a run at a time: the conversations found or opened, the
messages stored once per `mid` and counted on their conversation, all in a few statements
whatever the run's length; then, in timestamp order, for each new message: a customer asking for
a person flags the conversation, an ad referral is stored, a first contact or an ad is announced
(`contact.seen`), and the message itself (`message.received`, with the mode the conversation is in
once staff idle for too long have handed it back to the AI)."""

from __future__ import annotations

import uuid
from typing import Any

from crm_contracts import AdReferral, Attachment, MessageReceived, MessageReceivedData
from crm_messenger.conversations import messages
from crm_messenger.conversations import service as conversations
from crm_messenger.conversations.rules import asks_for_person
from crm_messenger.meta.webhook import Messaging, Referral
from crm_messenger.webhooks.batch import Batch, Item, ad_referral


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
    ad = ad_referral(_raw_referral(event), event.at)
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


class CustomerMessages(Batch):
    async def messages(self, run: list[tuple[Item, Messaging]]) -> None:
        """Customer messages, a run at a time: conversations, messages and counters in a few
        statements whatever the run's length; events in timestamp order."""
        if not run:
            return
        session = self.session
        keys = list(dict.fromkeys((item.page_id, event.sender.id or "") for item, event in run))
        found = await conversations.ensure(session, keys)
        rows: list[dict[str, Any]] = []
        fresh: dict[str, tuple[Item, Messaging, dict[str, Any]]] = {}
        for item, event in run:
            key = (item.page_id, event.sender.id or "")
            row = _row(item, event, found[key][0].id)
            if f"{key[0]}/{row['mid']}" in fresh:
                self.results[item.receipt].duplicates += 1  # the same mid twice in one batch
                continue
            rows.append(row)
            fresh[f"{key[0]}/{row['mid']}"] = (item, event, row)
        stored = await messages.store_inbound(session, rows)
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
        await conversations.note_customer_messages(
            session,
            [
                (found[key][0].id, max(e[1].at for e in entries), len(entries))
                for key, entries in per_conversation.items()
            ],
        )
        modes = {
            # The first new message of the conversation correlates a hand-back it causes.
            key: await conversations.hand_back_if_idle(
                self.uow, found[key][0], entries[0][2]["mid"], self.handover_idle
            )
            for key, entries in per_conversation.items()
        }
        announced: set[tuple[str, str]] = set()
        for item, event, row in new:
            key = (item.page_id, event.sender.id or "")
            conversation, created = found[key]
            ad = AdReferral.model_validate(row["referral"]) if row["referral"] else None
            via = "postback" if row["kind"] == "postback" else "message"
            await self._announce(
                item, event, conversation, row, ad, modes[key], created and key not in announced, via
            )
            announced.add(key)

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
            await conversations.flag_for_human(self.session, conversation.id, "customer_requested")
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
