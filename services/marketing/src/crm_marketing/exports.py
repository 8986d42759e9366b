"""Exports for a consumer rebuilding its copy from nothing (the cache-writer's
`python -m crm_cache_writer rebuild`): every stored ad and every stored insight row, in
keyset pages, in the very shapes the events carry (`AdStructure`, `InsightFact` inside
`InsightsChangedData`), so the consumer stores them through the functions its subscribers use.

    GET /internal/v1/export/structure?after=&limit=          ads by (account, ad id)
    GET /internal/v1/export/insights?granularity=day|hour&after=&limit=
                                                             rows by (account, ad, day[, hour])

A page's `next_cursor` is opaque; null on the last page. Insight rows do not record which sync
run wrote them last: an exported page names the account's newest sync run at the time it was
read (`sync_run_id`), so a run finishing after the export still wins at the consumer.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import Table, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import AdStructure, InsightsChangedData
from crm_servicekit.runtime import Runtime

from .models import ad_accounts, ads, adsets, campaigns, insights_daily, insights_hourly, sync_runs
from .reports.by_level import InsightGranularity
from .structure_events import _described

MAX_PAGE = 5000


class ExportedAd(AdStructure):
    account_id: str = Field(description="The ad account, without `act_`.")


TOTAL = "How many there are in all, on the first page (no `after`) only."


class StructurePage(BaseModel):
    items: list[ExportedAd]
    total: int | None = Field(default=None, description=TOTAL)
    next_cursor: str | None = Field(description="Pass as `after` for the next page; null on the last.")


class InsightsPage(BaseModel):
    items: list[InsightsChangedData] = Field(
        description="The page's rows as `marketing.insights_changed` carries them, one item per account."
    )
    total: int | None = Field(default=None, description=TOTAL)
    next_cursor: str | None = Field(description="Pass as `after` for the next page; null on the last.")


def _encode(key: Sequence[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, date) else v for v in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """A cursor this API returned, as its typed key; anything else is a 422."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise TypeError("not a key")
        key: list[Any] = []
        for value, kind in zip(values, kinds, strict=True):
            hour = kind is int and isinstance(value, int) and 0 <= value <= 23
            text = kind is str and isinstance(value, str) and 0 < len(value) <= 32
            if kind is date:
                key.append(date.fromisoformat(value))
            elif hour or text:
                key.append(value)
            else:
                raise TypeError("not a key")
        return tuple(key)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise HTTPException(422, "after: not a cursor this API returned") from exc


async def structure_page(session: AsyncSession, after: tuple[Any, ...] | None, limit: int) -> StructurePage:
    query = _described().add_columns(ads.c.account_id).order_by(ads.c.account_id, ads.c.id).limit(limit + 1)
    if after is not None:
        query = query.where(tuple_(ads.c.account_id, ads.c.id) > tuple_(*after))
    rows = [ExportedAd.model_validate(dict(r._mapping)) for r in await session.execute(query)]
    page, more = rows[:limit], len(rows) > limit
    return StructurePage(
        items=page, next_cursor=_encode([page[-1].account_id, page[-1].ad_id]) if more else None
    )


def _keys(table: Table, hourly: bool) -> list[Any]:
    return [table.c.account_id, table.c.ad_id, table.c.day, *([table.c.hour] if hourly else [])]


async def insights_page(
    session: AsyncSession, granularity: InsightGranularity, after: tuple[Any, ...] | None, limit: int
) -> InsightsPage:
    hourly = granularity == "hour"
    table = insights_hourly if hourly else insights_daily
    keys = _keys(table, hourly)
    query = (
        select(
            table,
            ads.c.name.label("ad_name"),
            adsets.c.name.label("adset_name"),
            campaigns.c.name.label("campaign_name"),
            ad_accounts.c.currency,
        )
        .outerjoin(ads, ads.c.id == table.c.ad_id)
        .outerjoin(adsets, adsets.c.id == table.c.adset_id)
        .outerjoin(campaigns, campaigns.c.id == table.c.campaign_id)
        .outerjoin(ad_accounts, ad_accounts.c.account_id == table.c.account_id)
        .order_by(*keys)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(*keys) > tuple_(*after))
    rows = list(await session.execute(query))
    page, more = rows[:limit], len(rows) > limit
    accounts = sorted({r.account_id for r in page})
    found = await session.execute(
        select(sync_runs.c.account_id, func.max(sync_runs.c.id))
        .where(sync_runs.c.account_id.in_(accounts))
        .group_by(sync_runs.c.account_id)
    )
    newest_runs: dict[str, int] = {account_id: run_id for account_id, run_id in found}
    items = []
    for account_id in accounts:
        mine = [r for r in page if r.account_id == account_id]
        items.append(
            InsightsChangedData.model_validate(
                {
                    "account_id": account_id,
                    "currency": mine[0].currency or "THB",
                    "granularity": granularity,
                    # Rows keep no run id: the newest run of the account when read (see above).
                    "sync_run_id": newest_runs.get(account_id, 0),
                    "facts": [_fact(r, hourly) for r in mine],
                }
            )
        )
    last = page[-1] if page else None
    cursor = None
    if more and last is not None:
        cursor = _encode([last.account_id, last.ad_id, last.day, *([last.hour] if hourly else [])])
    return InsightsPage(items=items, next_cursor=cursor)


def _fact(row: Any, hourly: bool) -> dict[str, Any]:
    return {
        "ad_id": row.ad_id,
        "ad_name": row.ad_name,
        "adset_id": row.adset_id,
        "adset_name": row.adset_name,
        "campaign_id": row.campaign_id,
        "campaign_name": row.campaign_name,
        "day": row.day,
        "hour": row.hour if hourly else None,
        "spend": row.spend,
        "impressions": row.impressions,
        "clicks": row.clicks,
        "link_clicks": row.link_clicks,
        "messaging_conversations_started": row.messaging_conversations_started,
        "leads": row.leads,
        "purchases": row.purchases,
        "purchase_value": row.purchase_value,
    }


async def _count(session: AsyncSession, table: Table) -> int:
    return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def register(api: APIRouter, runtime: Runtime) -> None:
    """Add the export routes to the internal router (its token check applies)."""

    @api.get("/export/structure", response_model=StructurePage)
    async def export_structure(
        after: str | None = None, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000
    ) -> StructurePage:
        """Every ad of every account as it is now, with its ad set and campaign."""
        key = _decode(after, (str, str)) if after else None
        async with runtime.sessionmaker() as session:
            page = await structure_page(session, key, limit)
            if key is None:
                page.total = await _count(session, ads)
        return page

    @api.get("/export/insights", response_model=InsightsPage)
    async def export_insights(
        granularity: InsightGranularity = "day",
        after: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
    ) -> InsightsPage:
        """Every stored ad-level row of one granularity, with the names of its ad, ad set and campaign."""
        kinds: tuple[type, ...] = (str, str, date, *((int,) if granularity == "hour" else ()))
        key = _decode(after, kinds) if after else None
        async with runtime.sessionmaker() as session:
            page = await insights_page(session, granularity, key, limit)
            if key is None:
                page.total = await _count(
                    session, insights_hourly if granularity == "hour" else insights_daily
                )
        return page
