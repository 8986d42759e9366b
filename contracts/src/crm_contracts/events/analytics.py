"""Analytics events: hints between the gateway's dashboards and the cache-writer's analytics.

`analytics.refresh_requested` is a hint, not a fact about the business: the gateway served a
dashboard answer it found stale (the cache-writer's heartbeat old or missing, or days still
waiting to be rendered) and asks the cache-writer to render those Bangkok days, the summary and
its heartbeat again. Losing one costs a later answer's freshness, never a figure; the gateway
publishes it directly (no outbox: nothing was committed), at most once a minute per range.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, model_validator

from crm_contracts.envelope import Event, EventData

RefreshReason = Literal["no_heartbeat", "heartbeat_old", "days_pending"]


class AnalyticsRefreshRequestedData(EventData):
    since: date = Field(description="First Asia/Bangkok day the stale answer covered.")
    until: date = Field(description="Last Asia/Bangkok day, included.")
    requested_at: datetime
    reason: RefreshReason = Field(
        description="Why the answer was stale: `no_heartbeat` (no usable `analytics/state.json`), "
        "`heartbeat_old` (the renderer has not written it for too long), `days_pending` (days "
        "are marked and not rendered yet)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> AnalyticsRefreshRequestedData:
        if self.since > self.until:
            raise ValueError("since is after until")
        return self


class AnalyticsRefreshRequested(Event):
    """A dashboard answer was stale: render these Bangkok days, the summary and the heartbeat
    again (a hint; the cache-writer renders at most a bounded number of the latest days)."""

    type: Literal["analytics.refresh_requested"] = "analytics.refresh_requested"
    producer: str = "gateway"
    data: AnalyticsRefreshRequestedData
