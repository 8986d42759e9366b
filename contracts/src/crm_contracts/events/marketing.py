"""Marketing events: new or changed ad numbers found by a sync of an ad account's insights.

A sync publishes only the facts that changed (one ad, one day or hour each), a few hundred per
event, so a resync that changes nothing publishes nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from crm_contracts.envelope import Event, EventData


class InsightFact(EventData):
    """One ad's numbers for one day (or one hour of it), in the account's currency and days."""

    ad_id: str
    ad_name: str | None = Field(description="Null until the ad itself was synced.")
    adset_id: str | None
    adset_name: str | None
    campaign_id: str | None
    campaign_name: str | None
    day: date = Field(description="The ad account's local day (Asia/Bangkok for the school).")
    hour: int | None = Field(description="Local hour 0-23 for hourly facts, null for daily ones.")
    spend: Decimal = Field(description='Exact, e.g. `"1234.50"` (a JSON string).')
    impressions: int
    clicks: int
    link_clicks: int
    messaging_conversations_started: int
    leads: int
    purchases: int
    purchase_value: Decimal


class InsightsChangedData(EventData):
    account_id: str = Field(description="The ad account, without `act_`.")
    currency: str = Field(description="ISO 4217 code of every amount, e.g. `THB`.")
    granularity: Literal["day", "hour"]
    sync_run_id: int
    facts: list[InsightFact] = Field(
        description="New or changed rows only; a resync that changes nothing publishes nothing."
    )


class InsightsChanged(Event):
    """A sync found new or changed ad numbers (at most a few hundred facts per event)."""

    type: Literal["marketing.insights_changed"] = "marketing.insights_changed"
    producer: str = "marketing"
    data: InsightsChangedData
