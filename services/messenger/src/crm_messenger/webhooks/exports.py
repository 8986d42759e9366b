"""An export for a consumer rebuilding its copy from nothing (the cache-writer's
`python -m crm_cache_writer rebuild`): every referral that named an ad, as `contact.seen` carried
it (the conversation, the ad, when), oldest first, in keyset pages.

    GET /internal/v1/export/ad-referrals?after=&limit=

`next_cursor` is opaque; null on the last page. No PSID, name or text leaves through it.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from crm_messenger.config import MessengerSettings
from crm_messenger.webhooks.models import referrals
from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime

MAX_PAGE = 5000


class AdReferralRow(BaseModel):
    conversation_id: uuid.UUID
    ad_id: str
    referred_at: datetime = Field(description="When the customer came through the ad (Meta's time).")


class AdReferralsPage(BaseModel):
    items: list[AdReferralRow]
    total: int | None = Field(default=None, description="How many there are in all, on the first page only.")
    next_cursor: str | None = Field(description="Pass as `after` for the next page; null on the last.")


def encode(row_id: int) -> str:
    return base64.urlsafe_b64encode(str(row_id).encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    """A cursor this API returned; anything else is a 422."""
    try:
        value = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, "after: not a cursor this API returned") from exc
    if value < 0:
        raise HTTPException(422, "after: not a cursor this API returned")
    return value


def router(runtime: Runtime, settings: MessengerSettings) -> APIRouter:
    api = internal_router(settings.crm_internal_token)

    @api.get("/export/ad-referrals", response_model=AdReferralsPage)
    async def export_ad_referrals(
        after: str | None = None, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000
    ) -> AdReferralsPage:
        """Every stored referral that named an ad, by when it was stored."""
        named = referrals.c.ad_id.is_not(None)
        query = (
            select(referrals.c.id, referrals.c.conversation_id, referrals.c.ad_id, referrals.c.occurred_at)
            .where(named)
            .order_by(referrals.c.id)
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(referrals.c.id > decode(after))
        async with runtime.sessionmaker() as session:
            rows = list(await session.execute(query))
            counted = select(func.count()).select_from(referrals).where(named)
            total = None if after else await session.scalar(counted)
        page, more = rows[:limit], len(rows) > limit
        return AdReferralsPage(
            items=[
                AdReferralRow(conversation_id=r.conversation_id, ad_id=r.ad_id, referred_at=r.occurred_at)
                for r in page
            ],
            total=total,
            next_cursor=encode(page[-1].id) if more else None,
        )

    return api
