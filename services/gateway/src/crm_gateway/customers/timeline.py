"""One chronological view per customer: stage changes, notes, orders, conversations started and
AI insights. Entries are written by the transaction (or event handler) that makes the change, so
the view never shows what did not happen; `detail` holds ids, stages and amounts, never personal
data, and `source_id` makes an entry from a redelivered event a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.customers.models import customer_timeline as t

Kind = Literal[
    "customer_created",
    "stage_changed",
    "note_added",
    "order_created",
    "order_status_changed",
    "payment_recorded",
    "conversation_started",
    "ad_touch",
    "merged",
    "merge_undone",
    "ai_insight",
]


async def add(
    session: AsyncSession,
    customer_id: str,
    kind: Kind,
    occurred_at: datetime,
    detail: Mapping[str, Any] | None = None,
    *,
    source_id: str | None = None,
) -> None:
    """Add an entry in the caller's transaction; a second entry with the same `source_id` is dropped."""
    stmt = insert(t).values(
        customer_id=customer_id,
        kind=kind,
        occurred_at=occurred_at,
        detail=dict(detail or {}),
        source_id=source_id,
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[t.c.source_id]))
