"""The ad account, its campaigns, ad sets and ads, synced incrementally by `updated_time`.

Every effective status is asked for explicitly: without it Meta leaves archived and deleted
objects out, and their names are what old numbers are reported under. A listing's cursor is
the newest `updated_time` it returned, stored once the whole listing was read; the next sync asks
only for objects updated since (one second of overlap: the upsert makes repeats harmless).

A page whose objects are new or changed (name, status, effective status, parent ids) emits
`marketing.structure_changed` with every ad they touch, in the transaction that stores the page
(see `structure_events`); a resync that changes nothing publishes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_servicekit.runtime import Runtime

from .meta.client import MarketingClient
from .models import ad_accounts, ads, adsets, campaigns, structure_cursors
from .structure_events import ads_touched, emit_structure

EFFECTIVE_STATUSES = (
    "ACTIVE",
    "PAUSED",
    "DELETED",
    "ARCHIVED",
    "CAMPAIGN_PAUSED",
    "ADSET_PAUSED",
    "IN_PROCESS",
    "WITH_ISSUES",
    "PENDING_REVIEW",
    "DISAPPROVED",
    "PREAPPROVED",
    "PENDING_BILLING_INFO",
)
ACCOUNT_FIELDS = "id,account_id,name,currency,timezone_name,account_status"
_COMMON = ("id", "name", "status", "effective_status", "created_time", "updated_time")
LEVELS: tuple[tuple[str, str, Table, tuple[str, ...]], ...] = (
    ("campaign", "campaigns", campaigns, (*_COMMON, "objective", "daily_budget", "lifetime_budget")),
    ("adset", "adsets", adsets, (*_COMMON, "campaign_id", "daily_budget", "lifetime_budget")),
    ("ad", "ads", ads, (*_COMMON, "campaign_id", "adset_id")),
)
# What a consumer of `marketing.structure_changed` sees of an object; other fields (budgets,
# times) are stored without publishing anything.
_DESCRIBING = ("name", "status", "effective_status", "campaign_id", "adset_id")


def meta_time(value: Any) -> datetime | None:
    """Meta's `2026-01-05T10:23:11+0700`."""
    if not value:
        return None
    return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")


def budget(value: Any) -> Decimal | None:
    """Budgets come in the currency's minor units (satang for THB)."""
    if value in (None, "", "0"):
        return None
    return (Decimal(str(value)) / 100).quantize(Decimal("0.01"))


def _record(account_id: str, item: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {"account_id": account_id}
    for name in fields:
        value = item.get(name)
        if name.endswith("_time"):
            value = meta_time(value)
        elif name.endswith("_budget"):
            value = budget(value)
        row[name] = value
    row["name"] = row["name"] or ""
    return row


async def sync_structure(
    client: MarketingClient,
    runtime: Runtime,
    account_id: str,
    *,
    page_size: int = 200,
    correlation_id: str | None = None,
) -> dict[str, int]:
    """Fetch what changed since the last sync; returns how many objects were stored per level.

    New or changed objects emit `marketing.structure_changed` (with `correlation_id`, by
    default `structure-sync-<account>`) carrying every ad they touch.
    """
    sessions = runtime.sessionmaker
    correlation_id = correlation_id or f"structure-sync-{account_id}"
    account = await client.get(f"/act_{account_id}", {"fields": ACCOUNT_FIELDS})
    async with sessions() as session, session.begin():
        values = {
            "account_id": account_id,
            "name": account.get("name") or "",
            "currency": account.get("currency") or "THB",
            "timezone_name": account.get("timezone_name") or "Asia/Bangkok",
            "account_status": account.get("account_status"),
        }
        stmt = insert(ad_accounts).values(values)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["account_id"],
                set_={**{k: stmt.excluded[k] for k in values if k != "account_id"}, "synced_at": func.now()},
            )
        )
    counts: dict[str, int] = {}
    for level, edge, table, fields in LEVELS:
        counts[level] = await _sync_level(
            client, runtime, account_id, level, edge, table, fields, page_size, correlation_id
        )
    return counts


async def _changed(session: AsyncSession, table: Table, records: list[dict[str, Any]]) -> set[str]:
    """Ids of the records that are new, or differ from the stored row in what consumers see.

    Read (and locked) in the transaction that then upserts them."""
    watched = [name for name in _DESCRIBING if name in table.c]
    ids = [r["id"] for r in records]
    query = select(table.c.id, *(table.c[n] for n in watched)).where(table.c.id.in_(ids)).with_for_update()
    stored = {row.id: tuple(row)[1:] for row in await session.execute(query)}
    return {r["id"] for r in records if stored.get(r["id"]) != tuple(r.get(n) for n in watched)}


async def _sync_level(
    client: MarketingClient,
    runtime: Runtime,
    account_id: str,
    level: str,
    edge: str,
    table: Table,
    fields: tuple[str, ...],
    page_size: int,
    correlation_id: str,
) -> int:
    sessions = runtime.sessionmaker
    async with sessions() as session:
        since = await session.scalar(
            select(structure_cursors.c.updated_since).where(
                structure_cursors.c.account_id == account_id, structure_cursors.c.level == level
            )
        )
    params = {"fields": ",".join(fields), "effective_status": json.dumps(list(EFFECTIVE_STATUSES))}
    if since is not None:
        params["filtering"] = json.dumps(
            [{"field": "updated_time", "operator": "GREATER_THAN", "value": int(since.timestamp()) - 1}]
        )
    newest = since
    stored = 0
    async for page in client.pages(f"/act_{account_id}/{edge}", params, page_size=page_size):
        records = [_record(account_id, item, fields) for item in page if item.get("id")]
        if not records:
            continue
        async with runtime.uow() as uow:
            changed = await _changed(uow.session, table, records)
            stmt = insert(table).values(records)
            await uow.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["id"],
                    set_={
                        **{c: stmt.excluded[c] for c in ("account_id", *fields) if c != "id"},
                        "synced_at": func.now(),
                    },
                )
            )
            touched = await ads_touched(uow.session, account_id, level, changed)
            emit_structure(uow, account_id, touched, correlation_id)
            await uow.commit()
        stored += len(records)
        for r in records:
            if r["updated_time"] is not None and (newest is None or r["updated_time"] > newest):
                newest = r["updated_time"]
    if newest is not None and newest != since:
        async with sessions() as session, session.begin():
            stmt = insert(structure_cursors).values(account_id=account_id, level=level, updated_since=newest)
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["account_id", "level"],
                    set_={"updated_since": stmt.excluded.updated_since},
                )
            )
    return stored


async def child_ids(sessions: async_sessionmaker[AsyncSession], level: str, parent_id: str) -> list[str]:
    """Campaign ids of an account, or ad set ids of a campaign, as last synced (archived too)."""
    async with sessions() as session:
        if level == "account":
            query = select(campaigns.c.id).where(campaigns.c.account_id == parent_id.removeprefix("act_"))
        else:
            query = select(adsets.c.id).where(adsets.c.campaign_id == parent_id)
        return list((await session.scalars(query.order_by("id"))).all())
