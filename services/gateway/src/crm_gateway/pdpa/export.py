"""A customer's PDPA (Thailand) right of access: one JSON document with everything the system
holds on them (`schemas.CustomerExport`).

The gateway's part is gathered from the capabilities that hold it, each reading its rows column
by column (`SELECT *`), so a field added to a table later is exported without anyone remembering
this module: the customer and those merged into it (`customers.privacy`), their orders with lines
and payments (`orders.privacy`), and the audit entries about the customers and those orders
(`audit.service`). The messenger's and the ai service's parts are asked for concurrently and
passed on whole. If either cannot answer, there is no export (`ExportIncomplete`, 503): an
incomplete export is never presented as complete. A given export is audited (`customer.export`);
the document itself is never logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ChannelIdentity
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.clients.ai import AiClient, AiExport
from crm_gateway.clients.messenger import MessengerClient, MessengerExport
from crm_gateway.customers import privacy as customer_privacy
from crm_gateway.customers.errors import CustomerNotFound
from crm_gateway.customers.ids import is_customer_id
from crm_gateway.errors import RETRY_SOON, Problem
from crm_gateway.orders import privacy as order_privacy
from crm_gateway.pdpa.schemas import CustomerExport
from crm_servicekit.runtime import Runtime

EXPORT_ACTION = "customer.export"


class ExportIncomplete(Problem):
    status = 503
    slug = "export-incomplete"
    title = "Export incomplete"
    headers = RETRY_SOON

    def __init__(self, services: Sequence[str]) -> None:
        names = " and ".join(services)
        verb = "does" if len(services) == 1 else "do"
        super().__init__(
            f"The export would be incomplete: the {names} service{'s' if len(services) > 1 else ''} "
            f"{verb} not answer. Nothing was exported; try again shortly."
        )


async def export_customer(
    runtime: Runtime,
    customer_id: str,
    *,
    staff: Staff,
    messenger: MessengerClient,
    ai: AiClient,
    now: datetime | None = None,
) -> CustomerExport:
    if not is_customer_id(customer_id):
        raise CustomerNotFound(customer_id)
    # Short sessions: no connection is held while the other services answer.
    async with runtime.sessionmaker() as session:
        held = await gateway_copy(session, customer_id)
    from_messenger, from_ai = await _other_services(held.identities, messenger, ai)
    async with runtime.uow() as uow:
        await audit.record(uow.session, actor=staff, action=EXPORT_ACTION, entity=("customer", customer_id))
        await uow.commit()
    return CustomerExport(
        exported_at=now or datetime.now(UTC),
        customer_id=customer_id,
        **held.sections,
        messenger=from_messenger,
        ai=from_ai,
    )


@dataclass(frozen=True)
class GatewayCopy:
    identities: list[ChannelIdentity]
    sections: dict[str, Any]


async def gateway_copy(session: AsyncSession, customer_id: str) -> GatewayCopy:
    """Every row of the gateway about the customer and the customers merged into it."""
    merged = await customer_privacy.merged_into(session, customer_id)
    held = await customer_privacy.export(session, customer_id, merged)
    if held is None:
        raise CustomerNotFound(customer_id)
    ids = [customer_id, *merged]
    orders = await order_privacy.export(session, ids)
    return GatewayCopy(
        identities=held.identities,
        sections={
            "profile": held.profile,
            "merged_customers": held.merged_customers,
            "stage_history": held.stage_history,
            "notes": held.notes,
            "timeline": held.timeline,
            "orders": orders,
            "audit": await audit.entries_about(
                session, customer_ids=ids, order_ids=[str(o["id"]) for o in orders]
            ),
        },
    )


async def _other_services(
    identities: list[ChannelIdentity], messenger: MessengerClient, ai: AiClient
) -> tuple[MessengerExport, AiExport]:
    """Both services' parts, asked for at the same time; ExportIncomplete names those that failed."""
    if not identities:  # nothing of theirs can be about a customer without an identity
        return MessengerExport(conversations=[]), AiExport(replies=[])
    from_messenger, from_ai = await asyncio.gather(
        messenger.export(identities), ai.export(identities), return_exceptions=True
    )
    failed = [
        name for name, got in (("messenger", from_messenger), ("ai", from_ai)) if isinstance(got, Problem)
    ]
    if failed:
        raise ExportIncomplete(failed)
    if isinstance(from_messenger, BaseException):  # a bug, not an answer: the 500 handler logs it
        raise from_messenger
    if isinstance(from_ai, BaseException):
        raise from_ai
    return from_messenger, from_ai
