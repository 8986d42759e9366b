"""Marketing analytics snapshots: what the cache-writer writes under `CRM_CACHE_DIR/analytics/` and
`ads/`, and the gateway's dashboards read (docs/metrics.md defines every figure).

- `analytics/daily_<YYYY-MM-DD>.json`  one `PeriodSnapshot` per Asia/Bangkok day
- `analytics/monthly_<YYYY-MM>.json`   one `PeriodSnapshot` per Bangkok month (the sum of its days)
- `analytics/summary.json`             a `SummarySnapshot`: today, yesterday, 7 and 30 days, month
- `ads/structure.json`                 an `AdStructureSnapshot`: every ad with its ad set and campaign
- `products/__all__.json`              a `ProductsSnapshot`: every product's figures of all time

Daily and monthly snapshots also carry `products`: revenue by product (each payment and refund
split across its order's lines in proportion to their totals, to the satang, largest remainder
first), so the products' revenue of a period adds up to its total revenue exactly.

Only counts and sums are stored, never ratios: every figure of a period is the sum of its days'
(and of its ads'), so any date range is the sum of daily snapshots, and ROAS, CAC, AOV, cost per
lead and conversion are worked out from those sums when read (`kpis`), rounded half-up to the
satang (or a ten-thousandth for rates) only then.

Attribution variants are keys of the per-variant maps: `last_1d`, `last_7d`, `last_28d` (the
order's latest ad touch within 1, 7 or 28 days before the order was taken) and `first` (the
customer's first ad touch, whenever it was). Revenue that a variant cannot attribute stays in the
period's `unattributed` figures under the same key: never dropped.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from .events.orders import ProductKind

ANALYTICS_SCHEMA_VERSION = 1

Attribution = Literal["last_1d", "last_7d", "last_28d", "first"]
ATTRIBUTIONS: tuple[Attribution, ...] = get_args(Attribution)
DEFAULT_ATTRIBUTION: Attribution = "last_28d"
WINDOWS: dict[Attribution, int | None] = {"last_1d": 1, "last_7d": 7, "last_28d": 28, "first": None}
CohortWindow = Literal["1d", "7d", "28d"]
COHORT_WINDOWS: dict[CohortWindow, int] = {"1d": 1, "7d": 7, "28d": 28}

SUMMARY_PATH = "analytics/summary.json"
STRUCTURE_PATH = "ads/structure.json"
PRODUCTS_ALL_PATH = "products/__all__.json"
UNKNOWN = "unknown"  # campaign or ad set of an ad marketing has not described (yet)
UNKNOWN_PRODUCT = "unknown"  # money of orders whose lines are not known (yet): never dropped

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RATE = Decimal("0.0001")


def daily_path(day: date) -> str:
    return f"analytics/daily_{day.isoformat()}.json"


def monthly_path(month: str) -> str:
    """`month` is `YYYY-MM`."""
    return f"analytics/monthly_{month}.json"


def _per_attribution_money() -> dict[Attribution, Decimal]:
    return dict.fromkeys(ATTRIBUTIONS, ZERO)


def _per_attribution_count() -> dict[Attribution, int]:
    return dict.fromkeys(ATTRIBUTIONS, 0)


def _per_window() -> dict[CohortWindow, int]:
    return dict.fromkeys(COHORT_WINDOWS, 0)


class Figures(BaseModel):
    """Additive figures of one ad (or of all ads, or of what no ad explains) over one period."""

    model_config = ConfigDict(extra="ignore")

    # Meta's numbers, as synced (the ad account's days).
    spend: Decimal = Field(default=ZERO, description="THB; the daily rows (they win over hourly ones).")
    spend_hourly: Decimal = Field(default=ZERO, description="THB; the hourly rows summed, for comparison.")
    impressions: int = 0
    clicks: int = 0
    meta_conversations_started: int = Field(default=0, description="Meta's messaging conversations started.")
    meta_leads: int = 0
    meta_purchases: int = 0
    meta_purchase_value: Decimal = ZERO
    # The CRM's own.
    leads: int = Field(
        default=0, description="Customers created from an ad touch, on their Bangkok creation day."
    )
    conversations_started: int = Field(
        default=0,
        description="Messenger conversations an ad opened (a referral naming the ad): one per "
        "conversation, ad and Bangkok day, new customers and returning ones alike.",
    )
    revenue: dict[Attribution, Decimal] = Field(
        default_factory=_per_attribution_money,
        description="THB received minus refunded on the period's Bangkok days, by attribution.",
    )
    paid_orders: dict[Attribution, int] = Field(
        default_factory=_per_attribution_count, description="Orders fully paid during the period."
    )
    new_paying_customers: dict[Attribution, int] = Field(
        default_factory=_per_attribution_count,
        description="Customers whose first order became paid during the period.",
    )
    converted_leads: dict[CohortWindow, int] = Field(
        default_factory=_per_window,
        description="Of this period's leads, how many paid within 1, 7 or 28 days of becoming one.",
    )

    def add(self, other: Figures) -> None:
        for name in ("spend", "spend_hourly", "meta_purchase_value"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in (
            "impressions",
            "clicks",
            "meta_conversations_started",
            "meta_leads",
            "meta_purchases",
            "leads",
            "conversations_started",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key in ATTRIBUTIONS:
            self.revenue[key] = self.revenue.get(key, ZERO) + other.revenue.get(key, ZERO)
            self.paid_orders[key] = self.paid_orders.get(key, 0) + other.paid_orders.get(key, 0)
            self.new_paying_customers[key] = self.new_paying_customers.get(
                key, 0
            ) + other.new_paying_customers.get(key, 0)
        for window in COHORT_WINDOWS:
            self.converted_leads[window] = self.converted_leads.get(window, 0) + other.converted_leads.get(
                window, 0
            )

    def is_empty(self) -> bool:
        return self == Figures()


class ProductFigures(BaseModel):
    """Additive figures of one product (or of orders whose lines are not known) over one period."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(
        default=None, description="The name on the lines of the latest order taken; null for `unknown`."
    )
    kind: ProductKind | None = Field(
        default=None, description="The catalog kind; null for `unknown` and for orders sent before it."
    )
    revenue: Decimal = Field(
        default=ZERO,
        description="THB: the product's share of every payment minus every refund on the period's "
        "Bangkok days (each split across its order's lines by their totals, largest remainder first).",
    )
    refunds: Decimal = Field(
        default=ZERO, description="THB: the product's share of refunds, positive; already in `revenue`."
    )
    paid_orders: int = Field(default=0, description="Orders with this product that became paid.")
    units: int = Field(default=0, description="The quantity of this product in those orders.")

    def add(self, other: ProductFigures) -> None:
        """Add a later period's figures: its name and kind, when it has them, win."""
        self.name = other.name or self.name
        self.kind = other.kind or self.kind
        self.revenue += other.revenue
        self.refunds += other.refunds
        self.paid_orders += other.paid_orders
        self.units += other.units


class PeriodSnapshot(BaseModel):
    """One Bangkok day or month: every ad's figures, what no ad explains, and the total."""

    schema_version: int = ANALYTICS_SCHEMA_VERSION
    period: str = Field(description="`YYYY-MM-DD` for a day, `YYYY-MM` for a month.")
    since: date
    until: date = Field(description="Inclusive.")
    currency: str = "THB"
    generated_at: datetime
    last_event_at: datetime | None = Field(
        description="When the newest event this snapshot reflects happened: how current it is."
    )
    ads: dict[str, Figures] = Field(description="By ad id; only ads with something to show.")
    unattributed: Figures = Field(
        description="Revenue, paid orders and new paying customers no ad explains, per attribution; "
        "spend is always an ad's, so it is zero here."
    )
    total: Figures = Field(description="Every ad plus unattributed.")
    products: dict[str, ProductFigures] = Field(
        default_factory=dict,
        description="By product id, and `unknown` for orders whose lines are not known (yet); "
        "their revenue adds up to the total revenue exactly.",
    )


class ProductsSnapshot(BaseModel):
    """`products/__all__.json`: every product's figures of all time (the sum of every day)."""

    schema_version: int = ANALYTICS_SCHEMA_VERSION
    generated_at: datetime
    last_event_at: datetime | None
    products: dict[str, ProductFigures] = Field(description="By product id, and `unknown`.")


class SummaryPeriod(BaseModel):
    since: date
    until: date
    unattributed: Figures
    total: Figures


class SummarySnapshot(BaseModel):
    schema_version: int = ANALYTICS_SCHEMA_VERSION
    today: date = Field(description="The Bangkok day the summary was written on.")
    generated_at: datetime
    last_event_at: datetime | None
    periods: dict[
        Literal["today", "yesterday", "last_7_days", "last_30_days", "month_to_date"], SummaryPeriod
    ]


class AdNode(BaseModel):
    ad_id: str
    ad_name: str | None = None
    adset_id: str = UNKNOWN
    adset_name: str | None = None
    campaign_id: str = UNKNOWN
    campaign_name: str | None = None
    status: str | None = None


class AdStructureSnapshot(BaseModel):
    schema_version: int = ANALYTICS_SCHEMA_VERSION
    generated_at: datetime
    ads: dict[str, AdNode] = Field(description="By ad id: every ad marketing described or an event named.")


class Kpis(BaseModel):
    """Ratios worked out from a period's figures under one attribution; null when undefined."""

    spend: Decimal
    revenue: Decimal = Field(description="THB received minus refunded (for an ad: what it is credited with).")
    attributed_revenue: Decimal = Field(description="The part of `revenue` credited to ads.")
    leads: int
    conversations_started: int = Field(
        default=0, description="Messenger conversations ads opened, by the CRM's count (Meta's is beside it)."
    )
    paid_orders: int
    new_paying_customers: int
    converted_leads: int
    roas: Decimal | None = Field(description="Attributed revenue / spend, two decimals.")
    cac: Decimal | None = Field(description="Spend / new paying customers, THB.")
    aov: Decimal | None = Field(description="Revenue / paid orders, THB.")
    cost_per_lead: Decimal | None = Field(description="Spend / leads, THB.")
    cost_per_conversation: Decimal | None = Field(
        default=None, description="Spend / conversations started (the CRM's count), THB."
    )
    conversion_rate: Decimal | None = Field(
        description="Converted leads / leads, four decimals (0.1250 = 12.5%)."
    )


def _ratio(top: Decimal, bottom: Decimal | int, step: Decimal) -> Decimal | None:
    if not bottom:
        return None
    return (Decimal(top) / Decimal(bottom)).quantize(step, rounding=ROUND_HALF_UP)


def kpis(
    figures: Figures,
    attribution: Attribution = DEFAULT_ATTRIBUTION,
    window: CohortWindow = "28d",
    *,
    unattributed: Figures | None = None,
) -> Kpis:
    """The KPIs of `figures` under one attribution: an ad's, a campaign's, or (with the period's
    `unattributed`) the whole account's, whose ROAS counts only what ads are credited with."""
    revenue = figures.revenue.get(attribution, ZERO)
    attributed = revenue - (unattributed.revenue.get(attribution, ZERO) if unattributed else ZERO)
    paid = figures.paid_orders.get(attribution, 0)
    new = figures.new_paying_customers.get(attribution, 0)
    converted = figures.converted_leads.get(window, 0)
    return Kpis(
        spend=figures.spend,
        revenue=revenue,
        attributed_revenue=attributed,
        leads=figures.leads,
        conversations_started=figures.conversations_started,
        paid_orders=paid,
        new_paying_customers=new,
        converted_leads=converted,
        roas=_ratio(attributed, figures.spend, CENT),
        cac=_ratio(figures.spend, new, CENT),
        aov=_ratio(revenue, paid, CENT),
        cost_per_lead=_ratio(figures.spend, figures.leads, CENT),
        cost_per_conversation=_ratio(figures.spend, figures.conversations_started, CENT),
        conversion_rate=_ratio(Decimal(converted), figures.leads, RATE),
    )


class ProductKpis(BaseModel):
    """One product's figures over a period and the ratios worked out from them."""

    revenue: Decimal
    refunds: Decimal
    paid_orders: int
    units: int
    share_of_revenue: Decimal | None = Field(
        description="Revenue / the period's total revenue, four decimals; null when that is not positive."
    )
    average_order_value: Decimal | None = Field(
        description="Revenue / paid orders with the product, THB; null without paid orders."
    )


def product_kpis(figures: ProductFigures, total_revenue: Decimal) -> ProductKpis:
    """A product's ratios, from its sums and the period's total revenue (every product's)."""
    return ProductKpis(
        revenue=figures.revenue,
        refunds=figures.refunds,
        paid_orders=figures.paid_orders,
        units=figures.units,
        share_of_revenue=_ratio(figures.revenue, total_revenue, RATE) if total_revenue > 0 else None,
        average_order_value=_ratio(figures.revenue, figures.paid_orders, CENT),
    )


RENDER_STATE_PATH = "analytics/state.json"


class RenderState(BaseModel):
    """The renderer's heartbeat, `analytics/state.json`: written after every run that wrote a
    file, and at least every `ANALYTICS_HEARTBEAT_SECONDS` while it has nothing to do, so a reader
    tells "nothing happened" (a recent heartbeat, nothing pending) from "the cache-writer is down
    or behind" (an old heartbeat, or days pending) from the files alone."""

    schema_version: int = ANALYTICS_SCHEMA_VERSION
    rendered_at: datetime = Field(description="When the run that wrote this heartbeat started.")
    caught_up_at: datetime | None = Field(
        description="When the latest run that left no day marked started: every fact the "
        "cache-writer had stored by then is in the files. Null while it has never caught up."
    )
    last_event_at: datetime | None = Field(description="When the newest event the read model holds happened.")
    days_pending: int = Field(
        ge=0, description="Days marked and not rendered yet when the run ended (0: caught up)."
    )
