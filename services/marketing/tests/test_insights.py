"""Insight rows are read exactly: baht to the satang, counts whole, overlapping actions not summed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm_marketing.meta.insights import InsightError, parse_row

# The reference's illustrative row (shared/reference/meta-gemini-protocol.md, section C).
ROW = {
    "account_id": "1010035716096012",
    "campaign_id": "120200000000000001",
    "adset_id": "120200000000000011",
    "ad_id": "120200000000000111",
    "date_start": "2026-09-01",
    "date_stop": "2026-09-01",
    "spend": "50.00",
    "impressions": "1000",
    "clicks": "10",
    "reach": "900",
    "cpc": "5",
    "ctr": "1",
    "actions": [
        {"action_type": "link_click", "value": "8"},
        {
            "action_type": "offsite_conversion.fb_pixel_purchase",
            "value": "2",
            "7d_click": "2",
            "1d_view": "0",
        },
        {"action_type": "onsite_conversion.messaging_conversation_started_7d", "value": "3"},
    ],
    "action_values": [{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "90.50"}],
    "purchase_roas": [{"action_type": "omni_purchase", "value": "1.81"}],
}


def test_the_reference_row_is_read_exactly() -> None:
    row = parse_row(ROW)
    assert row.day == date(2026, 9, 1)
    assert row.hour is None
    assert row.spend == Decimal("50.00")
    assert (row.impressions, row.clicks, row.reach, row.link_clicks) == (1000, 10, 900, 8)
    assert (row.messaging_conversations_started, row.purchases, row.leads) == (3, 2, 0)
    assert row.purchase_value == Decimal("90.50")
    assert row.cpc == Decimal("5.00")
    assert row.actions[1] == {
        "action_type": "offsite_conversion.fb_pixel_purchase",
        "value": "2",
        "7d_click": "2",
        "1d_view": "0",
    }, "attribution windows are kept"
    assert row.purchase_roas[0]["value"] == "1.81"


def test_overlapping_purchase_types_are_alternatives_not_a_sum() -> None:
    raw = {
        **ROW,
        "actions": [
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "2"},
            {"action_type": "omni_purchase", "value": "2"},
            {"action_type": "purchase", "value": "2"},
        ],
        "action_values": [
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "90.50"},
            {"action_type": "omni_purchase", "value": "90.50"},
        ],
    }
    row = parse_row(raw)
    assert row.purchases == 2
    assert row.purchase_value == Decimal("90.50")


def test_hourly_rows_carry_their_hour_and_no_reach() -> None:
    row = parse_row(
        {**ROW, "hourly_stats_aggregated_by_advertiser_time_zone": "13:00:00 - 13:59:59", "reach": "0"}
    )
    assert row.hour == 13
    assert row.reach is None


def test_money_never_goes_through_float() -> None:
    rows = [parse_row({**ROW, "spend": s}) for s in ("0.10", "0.20", "1234567.89", "5339.5")]
    assert sum((r.spend for r in rows[:2]), Decimal(0)) == Decimal("0.30")
    assert rows[2].spend == Decimal("1234567.89")
    assert rows[3].spend == Decimal("5339.50")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"spend": "12,50"}, "spend"),
        ({"spend": "NaN"}, "spend"),
        ({"spend": "1e12"}, "spend: too large"),
        ({"ctr": "1000000"}, "ctr: too large"),
        ({"impressions": "10.5"}, "impressions"),
        ({"date_start": "yesterday"}, "date_start"),
        ({"date_stop": "2026-09-02"}, "one day"),
        ({"hourly_stats_aggregated_by_advertiser_time_zone": "13:00 - 14:00"}, "hour"),
    ],
)
def test_a_row_that_cannot_be_read_exactly_is_refused_with_the_reason(
    change: dict[str, str], message: str
) -> None:
    with pytest.raises(InsightError, match=message):
        parse_row({**ROW, **change})
