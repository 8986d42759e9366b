"""Reconciliation with Meta: per Bangkok day and campaign, Meta's numbers beside the CRM's, each
difference broken into the causes the read model can name (docs/metrics.md defines each).

Written by the renderer for every day it renders (`analytics/reconciliation_<day>.json`). The CRM
side is credited under `RECONCILIATION_ATTRIBUTION` (Meta's default, 7-day click: its insight rows
do not say which setting it used). Meta is taken to count a purchase, at the order's value, on the
day the order was taken. A difference is meta - crm; each cause is signed the same way (positive
where it makes Meta's figure higher) and `unexplained` is what the causes leave, never forced to 0:

- orders no campaign is credited with go to the `none` row, each under why: the customer is one
  Meta cannot see (a walk-in, LINE, web), the order has no ad touch, or its touch is outside the
  window;
- `refunds`: Meta's value never goes down, the CRM's revenue does;
- `late_payments`: money (and an order becoming paid) on another day than the order was taken:
  Meta has it on the order's day, the CRM on the payment's; over a range they cancel out except
  across its ends;
- `conversions_without_customer`: Meta's leads or purchases of an ad on a day the CRM has no lead
  or order of that ad;
- `timezone`: zero, the account's day being assumed a Bangkok day (the rows carry no time zone).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_cache_writer.files import write_model
from crm_contracts.analytics import UNKNOWN
from crm_contracts.analytics_checks import (
    NO_CAMPAIGN,
    RECONCILIATION_ATTRIBUTION,
    CampaignReconciliation,
    CauseName,
    ReconciliationSnapshot,
    reconciliation_path,
)

from .compute import credited_ad
from .facts import bangkok_day
from .tables import ad_conversations, ad_days, ad_structure, customers, leads, money, orders

_ORDER = (
    orders.c.order_id,
    orders.c.created_at,
    orders.c.first_ad_id,
    orders.c.latest_ad_id,
    orders.c.latest_touch_at,
    orders.c.paid_day,
    customers.c.channel,
)
_WITH_CUSTOMER = orders.outerjoin(customers, customers.c.customer_id == orders.c.customer_id)
_ORDER_DAY = func.date(func.timezone("Asia/Bangkok", orders.c.created_at))


class _Days:
    """The rows being built: day → campaign id → its reconciliation."""

    def __init__(self, days: list[date], campaigns: dict[str, tuple[str, str | None]]) -> None:
        self.rows: dict[date, dict[str, CampaignReconciliation]] = {d: {} for d in days}
        self.campaigns = campaigns

    def campaign(self, ad_id: str) -> str:
        return self.campaigns.get(ad_id, (UNKNOWN, None))[0]

    def row(self, day: date, campaign_id: str) -> CampaignReconciliation:
        rows = self.rows[day]
        if campaign_id not in rows:
            name = next((n for c, n in self.campaigns.values() if c == campaign_id), None)
            rows[campaign_id] = CampaignReconciliation(campaign_id=campaign_id, campaign_name=name)
        return rows[campaign_id]

    def place(self, order: Any) -> tuple[str, CauseName | None]:
        """The row an order's figures go to and, when no campaign is credited, why not."""
        ad = credited_ad(order, RECONCILIATION_ATTRIBUTION)
        if ad is not None:
            return self.campaign(ad), None
        if order.channel is not None and order.channel != "FB":
            return NO_CAMPAIGN, "customers_meta_cannot_see"
        if order.latest_ad_id is None:
            return NO_CAMPAIGN, "no_ad_touch"
        return NO_CAMPAIGN, "touch_outside_window"


def _taken(order: Any) -> date | None:
    return bangkok_day(order.created_at) if order.created_at is not None else None


async def reconcile(session: AsyncSession, days: list[date]) -> dict[date, list[CampaignReconciliation]]:
    campaigns = {
        r.ad_id: (r.campaign_id, r.campaign_name)
        for r in await session.execute(
            select(ad_structure.c.ad_id, ad_structure.c.campaign_id, ad_structure.c.campaign_name)
        )
    }
    built = _Days(days, campaigns)
    meta = await _meta(session, days, built)
    with_lead = await _crm_leads(session, days, built)
    await _conversations(session, days, built)
    await _revenue(session, days, built)
    await _purchases(session, days, built)
    taken = select(_ORDER_DAY, orders.c.first_ad_id, orders.c.latest_ad_id).where(_ORDER_DAY.in_(days))
    with_order = {
        (ad, day) for day, first, latest in await session.execute(taken) for ad in (first, latest) if ad
    }
    for (ad, day), r in meta.items():
        # Meta counts conversions of this ad on a day the CRM has no lead, or no order, of it.
        row = built.row(day, built.campaign(ad))
        if (ad, day) not in with_lead:
            row.leads.cause("conversions_without_customer", r.meta_leads)
        if (ad, day) not in with_order:
            row.purchases.cause("conversions_without_customer", r.meta_purchases)
            row.purchase_value.cause("conversions_without_customer", r.meta_purchase_value)
    return {day: list(rows.values()) for day, rows in built.rows.items()}


async def _meta(session: AsyncSession, days: list[date], built: _Days) -> dict[tuple[str, date], Any]:
    found: dict[tuple[str, date], Any] = {}
    for r in await session.execute(select(ad_days).where(ad_days.c.day.in_(days))):
        row = built.row(r.day, built.campaign(r.ad_id))
        row.meta_conversations_started += r.meta_conversations_started
        row.leads.meta += r.meta_leads
        row.purchases.meta += r.meta_purchases
        row.purchase_value.meta += r.meta_purchase_value
        if r.meta_leads or r.meta_purchases or r.meta_purchase_value:
            found[(r.ad_id, r.day)] = r
    return found


async def _crm_leads(session: AsyncSession, days: list[date], built: _Days) -> set[tuple[str, date]]:
    touched: set[tuple[str, date]] = set()
    for r in await session.execute(select(leads.c.ad_id, leads.c.day).where(leads.c.day.in_(days))):
        built.row(r.day, built.campaign(r.ad_id)).leads.crm += 1
        touched.add((r.ad_id, r.day))
    return touched


async def _conversations(session: AsyncSession, days: list[date], built: _Days) -> None:
    opened = select(ad_conversations.c.ad_id, ad_conversations.c.day).where(ad_conversations.c.day.in_(days))
    for r in await session.execute(opened):
        built.row(r.day, built.campaign(r.ad_id)).conversations_started += 1


async def _revenue(session: AsyncSession, days: list[date], built: _Days) -> None:
    """Money on its day, and (late payments) money of orders taken on these days paid on others."""
    query = (
        select(money.c.day, money.c.amount, *_ORDER)
        .select_from(money.join(_WITH_CUSTOMER, orders.c.order_id == money.c.order_id))
        .where(or_(money.c.day.in_(days), _ORDER_DAY.in_(days)))
    )
    for r in await session.execute(query):
        campaign, why = built.place(r)
        taken = _taken(r)
        if r.day in built.rows:
            value = built.row(r.day, campaign).purchase_value
            value.crm += r.amount
            if why is not None:
                value.cause(why, -r.amount)
            elif r.amount < 0:
                value.cause("refunds", -r.amount)
            elif taken != r.day:
                value.cause("late_payments", -r.amount)
        if why is None and r.amount > 0 and taken in built.rows and taken != r.day:
            built.row(taken, campaign).purchase_value.cause("late_payments", r.amount)


async def _purchases(session: AsyncSession, days: list[date], built: _Days) -> None:
    """Orders that became paid on these days, and those taken on them that became paid on others."""
    query = (
        select(*_ORDER)
        .select_from(_WITH_CUSTOMER)
        .where(orders.c.paid_day.is_not(None), or_(orders.c.paid_day.in_(days), _ORDER_DAY.in_(days)))
    )
    for r in await session.execute(query):
        campaign, why = built.place(r)
        taken = _taken(r)
        if r.paid_day in built.rows:
            purchases = built.row(r.paid_day, campaign).purchases
            purchases.crm += 1
            if why is not None:
                purchases.cause(why, -1)
            elif taken != r.paid_day:
                purchases.cause("late_payments", -1)
        if why is None and taken in built.rows and taken != r.paid_day:
            built.row(taken, campaign).purchases.cause("late_payments", 1)


async def write_reconciliations(
    session: AsyncSession, cache_dir: Path, days: list[date], last_event_at: datetime | None
) -> None:
    """`analytics/reconciliation_<day>.json` for each of `days` (rows with nothing left out)."""
    for day, rows in (await reconcile(session, days)).items():
        kept = {r.campaign_id: r for r in sorted(rows, key=lambda r: r.campaign_id) if not _empty(r)}
        snapshot = ReconciliationSnapshot(
            day=day, generated_at=datetime.now(UTC), last_event_at=last_event_at, campaigns=kept
        )
        await write_model(cache_dir, reconciliation_path(day), snapshot)


def _empty(row: CampaignReconciliation) -> bool:
    return (
        not row.meta_conversations_started
        and not row.conversations_started
        and all(d.is_empty() for d in (row.leads, row.purchases, row.purchase_value))
    )
