"""The exports a consumer rebuilds its copy from (`/internal/v1/export/...`), on the internal API's
seeded accounts: every ad and every stored row comes out once, in keyset pages, as the events
carry them, with the account's newest sync run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_marketing.config import MarketingSettings
from crm_marketing.models import ads, insights_daily, insights_hourly, sync_runs
from crm_servicekit.runtime import Runtime

from . import test_internal_api as internal
from .test_internal_api import ACCOUNT, AD_NEW, D1, D3, OTHER, TOKEN

# The internal API's seeded accounts and runtime (its fixtures).
runtime = internal.runtime
seeded = internal.seeded


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    assert isinstance(runtime.settings, MarketingSettings)
    async with await internal.serve(runtime, runtime.settings) as client:
        yield client


pytestmark = pytest.mark.integration


async def walk(api: httpx.AsyncClient, path: str, limit: int, **params: str) -> tuple[list[Any], int | None]:
    items: list[Any] = []
    after: str | None = None
    total = None
    while True:
        query = {**params, "limit": str(limit), **({"after": after} if after else {})}
        response = await api.get(f"/internal/v1/export/{path}", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        total = page["total"] if after is None else total
        if after is not None:
            assert page["total"] is None, "the total comes on the first page only"
        items.extend(page["items"])
        after = page["next_cursor"]
        if after is None:
            return items, total


async def test_the_structure_comes_out_ad_by_ad(api: httpx.AsyncClient, session: AsyncSession) -> None:
    items, total = await walk(api, "structure", 3)
    mine = [(i["account_id"], i["ad_id"]) for i in items if i["account_id"] in (ACCOUNT, OTHER)]
    stored = sorted(
        (
            await session.execute(
                select(ads.c.account_id, ads.c.id).where(ads.c.account_id.in_([ACCOUNT, OTHER]))
            )
        )
        .tuples()
        .all()
    )
    assert mine == stored
    assert total == await session.scalar(select(func.count()).select_from(ads))
    assert len(items) == total
    named = next(i for i in items if i["account_id"] == ACCOUNT)
    assert named["adset_id"]
    assert named["campaign_id"]


@pytest.mark.parametrize("granularity", ["day", "hour"])
async def test_every_insight_row_comes_out_once_as_the_event_carries_it(
    api: httpx.AsyncClient, session: AsyncSession, granularity: str
) -> None:
    run = await session.scalar(
        insert(sync_runs)
        .values(
            account_id=ACCOUNT,
            kind="daily",
            since=D1,
            until=D3,
            granularities=["day"],
            requested_by="test",
        )
        .returning(sync_runs.c.id)
    )
    await session.commit()
    table = insights_hourly if granularity == "hour" else insights_daily
    items, total = await walk(api, "insights", 7, granularity=granularity)
    facts = [(i["account_id"], f) for i in items for f in i["facts"]]
    assert total == len(facts) == await session.scalar(select(func.count()).select_from(table))
    keys = [(a, f["ad_id"], f["day"], f["hour"]) for a, f in facts]
    assert len(set(keys)) == len(keys), "no row twice across pages"
    assert all(i["granularity"] == granularity and i["currency"] for i in items)
    assert {i["sync_run_id"] for i in items if i["account_id"] == ACCOUNT} == {run}
    spend = sum(Decimal(f["spend"]) for a, f in facts if a == ACCOUNT)
    stored = await session.scalar(select(func.sum(table.c.spend)).where(table.c.account_id == ACCOUNT))
    assert spend == stored
    if granularity == "hour":
        assert all(f["hour"] is not None for _, f in facts)
    unnamed = [f for a, f in facts if f["ad_id"] == AD_NEW]
    assert unnamed
    assert all(f["ad_name"] is None for f in unnamed), "an ad not synced yet has no name"


@pytest.mark.parametrize("after", ["not-a-cursor", "WyJ4Il0", "W10"])
async def test_a_cursor_it_did_not_give_is_refused(api: httpx.AsyncClient, after: str) -> None:
    for path in ("structure", "insights"):
        response = await api.get(f"/internal/v1/export/{path}", params={"after": after})
        assert response.status_code == 422


async def test_the_exports_need_the_token(api: httpx.AsyncClient) -> None:
    for path in ("structure", "insights"):
        response = await api.get(f"/internal/v1/export/{path}", headers={"X-Internal-Token": "wrong"})
        assert response.status_code == 401
    assert TOKEN
