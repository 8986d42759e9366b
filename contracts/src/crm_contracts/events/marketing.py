"""Marketing events: new or changed ad numbers found by a sync of an ad account's insights.

A sync publishes only the facts that changed (one ad, one day or hour each), a few hundred per
event, so a resync that changes nothing publishes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
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


class AdStructure(EventData):
    """One ad as marketing last synced it, with the ad set and campaign it belongs to."""

    ad_id: str
    ad_name: str
    adset_id: str
    adset_name: str | None = Field(description="Null until the ad set itself was synced.")
    campaign_id: str
    campaign_name: str | None = Field(description="Null until the campaign itself was synced.")
    status: str | None = Field(description="Meta's effective status, e.g. `ACTIVE`, `PAUSED`, `ARCHIVED`.")
    updated_time: datetime | None = Field(description="Meta's `updated_time` of the ad.")


class StructureChangedData(EventData):
    account_id: str = Field(description="The ad account, without `act_`.")
    ads: list[AdStructure] = Field(
        description="Ads whose name, status, ad set or campaign (or those's names) changed; "
        "at most a few hundred per event. Each is the ad as it is now, not a difference."
    )


class StructureChanged(Event):
    """A sync found new or changed ads, ad sets or campaigns: every ad they touch, as it is now.

    A renamed campaign re-sends each of its ads, so a consumer keeps one row per ad and never
    needs to join campaigns and ad sets itself.
    """

    type: Literal["marketing.structure_changed"] = "marketing.structure_changed"
    producer: str = "marketing"
    data: StructureChangedData
