"""Every SQL statement of `customers.leads`: the customer's stored lead score and insights (its
row locked, so two events for one customer apply one after the other) and their updates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.customers.models import customers as cust


async def lock_lead(session: AsyncSession, customer_id: str) -> Row[Any] | None:
    """(lead_score, lead_temperature, lead_scored_at, insights_at), the row locked until commit."""
    query = (
        select(cust.c.lead_score, cust.c.lead_temperature, cust.c.lead_scored_at, cust.c.insights_at)
        .where(cust.c.id == customer_id)
        .with_for_update()
    )
    return (await session.execute(query)).first()


async def set_lead(
    session: AsyncSession,
    customer_id: str,
    *,
    score: int,
    temperature: str,
    reasons: list[Mapping[str, Any]],
    scored_at: datetime,
) -> None:
    await session.execute(
        update(cust)
        .where(cust.c.id == customer_id)
        .values(
            lead_score=score, lead_temperature=temperature, lead_reasons=reasons, lead_scored_at=scored_at
        )
    )


async def set_insights(
    session: AsyncSession, customer_id: str, insights: Mapping[str, Any], at: datetime
) -> None:
    await session.execute(
        update(cust).where(cust.c.id == customer_id).values(insights=dict(insights), insights_at=at)
    )
