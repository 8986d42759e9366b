"""What the intake shows staff: the quarantine, the items Meta sent that could not be applied,
newest first, each with the reason (the internal API's `/quarantine`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.webhooks import repository


async def quarantined(session: AsyncSession, limit: int) -> list[Row[Any]]:
    return await repository.list_quarantined(session, limit)
