"""The conversation memory: what the customer wrote and what they were answered, in order.

A customer's turn comes from `message.received` (its text), an answer from `message.sent` (the
text Meta accepted, by the AI or by staff: what the customer actually saw, not what was only
drafted). Each event adds at most one turn (UNIQUE source event). A reply reads the recent turns
oldest first, bounded by count and by characters so a long chat cannot crowd the prompt, and
without the message it is answering (which the prompt carries as the last user turn).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import MessageReceived, MessageSent
from crm_servicekit.outbox import UnitOfWork

from . import repository

CONSUMER_SENT = "ai.memory"
Author = Literal["customer", "ai", "staff"]
RECENT_TURNS = 12
RECENT_CHARS = 4000


@dataclass(frozen=True)
class Turn:
    author: Author
    text: str
    at: datetime


async def record_received(session: AsyncSession, event: MessageReceived) -> None:
    """The customer's words (text messages only), in the caller's transaction."""
    d = event.data
    if not (d.text and d.text.strip()):
        return
    await repository.add_turn(
        session,
        {
            "source_event_id": event.event_id,
            "conversation_id": d.conversation_id,
            "page_id": d.page_id,
            "psid": d.psid,
            "author": "customer",
            "text": d.text.strip(),
            "at": d.sent_at,
        },
    )


async def record_sent(uow: UnitOfWork, event: MessageSent) -> None:
    """What the customer was sent, by the AI or by staff; once per event."""
    d = event.data
    if not await uow.claim(event.event_id, CONSUMER_SENT):
        return
    if d.text.strip():
        await repository.add_turn(
            uow.session,
            {
                "source_event_id": event.event_id,
                "conversation_id": d.conversation_id,
                "page_id": d.page_id,
                "psid": d.psid,
                "author": d.sent_by,
                "text": d.text.strip(),
                "at": d.sent_at,
            },
        )
    await uow.commit()


async def recent(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    limit: int = RECENT_TURNS,
    *,
    max_chars: int = RECENT_CHARS,
    exclude_event_id: uuid.UUID | None = None,
) -> list[Turn]:
    """The last turns, oldest first: at most `limit`, and the newest ones that fit `max_chars`."""
    rows = await repository.latest(session, conversation_id, limit, exclude_event_id)
    kept: list[Turn] = []
    used = 0
    for row in rows:  # newest first
        used += len(row.text)
        if used > max_chars:
            break
        kept.append(Turn(author=row.author, text=row.text, at=row.at))
    return kept[::-1]
