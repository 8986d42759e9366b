"""The fake Marketing API's rows, read by our parser and stored by our upsert, equal its seeded
truth per campaign and day to the satang, and hourly rows add up to the daily ones."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_fakes import FakeServer, MarketingState, MarketingUniverse, create_marketing_app
from crm_marketing.meta.insights import InsightRow, parse_row
from crm_marketing.models import insights_daily, insights_hourly
from crm_marketing.repository import upsert_insights

pytestmark = pytest.mark.integration

TOKEN = "marketing-token"
START, END = date(2026, 3, 1), date(2026, 3, 31)
FIELDS = ",".join(
    (
        "account_id",
        "campaign_id",
        "adset_id",
        "ad_id",
        "spend",
        "impressions",
        "clicks",
        "inline_link_clicks",
        "reach",
        "actions",
        "action_values",
    )
)


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, MarketingUniverse]]:
    universe = MarketingUniverse(7, campaigns_per_account=3, start=START, end=END)
    with FakeServer(create_marketing_app(MarketingState(universe, access_token=TOKEN))) as server:
        yield server.url, universe


async def rows(url: str, account: str, since: date, until: date, **extra: str) -> list[InsightRow]:
    params = {
        "access_token": TOKEN,
        "level": "ad",
        "time_increment": "1",
        "fields": FIELDS,
        "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
        "limit": "500",
        **extra,
    }
    out: list[dict[str, Any]] = []
    async with httpx.AsyncClient() as http:
        body = (await http.get(f"{url}/v23.0/{account}/insights", params=params)).json()
        out += body["data"]
        while "next" in body.get("paging", {}):
            body = (await http.get(body["paging"]["next"])).json()
            out += body["data"]
    return [parse_row(r) for r in out]


async def test_stored_totals_equal_the_seeded_truth_and_hours_add_up_to_days(
    fake: tuple[str, MarketingUniverse], session: AsyncSession
) -> None:
    url, universe = fake
    account = universe.accounts[0]
    since, until = date(2026, 3, 10), date(2026, 3, 12)
    daily = await rows(url, account.id, since, until)
    hourly = await rows(
        url, account.id, since, since, breakdowns="hourly_stats_aggregated_by_advertiser_time_zone"
    )
    await upsert_insights(session, daily, hourly=False)
    await upsert_insights(session, hourly, hourly=True)
    await session.commit()

    d, h = insights_daily.c, insights_hourly.c
    stored = {
        (r.campaign_id, r.day): r.spend
        for r in await session.execute(
            select(d.campaign_id, d.day, func.sum(d.spend).label("spend")).group_by(d.campaign_id, d.day)
        )
    }
    campaigns = universe.objects("campaign", account.account_id)
    day = since
    while day <= until:
        for campaign in campaigns:
            truth = universe.totals("campaign", campaign.id, day, day).spend
            assert stored.get((campaign.id, day), Decimal("0.00")) == truth, (campaign.id, day)
        day += timedelta(days=1)

    by_ad: dict[str, Decimal] = defaultdict(Decimal)
    for r in await session.execute(select(h.ad_id, h.spend).where(h.day == since)):
        by_ad[r.ad_id] += r.spend
    for r in await session.execute(select(d.ad_id, d.spend).where(d.day == since)):
        assert by_ad[r.ad_id] == r.spend, "hourly rows add up to the daily row"

    # Syncing the same range again changes nothing.
    assert await upsert_insights(session, daily, hourly=False) == []
    assert await upsert_insights(session, hourly, hourly=True) == []
