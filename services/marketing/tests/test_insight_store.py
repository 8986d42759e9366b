"""Insights are stored by bulk upsert: a resync is a no-op, changed numbers win."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_marketing.meta.insights import InsightRow, parse_row
from crm_marketing.models import insights_daily, insights_hourly
from crm_marketing.repository import upsert_insights

pytestmark = pytest.mark.integration


def hourly_rows(ad: str, day: str, spend_per_hour: str = "12.34") -> list[InsightRow]:
    return [
        parse_row(
            {
                "account_id": "act-1",
                "campaign_id": "c1",
                "adset_id": "s1",
                "ad_id": ad,
                "date_start": day,
                "date_stop": day,
                "hourly_stats_aggregated_by_advertiser_time_zone": f"{h:02d}:00:00 - {h:02d}:59:59",
                "spend": spend_per_hour,
                "impressions": str(100 + h),
                "clicks": "3",
                "actions": [
                    {"action_type": "onsite_conversion.messaging_conversation_started_7d", "value": "1"}
                ],
            }
        )
        for h in range(24)
    ]


async def test_first_load_inserts_a_resync_changes_nothing_and_new_numbers_win(session: AsyncSession) -> None:
    rows = hourly_rows("ad-a", "2026-11-01") + hourly_rows("ad-b", "2026-11-01")
    first = await upsert_insights(session, rows, hourly=True)
    await session.commit()
    assert len(first) == 48
    assert all(c.inserted for c in first)

    assert await upsert_insights(session, rows, hourly=True) == []
    await session.commit()

    corrected = hourly_rows("ad-a", "2026-11-01", spend_per_hour="12.35")[:3]  # Meta revised 3 hours
    changed = await upsert_insights(session, corrected, hourly=True)
    await session.commit()
    assert sorted((c.ad_id, c.hour, c.inserted) for c in changed) == [("ad-a", h, False) for h in range(3)]

    spend = await session.scalar(
        select(func.sum(insights_hourly.c.spend)).where(
            insights_hourly.c.ad_id == "ad-a", insights_hourly.c.day == date(2026, 11, 1)
        )
    )
    assert spend == Decimal("12.35") * 3 + Decimal("12.34") * 21, "exact to the satang"
    count = await session.scalar(
        select(func.count()).select_from(insights_hourly).where(insights_hourly.c.account_id == "act-1")
    )
    assert count == 48


async def test_daily_rows_keep_reach_and_the_actions_lists(session: AsyncSession) -> None:
    row = parse_row(
        {
            "account_id": "act-1",
            "ad_id": "ad-d",
            "date_start": "2026-11-02",
            "date_stop": "2026-11-02",
            "spend": "5339.5",
            "impressions": "361324",
            "reach": "200000",
            "clicks": "10",
            "actions": [{"action_type": "lead", "value": "4", "7d_click": "3", "1d_view": "1"}],
        }
    )
    [changed] = await upsert_insights(session, [row], hourly=False)
    await session.commit()
    assert changed.hour is None
    stored = (await session.execute(select(insights_daily).where(insights_daily.c.ad_id == "ad-d"))).one()
    assert (stored.spend, stored.reach, stored.leads) == (Decimal("5339.50"), 200000, 4)
    assert stored.actions == [{"action_type": "lead", "value": "4", "7d_click": "3", "1d_view": "1"}]
