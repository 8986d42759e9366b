from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .models import replies


async def save_reply(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID:
    reply_id = uuid.uuid4()
    await session.execute(replies.insert().values(id=reply_id, **values))
    return reply_id
