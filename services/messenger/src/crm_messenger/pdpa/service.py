"""PDPA in the messenger: erase everything held on a customer's Messenger identities, and export it.

The messenger keys its data by (Page, PSID) and conversation, never by customer id, so a
customer merge needs nothing here (the gateway moves the identities); an erasure names the
identities the customer had. Each capability erases its own part (`conversations.privacy`,
`webhooks.privacy`); this module runs them in order, in one transaction, and reports once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import CustomerErasureRequested
from crm_messenger.conversations import privacy as conversations_privacy
from crm_messenger.db import outbox
from crm_messenger.identities import Identity, messenger_identities
from crm_messenger.webhooks import privacy as webhooks_privacy
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.pdpa import complete_erasure

log = get_logger(__name__)

SERVICE = "messenger"
CONSUMER = "messenger.erasure"


async def erase(
    uow: UnitOfWork, event: CustomerErasureRequested, *, rabbitmq_url: str, parked_queues: Sequence[str]
) -> None:
    """Delete the customer's conversations with everything in them, the copies in transit
    (outbox, parked messages, stored webhooks, quarantine), and report once.

    Claimed by request id: a redelivered or re-sent request does nothing twice and reports once.
    Parked messages are purged before the commit, so a crash only means purging again.
    """
    d = event.data
    if not await uow.claim(d.request_id, CONSUMER):
        return
    identities = messenger_identities(d.identities)
    erased, conversation_ids = await erase_identities(uow.session, identities)
    # Events name the customer by PSID, and by conversation id where the PSID is left out.
    needles = [psid for _, psid in identities] + [str(cid) for cid in conversation_ids]
    await complete_erasure(
        uow,
        event,
        service=SERVICE,
        erased=erased,
        outbox=outbox,
        needles=needles,
        rabbitmq_url=rabbitmq_url,
        parked_queues=parked_queues,
    )


async def erase_identities(
    session: AsyncSession, identities: Sequence[Identity]
) -> tuple[dict[str, int], list[uuid.UUID]]:
    """Delete everything stored on these identities. Returns counts by kind and the ids of the
    conversations deleted (other copies, e.g. events, name them instead of the PSID).

    The conversations are locked first; the rows that reference them (ad referrals, messages) go
    before the conversations themselves."""
    ids = await conversations_privacy.lock(session, identities)
    psids = sorted({psid for _, psid in identities})
    erased = {
        "reactions": await conversations_privacy.erase_reactions(session, identities),
        "referrals": await webhooks_privacy.erase_referrals(session, ids, identities),
        "optins": await webhooks_privacy.erase_optins(session, identities),
        "messages": await conversations_privacy.erase_messages(session, ids),
        "conversations": await conversations_privacy.erase_conversations(session, ids),
        "quarantined_events": await webhooks_privacy.erase_quarantined(session, psids),
        "webhook_items": await webhooks_privacy.erase_stored_webhooks(session, psids),
    }
    return erased, ids
