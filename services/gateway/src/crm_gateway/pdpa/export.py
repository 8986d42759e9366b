"""A customer's PDPA (Thailand) right of access: one JSON document with everything the system
holds on them.

The gateway's own part is read column by column (`SELECT *`), so a field added to a table later
is exported without anyone remembering this module; the messenger's and the ai service's parts
are asked for concurrently and passed on whole. If either cannot answer, there is no export
(`ExportIncomplete`, 503): an incomplete export is never presented as complete. A given export
is audited (`customer.export`); the document itself is never logged.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ChannelIdentity
from crm_gateway.audit import service as audit
from crm_gateway.audit.models import audit_log
from crm_gateway.auth.domain import Staff
from crm_gateway.catalog.models import products
from crm_gateway.clients.ai import REPLY_EXAMPLE, AiClient, AiExport
from crm_gateway.clients.messenger import (
    CONVERSATION_EXAMPLE,
    MESSAGE_EXAMPLE,
    MessengerClient,
    MessengerExport,
)
from crm_gateway.customers.ids import is_customer_id
from crm_gateway.customers.models import customer_identities as ident
from crm_gateway.customers.models import customer_notes, customer_stage_changes, customer_timeline
from crm_gateway.customers.models import customers as cust
from crm_gateway.errors import RETRY_SOON, CustomerNotFound, Problem
from crm_gateway.orders.models import order_lines, orders, payments
from crm_gateway.pdpa.scrub import merged_into
from crm_servicekit.runtime import Runtime

EXPORT_ACTION = "customer.export"
# Derived from the names (which are exported), for search only.
NOT_EXPORTED = frozenset({"search_names"})

Row = dict[str, Any]


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


_PROFILE_EXAMPLE: Row = {
    "id": "TVS-CUS-FB-26-0001",
    "channel": "FB",
    "display_name": "Somchai Jaidee",
    "name_th": "สมชาย ใจดี",
    "phone": "+66812345678",
    "email": "somchai@example.com",
    "state": "active",
    "identities": [{"channel": "messenger", "page_id": "1029384756", "external_id": "6543210987654321"}],
}


class CustomerExport(BaseModel):
    """Everything the system holds on one customer. Every row is exported with all its columns."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "exported_at": "2026-05-02T08:00:00Z",
                    "customer_id": "TVS-CUS-FB-26-0001",
                    "profile": _PROFILE_EXAMPLE,
                    "merged_customers": [],
                    "stage_history": [
                        {"from_stage": None, "to_stage": "lead", "changed_at": "2026-04-28T09:00:00Z"}
                    ],
                    "notes": [{"body": "Prefers weekend classes.", "created_at": "2026-04-29T10:00:00Z"}],
                    "timeline": [{"kind": "order_created", "detail": {"total": "12500.00"}}],
                    "orders": [{"total": "12500.00", "lines": [], "payments": []}],
                    "audit": [
                        {
                            "action": "customer.update",
                            "changes": {"phone": {"before": None, "after": "+66***678"}},
                        }
                    ],
                    "messenger": {
                        "service": "messenger",
                        "conversations": [{**CONVERSATION_EXAMPLE, "messages": [MESSAGE_EXAMPLE]}],
                    },
                    "ai": {"service": "ai", "replies": [REPLY_EXAMPLE]},
                }
            ]
        }
    )

    exported_at: datetime
    customer_id: str
    profile: Row = Field(description="Every field of the customer, with its channel `identities`.")
    merged_customers: list[Row] = Field(description="Customers merged into this one (the same person).")
    stage_history: list[Row]
    notes: list[Row]
    timeline: list[Row]
    orders: list[Row] = Field(description="Each with its `lines` and `payments`.")
    audit: list[Row] = Field(description="Audit entries about the customer and their orders.")
    messenger: MessengerExport
    ai: AiExport


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
    ids = [customer_id, *await merged_into(session, customer_id)]
    customers = {r["id"]: r for r in await _rows(session, select(cust).where(cust.c.id.in_(ids)))}
    if customer_id not in customers:
        raise CustomerNotFound(customer_id)
    identity_rows = await _rows(
        session, select(ident).where(ident.c.customer_id.in_(ids)).order_by(ident.c.id)
    )
    by_customer: dict[str, list[Row]] = defaultdict(list)
    for i in identity_rows:
        by_customer[i["customer_id"]].append({k: i[k] for k in ("channel", "page_id", "external_id")})
    profiles = {c: {**row, "identities": by_customer[c]} for c, row in customers.items()}

    order_rows = await _rows(
        session,
        select(orders).where(orders.c.customer_id.in_(ids)).order_by(orders.c.created_at, orders.c.id),
    )
    order_ids = [o["id"] for o in order_rows]
    return GatewayCopy(
        identities=[
            ChannelIdentity(channel=i["channel"], page_id=i["page_id"], external_id=i["external_id"])
            for i in identity_rows
        ],
        sections={
            "profile": profiles.pop(customer_id),
            "merged_customers": list(profiles.values()),
            "stage_history": await _rows(
                session,
                select(customer_stage_changes)
                .where(customer_stage_changes.c.customer_id.in_(ids))
                .order_by(customer_stage_changes.c.changed_at, customer_stage_changes.c.id),
            ),
            "notes": await _rows(
                session,
                select(customer_notes)
                .where(customer_notes.c.customer_id.in_(ids))
                .order_by(customer_notes.c.created_at),
            ),
            "timeline": await _rows(
                session,
                select(customer_timeline)
                .where(customer_timeline.c.customer_id.in_(ids))
                .order_by(customer_timeline.c.occurred_at, customer_timeline.c.id),
            ),
            "orders": await _with_lines_and_payments(session, order_rows),
            "audit": await _rows(
                session,
                select(audit_log)
                .where(
                    ((audit_log.c.entity_type == "customer") & audit_log.c.entity_id.in_(ids))
                    | (
                        (audit_log.c.entity_type == "order")
                        & audit_log.c.entity_id.in_([str(o) for o in order_ids])
                    )
                )
                .order_by(audit_log.c.at, audit_log.c.id),
            ),
        },
    )


async def _with_lines_and_payments(session: AsyncSession, order_rows: list[Row]) -> list[Row]:
    order_ids = [o["id"] for o in order_rows]
    lines: dict[Any, list[Row]] = defaultdict(list)
    for line in await _rows(
        session,
        select(order_lines, products.c.name_th.label("product_name"))
        .join(products, products.c.id == order_lines.c.product_id)
        .where(order_lines.c.order_id.in_(order_ids))
        .order_by(order_lines.c.id),
    ):
        lines[line["order_id"]].append(line)
    paid: dict[Any, list[Row]] = defaultdict(list)
    for payment in await _rows(
        session,
        select(payments)
        .where(payments.c.order_id.in_(order_ids))
        .order_by(payments.c.received_at, payments.c.id),
    ):
        paid[payment["order_id"]].append(payment)
    return [{**o, "lines": lines[o["id"]], "payments": paid[o["id"]]} for o in order_rows]


async def _rows(session: AsyncSession, query: Any) -> list[Row]:
    return [
        {k: v for k, v in r._mapping.items() if k not in NOT_EXPORTED} for r in await session.execute(query)
    ]


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
