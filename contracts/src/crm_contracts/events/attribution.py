"""Ad attribution: where a contact came from, carried by messaging, customer and order events.

A Messenger contact that arrives through a click-to-Messenger ad or an m.me link brings a referral;
the customer keeps its first and latest one, and every order is stamped with both when it is
taken, so revenue can be traced back to ads and campaigns.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from crm_contracts.envelope import EventData


class AdReferral(EventData):
    """Where a Messenger contact came from (click-to-Messenger ad, m.me link, ...)."""

    source: str | None = Field(default=None, description="`ADS`, `SHORTLINK`, `CUSTOMER_CHAT_PLUGIN`, ...")
    type: str | None = Field(default=None, description="`OPEN_THREAD` for ads.")
    ad_id: str | None = None
    ref: str | None = None
    ad_title: str | None = None
    post_id: str | None = None
    referred_at: datetime | None = None
