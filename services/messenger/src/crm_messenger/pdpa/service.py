"""PDPA in the messenger: erase everything held on a customer's Messenger identities, and export it.

The messenger keys its data by (Page, PSID) and conversation, never by customer id, so a
customer merge needs nothing here (the gateway moves the identities); an erasure names the
identities the customer had.
"""

from __future__ import annotations

from collections.abc import Sequence

from crm_contracts import (
    ChannelIdentity,
    CustomerErasureRequested,
)
from crm_messenger.models import outbox
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.pdpa import complete_erasure

from . import repository
from .repository import Identity

log = get_logger(__name__)

SERVICE = "messenger"
CONSUMER = "messenger.erasure"


def messenger_identities(identities: Sequence[ChannelIdentity]) -> list[Identity]:
    return [(i.page_id, i.external_id) for i in identities if i.channel == "messenger" and i.external_id]


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
    erased, conversation_ids = await repository.erase(uow.session, identities)
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
