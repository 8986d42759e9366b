"""One chronological view per customer: stage changes, notes, orders, conversations started, AI
insights and big changes of the lead score. Entries are written by the transaction (or event
handler) that makes the change, so the view never shows what did not happen; `detail` holds
ids, stages, amounts and scores, never personal data, and `source_id` makes an entry from a
redelivered event a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from . import repository

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
    "lead_scored",
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
    await repository.add_timeline_entry(session, customer_id, kind, occurred_at, detail, source_id=source_id)
