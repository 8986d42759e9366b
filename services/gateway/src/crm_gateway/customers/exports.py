"""Every customer, oldest first in keyset pages, in the shape `customer.created` carries, for a
consumer rebuilding its copy (`crm_gateway.exports`). Only what that shape needs to place a
customer: id, channel, stage, identities (ids, no names), touches and creation time; the
profile's personal fields are left out. Merged and erased customers are included: their
`customer.created` was sent once too.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import AdReferral, ChannelIdentity, CustomerCreatedData
from crm_gateway.customers.models import customer_identities as ident
from crm_gateway.customers.models import customers as cust

CustomerKey = tuple[datetime, str]


async def page(
    session: AsyncSession, after: CustomerKey | None, limit: int
) -> list[tuple[CustomerKey, CustomerCreatedData]]:
    """Up to `limit` customers after `after` by (created_at, id)."""
    query = (
        select(
            cust.c.id,
            cust.c.channel,
            cust.c.lifecycle_stage,
            cust.c.first_touch,
            cust.c.latest_touch,
            cust.c.created_at,
        )
        .order_by(cust.c.created_at, cust.c.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(
            tuple_(cust.c.created_at, cust.c.id)
            > tuple_(literal(after[0], cust.c.created_at.type), literal(after[1], cust.c.id.type))
        )
    rows = list(await session.execute(query))
    identities: dict[str, list[ChannelIdentity]] = defaultdict(list)
    if rows:
        found = await session.execute(
            select(ident.c.customer_id, ident.c.channel, ident.c.page_id, ident.c.external_id)
            .where(ident.c.customer_id.in_([r.id for r in rows]))
            .order_by(ident.c.id)
        )
        for i in found:
            identities[i.customer_id].append(
                ChannelIdentity(channel=i.channel, page_id=i.page_id, external_id=i.external_id)
            )
    return [((r.created_at, r.id), _customer(r, identities[r.id])) for r in rows]


def _customer(row: Any, identities: list[ChannelIdentity]) -> CustomerCreatedData:
    return CustomerCreatedData(
        customer_id=row.id,
        channel=row.channel,
        lifecycle_stage=row.lifecycle_stage,
        identities=identities,
        first_touch=AdReferral.model_validate(row.first_touch) if row.first_touch else None,
        latest_touch=AdReferral.model_validate(row.latest_touch) if row.latest_touch else None,
        created_at=row.created_at,
    )


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(cust)) or 0)
