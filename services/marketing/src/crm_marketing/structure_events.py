"""`marketing.structure_changed`: the ads a structure sync touched, each as it is now.

A consumer keeps one row per ad (its name, status, ad set and campaign with their names) and
never joins campaigns and ad sets itself, so a changed campaign re-sends every ad of it, a
changed ad set every ad of it, and a changed ad itself. Each ad is read from our own tables
(an ad set or campaign not synced yet leaves its name null), at most `ADS_PER_EVENT` per event.

A structure sync writes the events to the outbox in the transaction that stores the rows that
changed (see `structure`). When a campaign and its ads change in the same sync an ad is sent
twice, the later event with the newer description; consumers keep the newest per ad.
`republish_all` sends every ad of every account again, for a consumer rebuilding its copy.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import AdStructure, StructureChanged, StructureChangedData
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.runtime import Runtime

from .models import ads, adsets, campaigns

ADS_PER_EVENT = 200


def _described() -> Select[Any]:
    """Ads with the names of their ad set and campaign (null when those were not synced)."""
    return (
        select(
            ads.c.id.label("ad_id"),
            ads.c.name.label("ad_name"),
            ads.c.adset_id,
            adsets.c.name.label("adset_name"),
            ads.c.campaign_id,
            campaigns.c.name.label("campaign_name"),
            ads.c.effective_status.label("status"),
            ads.c.updated_time,
        )
        .select_from(ads)
        .outerjoin(adsets, adsets.c.id == ads.c.adset_id)
        .outerjoin(campaigns, campaigns.c.id == ads.c.campaign_id)
    )


async def _read(
    session: AsyncSession, *where: ColumnElement[bool], limit: int | None = None
) -> list[AdStructure]:
    query = _described().where(*where).order_by(ads.c.id).limit(limit)
    return [AdStructure.model_validate(dict(row._mapping)) for row in await session.execute(query)]


async def ads_touched(
    session: AsyncSession, account_id: str, level: str, changed_ids: Collection[str]
) -> list[AdStructure]:
    """Every ad of the account under the changed campaigns, ad sets or ads, as it is now."""
    if not changed_ids:
        return []
    parent = {"campaign": ads.c.campaign_id, "adset": ads.c.adset_id, "ad": ads.c.id}[level]
    return await _read(session, ads.c.account_id == account_id, parent.in_(sorted(changed_ids)))


def emit_structure(
    uow: UnitOfWork, account_id: str, described: Sequence[AdStructure], correlation_id: str
) -> int:
    """Emit `described` in events of at most `ADS_PER_EVENT` ads; returns how many events."""
    events = 0
    for start in range(0, len(described), ADS_PER_EVENT):
        part = list(described[start : start + ADS_PER_EVENT])
        uow.emit(
            StructureChanged(
                correlation_id=correlation_id,
                data=StructureChangedData(account_id=account_id, ads=part),
            )
        )
        events += 1
    return events


@dataclass(frozen=True)
class Republished:
    ads: int
    events: int


async def republish_all(runtime: Runtime, correlation_id: str | None = None) -> Republished:
    """Send every ad of every account again, `ADS_PER_EVENT` per event, one transaction each."""
    correlation_id = correlation_id or f"structure-republish-{uuid.uuid4()}"
    async with runtime.sessionmaker() as session:
        accounts = list(
            (await session.scalars(select(ads.c.account_id).distinct().order_by(ads.c.account_id))).all()
        )
    sent = events = 0
    for account_id in accounts:
        after = ""
        while True:
            async with runtime.uow() as uow:
                page = await _read(
                    uow.session, ads.c.account_id == account_id, ads.c.id > after, limit=ADS_PER_EVENT
                )
                if not page:
                    break
                events += emit_structure(uow, account_id, page, correlation_id)
                await uow.commit()
            sent += len(page)
            after = page[-1].ad_id
    return Republished(sent, events)
