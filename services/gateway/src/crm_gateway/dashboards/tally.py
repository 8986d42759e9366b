"""Figures added up on the dashboards' hot path.

A campaign tree over 30 days adds thousands of ads' `Figures`; adding into a pydantic model goes
through its `__setattr__` on every field. A `Tally` is the same sums in a plain slotted object,
added in the same order from the same zeros (`Figures.add`), so every Decimal comes out the same;
it becomes a `Figures` once, for `kpis`.
"""

from __future__ import annotations

from decimal import Decimal

from crm_contracts.analytics import ATTRIBUTIONS, COHORT_WINDOWS, ZERO, Attribution, CohortWindow, Figures


class Tally:
    """`Figures` being added up (the same fields and zeros); `add` takes either."""

    __slots__ = (
        "clicks",
        "conversations_started",
        "converted_leads",
        "impressions",
        "leads",
        "meta_conversations_started",
        "meta_leads",
        "meta_purchase_value",
        "meta_purchases",
        "new_paying_customers",
        "paid_orders",
        "revenue",
        "spend",
        "spend_hourly",
    )

    def __init__(self) -> None:
        self.spend: Decimal = ZERO
        self.spend_hourly: Decimal = ZERO
        self.meta_purchase_value: Decimal = ZERO
        self.impressions = 0
        self.clicks = 0
        self.meta_conversations_started = 0
        self.meta_leads = 0
        self.meta_purchases = 0
        self.leads = 0
        self.conversations_started = 0
        self.revenue: dict[Attribution, Decimal] = dict.fromkeys(ATTRIBUTIONS, ZERO)
        self.paid_orders: dict[Attribution, int] = dict.fromkeys(ATTRIBUTIONS, 0)
        self.new_paying_customers: dict[Attribution, int] = dict.fromkeys(ATTRIBUTIONS, 0)
        self.converted_leads: dict[CohortWindow, int] = dict.fromkeys(COHORT_WINDOWS, 0)

    def add(self, other: Figures | Tally) -> None:
        """`Figures.add`: a key `other` lacks counts as zero."""
        self.spend += other.spend
        self.spend_hourly += other.spend_hourly
        self.meta_purchase_value += other.meta_purchase_value
        self.impressions += other.impressions
        self.clicks += other.clicks
        self.meta_conversations_started += other.meta_conversations_started
        self.meta_leads += other.meta_leads
        self.meta_purchases += other.meta_purchases
        self.leads += other.leads
        self.conversations_started += other.conversations_started
        revenue, paid, new = self.revenue, self.paid_orders, self.new_paying_customers
        their_revenue, their_paid, their_new = other.revenue, other.paid_orders, other.new_paying_customers
        for key in ATTRIBUTIONS:
            revenue[key] += their_revenue.get(key, ZERO)
            paid[key] += their_paid.get(key, 0)
            new[key] += their_new.get(key, 0)
        converted, their_converted = self.converted_leads, other.converted_leads
        for window in COHORT_WINDOWS:
            converted[window] += their_converted.get(window, 0)

    def figures(self) -> Figures:
        """These sums as `Figures` (not validated again: they are sums of validated figures)."""
        return Figures.model_construct(**{name: getattr(self, name) for name in self.__slots__})
