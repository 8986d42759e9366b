"""Meta insight rows as exact facts.

Every metric arrives as a string (shared/reference/meta-gemini-protocol.md, section C): money is
parsed to `Decimal`, counts to `int`, never through float. The `actions` / `action_values` /
`purchase_roas` lists are kept whole, and reduced to the few figures the school charts. Meta
reports one purchase under several overlapping action types (`omni_purchase`, `purchase`,
`offsite_conversion.fb_pixel_purchase`, ...): they are alternatives, never added up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

HOUR_BREAKDOWN = "hourly_stats_aggregated_by_advertiser_time_zone"

MESSAGING_STARTED = ("onsite_conversion.messaging_conversation_started_7d",)
# In each tuple the first type present wins: they count the same results through different
# channels, so adding them up would double-count.
LEADS = ("lead", "onsite_conversion.lead_grouped", "offsite_conversion.fb_pixel_lead")
PURCHASES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase", "onsite_web_purchase")

_HOUR = re.compile(r"^(\d{2}):00:00 - \1:59:59$")


class InsightError(ValueError):
    """A row Meta sent that cannot be read exactly (kept out of the numbers, reported)."""


# One item of Meta's `actions` / `action_values` / `purchase_roas`: `action_type`, `value` and one
# key per attribution window asked for (`"7d_click": "2"`), every value a string; kept as sent.
ActionValue = dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class InsightRow:
    """One row at ad level for one day (and one hour when broken down by hour).

    A plain dataclass: a year's backfill builds millions of these, and `parse_row` checks every
    field as it reads it.
    """

    account_id: str
    campaign_id: str | None = None
    adset_id: str | None = None
    ad_id: str | None = None
    day: date
    hour: int | None = None
    spend: Decimal
    impressions: int
    reach: int | None = None
    clicks: int
    link_clicks: int
    ctr: Decimal | None = None
    cpc: Decimal | None = None
    messaging_conversations_started: int
    leads: int
    purchases: int
    purchase_value: Decimal
    actions: list[ActionValue] = field(default_factory=list)
    action_values: list[ActionValue] = field(default_factory=list)
    purchase_roas: list[ActionValue] = field(default_factory=list)


def money(value: Any, field: str, integer_digits: int = 12) -> Decimal:
    """A money string as an exact Decimal (`"5339.5"` -> `Decimal("5339.50")`).

    `integer_digits` is what the column holds (numeric(14,2): 12); a larger number is refused
    here rather than failing the whole batch in the database.
    """
    if value is None or value == "":
        return Decimal("0.00")
    if not isinstance(value, str | int):
        raise InsightError(f"{field}: expected a string, got {type(value).__name__}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise InsightError(f"{field}: not a number") from exc
    if not amount.is_finite():
        raise InsightError(f"{field}: not a finite number")
    if amount and amount.adjusted() >= integer_digits:
        raise InsightError(f"{field}: too large")
    # Two decimals (satang) when that loses nothing; anything finer Meta sends is kept exactly.
    return amount.quantize(Decimal("0.01")) if amount == amount.quantize(Decimal("0.01")) else amount


def count(value: Any, field: str) -> int:
    if value is None or value == "":
        return 0
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise InsightError(f"{field}: not a number") from exc
    if number != number.to_integral_value():
        raise InsightError(f"{field}: not a whole number")
    return int(number)


def _decimal_or_none(value: Any, field: str, integer_digits: int) -> Decimal | None:
    return None if value in (None, "") else money(value, field, integer_digits)


def _actions(raw: Any, field: str) -> list[ActionValue]:
    """Meta's `[{action_type, value, <window>: ...}]`, checked here and built without a second
    validation pass (this runs for every row of a year's backfill)."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise InsightError(f"{field}: expected a list")
    for item in raw:
        if not (isinstance(item, dict) and isinstance(item.get("action_type"), str)):
            raise InsightError(f"{field}: an item has no action_type")
        if "value" not in item:
            raise InsightError(f"{field}: an item has no value")
        if not all(isinstance(v, str) for v in item.values()):
            raise InsightError(f"{field}: values must be strings")
    return raw


def _first(items: list[ActionValue], types: tuple[str, ...]) -> str | None:
    for wanted in types:
        for item in items:
            if item["action_type"] == wanted:
                return item["value"]
    return None


def parse_row(raw: dict[str, Any]) -> InsightRow:
    """One raw insight row (level=ad) -> `InsightRow`, or `InsightError` saying what is wrong."""
    start = raw.get("date_start")
    try:
        day = date.fromisoformat(start)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InsightError("date_start: missing or not a date") from exc
    if raw.get("date_stop", start) != start:
        raise InsightError("a row must cover one day (time_increment=1)")
    hour = None
    if HOUR_BREAKDOWN in raw:
        match = _HOUR.match(str(raw[HOUR_BREAKDOWN]))
        if not match:
            raise InsightError(f"{HOUR_BREAKDOWN}: not an hour range")
        hour = int(match.group(1))
        if hour > 23:
            raise InsightError(f"{HOUR_BREAKDOWN}: not an hour of the day")
    actions = _actions(raw.get("actions"), "actions")
    values = _actions(raw.get("action_values"), "action_values")
    link_clicks = raw.get("inline_link_clicks", _first(actions, ("link_click",)))
    ids = {k: raw.get(k) for k in ("campaign_id", "adset_id", "ad_id")}
    if not all(v is None or isinstance(v, str) for v in ids.values()):
        raise InsightError("campaign_id, adset_id and ad_id must be strings")
    return InsightRow(
        account_id=str(raw.get("account_id", "")),
        **ids,
        day=day,
        hour=hour,
        spend=money(raw.get("spend"), "spend"),
        impressions=count(raw.get("impressions"), "impressions"),
        # Meta reports no reach for hourly rows (it cannot be added up across hours).
        reach=None if hour is not None or raw.get("reach") in (None, "") else count(raw["reach"], "reach"),
        clicks=count(raw.get("clicks"), "clicks"),
        link_clicks=count(link_clicks, "inline_link_clicks"),
        ctr=_decimal_or_none(raw.get("ctr"), "ctr", 6),
        cpc=_decimal_or_none(raw.get("cpc"), "cpc", 10),
        messaging_conversations_started=count(_first(actions, MESSAGING_STARTED), "actions"),
        leads=count(_first(actions, LEADS), "actions"),
        purchases=count(_first(actions, PURCHASES), "actions"),
        purchase_value=money(_first(values, PURCHASES), "action_values"),
        actions=actions,
        action_values=values,
        purchase_roas=_actions(raw.get("purchase_roas"), "purchase_roas"),
    )
