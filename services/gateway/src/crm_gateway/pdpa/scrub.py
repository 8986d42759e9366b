"""What an erasure does to the gateway's copy of a person (see `pdpa.service` for the request
around it), step by step in the caller's transaction, each capability erasing its own part:

1. `customers.privacy` gathers the person's values first (to find them in free text later), then
   deletes the identities, the notes and the timeline entries that name the person;
2. `orders.privacy` keeps orders, lines and payments for the school's accounts but clears
   payment references, refund reasons and the ad touches' free-form `ref`;
3. `audit.service` keeps who did what when in the entries about the person (or naming them),
   with the values of personal fields replaced and a merge's undo dropped;
4. unpublished outbox events naming the person are dropped (`crm_servicekit.pdpa.purge_outbox`);
5. `customers.privacy` leaves each customer row as an anonymous, erased stub.

Values are searched for as JSON writes them, and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ChannelIdentity
from crm_gateway.audit import service as audit
from crm_gateway.customers import privacy as customer_privacy
from crm_gateway.db import outbox
from crm_gateway.orders import privacy as order_privacy
from crm_servicekit.pdpa import purge_outbox


@dataclass(frozen=True)
class GatewayErasure:
    identities: list[ChannelIdentity]
    """The identities the customers had, for the other services to find their copies by."""
    counts: dict[str, int]
    """What was erased, by kind (no data)."""
    needles: list[str]
    """Values unique to the person (PSIDs, phones, e-mails, quoted customer ids)."""


async def erase_gateway_copy(
    session: AsyncSession, customer_ids: list[str], *, now: datetime
) -> GatewayErasure:
    """Everything the gateway holds on these customers that names the person, gone or anonymised
    in the caller's transaction."""
    needles = await customer_privacy.personal_values(session, customer_ids)
    identities = await customer_privacy.delete_identities(session, customer_ids)
    # Unique to this person wherever they appear, unlike a first name.
    distinctive = [
        *(i.external_id for i in identities),
        *needles.distinctive,
        *(f'"{c}"' for c in customer_ids),
    ]
    counts = {"identities": len(identities)}
    counts["notes"] = await customer_privacy.delete_notes(session, customer_ids)
    counts["timeline_entries"] = await customer_privacy.delete_personal_timeline(
        session, customer_ids, [*needles.all, *distinctive]
    )
    orders = await order_privacy.erase(session, customer_ids)
    counts["orders_anonymised"] = len(orders.order_ids)
    counts["payments_anonymised"] = orders.payments
    counts["audit_entries"] = await audit.scrub_personal(
        session,
        customer_ids=customer_ids,
        order_ids=[str(o) for o in orders.order_ids],
        mentioning=distinctive,
        needles=customer_privacy.searchable([*needles.all, *distinctive]),
    )
    counts["outbox_events"] = await purge_outbox(session, outbox, distinctive)
    counts["customers"] = await customer_privacy.make_stubs(session, customer_ids, now=now)
    return GatewayErasure(identities, counts, distinctive)
