"""Snapshots that check the marketing numbers, written by the cache-writer under `CRM_CACHE_DIR`
and served by the gateway's dashboards (docs/metrics.md, "Integrity checks" and "Reconciliation
with Meta"):

- `analytics/integrity.json`              an `IntegritySnapshot`: every check of the read model
                                          with its count, severity and up to ten example ids
- `analytics/reconciliation_<day>.json`   a `ReconciliationSnapshot` per Bangkok day: Meta's
                                          numbers beside the CRM's per campaign, every difference
                                          broken into named causes and what remains unexplained

Examples are ids (orders, customers, ads, days), never names, phones or text. Reconciliation
figures are additive: a range or a campaign is the sum of its days' differences and causes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, Field, computed_field

from .analytics import ANALYTICS_SCHEMA_VERSION, ZERO, Attribution

INTEGRITY_PATH = "analytics/integrity.json"
MAX_EXAMPLES = 10

Severity = Literal["error", "warning", "info"]
CheckName = Literal[
    "orders_of_undescribed_ads",
    "spend_without_campaign",
    "paid_orders_not_adding_up",
    "refunds_exceed_payments",
    "first_touch_after_first_order",
    "hourly_spend_not_adding_up",
    "conversions_without_spend",
    "customers_sharing_a_psid",
]
CHECK_NAMES: tuple[CheckName, ...] = get_args(CheckName)


class IntegrityCheck(BaseModel):
    name: CheckName
    severity: Severity = Field(
        description="`error`: a number shown is wrong; `warning`: facts are missing or contradict "
        "each other, a number may be off; `info`: expected now and then, worth a look."
    )
    description: str
    count: int = Field(description="How many orders, ads, ad-days, customers or PSIDs are affected.")
    examples: list[str] = Field(
        description=f"Up to {MAX_EXAMPLES} ids (order, customer, ad, or `<ad>/<day>`), never personal data."
    )


class IntegritySnapshot(BaseModel):
    schema_version: int = ANALYTICS_SCHEMA_VERSION
    generated_at: datetime
    last_event_at: datetime | None = Field(
        description="When the newest event the checked facts reflect happened."
    )
    checks: list[IntegrityCheck] = Field(description="Every check, found something or not.")


# --- reconciliation ---------------------------------------------------------------------------

CauseName = Literal[
    "no_ad_touch",
    "touch_outside_window",
    "customers_meta_cannot_see",
    "conversions_without_customer",
    "timezone",
    "late_payments",
    "refunds",
]
CAUSES: tuple[CauseName, ...] = get_args(CauseName)
NO_CAMPAIGN = "none"  # the row of what the CRM counts that no campaign explains
NOT_REPORTED = "not reported"
# Meta's insight rows carry no attribution setting: the CRM side is compared under Meta's default
# (7-day click), the closest the CRM has.
RECONCILIATION_ATTRIBUTION: Attribution = "last_7d"
ASSUMED_TIMEZONE = "Asia/Bangkok"


def reconciliation_path(day: date) -> str:
    return f"analytics/reconciliation_{day.isoformat()}.json"


def _no_causes() -> dict[CauseName, Decimal]:
    return dict.fromkeys(CAUSES, ZERO)


class Difference(BaseModel):
    """Meta's figure beside the CRM's: `difference` = meta - crm = the causes + `unexplained`.
    A cause is positive where it makes Meta's figure higher, negative where it makes the CRM's."""

    meta: Decimal = ZERO
    crm: Decimal = ZERO
    causes: dict[CauseName, Decimal] = Field(default_factory=_no_causes)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def difference(self) -> Decimal:
        return self.meta - self.crm

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unexplained(self) -> Decimal:
        return self.difference - sum(self.causes.values(), ZERO)

    def cause(self, name: CauseName, amount: Decimal | int) -> None:
        self.causes[name] = self.causes.get(name, ZERO) + Decimal(amount)

    def add(self, other: Difference) -> None:
        self.meta += other.meta
        self.crm += other.crm
        for name in CAUSES:
            self.cause(name, other.causes.get(name, ZERO))

    def is_empty(self) -> bool:
        return self == Difference()


class CampaignReconciliation(BaseModel):
    """One campaign (or `none`: what no campaign explains) over one Bangkok day."""

    campaign_id: str
    campaign_name: str | None = None
    meta_conversations_started: int = Field(default=0, description="Meta's, shown beside `leads`.")
    conversations_started: int = Field(
        default=0, description="Conversations its ads opened, by the CRM's count (beside Meta's)."
    )
    leads: Difference = Field(
        default_factory=Difference, description="Meta's leads vs customers created from its ads."
    )
    purchases: Difference = Field(
        default_factory=Difference,
        description="Meta's purchases vs customers whose order became paid, credited to the campaign.",
    )
    purchase_value: Difference = Field(
        default_factory=Difference,
        description="Meta's purchase value vs revenue (payments minus refunds) credited to it, THB.",
    )

    def add(self, other: CampaignReconciliation) -> None:
        self.campaign_name = self.campaign_name or other.campaign_name
        self.meta_conversations_started += other.meta_conversations_started
        self.conversations_started += other.conversations_started
        self.leads.add(other.leads)
        self.purchases.add(other.purchases)
        self.purchase_value.add(other.purchase_value)


class ReconciliationSnapshot(BaseModel):
    schema_version: int = ANALYTICS_SCHEMA_VERSION
    day: date = Field(description="The Bangkok day.")
    generated_at: datetime
    last_event_at: datetime | None
    crm_attribution: Attribution = RECONCILIATION_ATTRIBUTION
    meta_attribution_setting: str = Field(
        default=NOT_REPORTED, description="The attribution setting Meta used, as its insight rows say."
    )
    account_timezone: str = Field(
        default=ASSUMED_TIMEZONE,
        description="Assumed: the insight rows carry no time zone; the `timezone` cause is zero for it.",
    )
    campaigns: dict[str, CampaignReconciliation] = Field(
        description="By campaign id; `none` holds what no campaign explains."
    )
