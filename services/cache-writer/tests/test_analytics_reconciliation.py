"""Reconciliation with Meta: each named cause produced once, through the events, and found under
its name in the day's file; what the causes leave is `unexplained`, never forced to zero.

Bangkok is UTC+7; times below are UTC, all on Bangkok's 10 Nov (D) unless said. A1 is campaign C1's
ad, A2 campaign C2's. The CRM side is credited under last touch within 7 days.

Meta says on D: A1 1 lead, 1 purchase worth 3,100.00; A2 1 lead, 1 purchase worth 700.00.
The CRM has:
    L1 (A1 lead on D) orders OL (3,000) at 03:00, touched 1 h before; pays 1,000 on D and 2,000 on
       11 Nov (D+1)  → late_payments
    L2 (A1 lead on 3 Nov) ordered OR (400) on 5 Nov, paid it then; 400 refunded on D  → refunds
    F1 (Messenger, no ad touch) pays OF (1,000) on D  → no_ad_touch
    W1 (walk-in) pays OW (500) on D  → customers_meta_cannot_see
    L0 (A1 touch on 20 Oct, 21 days before) pays OT (800) on D  → touch_outside_window
    nobody from A2  → conversions_without_customer
D, C1:   leads 1 vs 1. Purchases 1 vs 0: late_payments +1 (OL became paid on D+1).
         Value 3,100 vs 1,000 - 400 = 600: late_payments +2,000, refunds +400, unexplained 100.
D, C2:   leads 1 vs 0, purchases 1 vs 0, value 700 vs 0: all conversions_without_customer.
D, none: purchases 0 vs 3: no_ad_touch -1, customers_meta_cannot_see -1, touch_outside_window -1;
         value 0 vs 2,300: -1,000, -500, -800. Nothing unexplained.
D+1, C1: purchases 0 vs 1, value 0 vs 2,000: late_payments -1 and -2,000 (over D..D+1 they cancel).
timezone: 0 everywhere (the account's day is assumed a Bangkok day).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from crm_cache_writer.analytics import tables
from crm_contracts.analytics_checks import (
    CAUSES,
    CampaignReconciliation,
    Difference,
    ReconciliationSnapshot,
    reconciliation_path,
)
from crm_servicekit.testing import eventually, publish_events

# mypy cannot name this folder's package (`cache-writer` has a hyphen); pytest imports it fine.
from .analytics_events import (  # type: ignore[import-not-found]
    Order,
    cache_writer,
    customer,
    fact,
    insights,
    structure,
)

pytestmark = pytest.mark.integration

D = Decimal
DAY = date(2026, 11, 10)
NEXT = date(2026, 11, 11)


@pytest.fixture(scope="module")
async def root(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Path]:
    async with cache_writer("reconciliation", tmp_path_factory.mktemp("reconciliation")) as cw:
        l1 = customer(1, "2026-11-10T02:05:00", ad="A1", touched="2026-11-10T02:00:00", psid="p1")
        l2 = customer(2, "2026-11-03T02:05:00", ad="A1", touched="2026-11-03T02:00:00", psid="p2")
        l0 = customer(3, "2026-10-20T02:05:00", ad="A1", touched="2026-10-20T02:00:00", psid="p3")
        f1 = customer(4, "2026-11-01T02:00:00", psid="p4")
        w1 = customer(5, "2026-11-10T03:00:00", channel="WALKIN")
        ol = Order(l1, "3000.00", "2026-11-10T03:00:00", ("A1", "2026-11-10T02:00:00"))
        orr = Order(l2, "400.00", "2026-11-05T02:00:00", ("A1", "2026-11-03T02:00:00"))
        of = Order(f1, "1000.00", "2026-11-10T06:00:00", None)
        ow = Order(w1, "500.00", "2026-11-10T03:10:00", None)
        ot = Order(l0, "800.00", "2026-11-10T07:00:00", ("A1", "2026-10-20T02:00:00"))
        events = [
            structure(("A1", "S1", "C1"), ("A2", "S2", "C2")),
            insights(
                fact("A1", "2026-11-10", "100.00", conversations=5, leads=1, purchases=1, value="3100.00"),
                fact("A2", "2026-11-10", "50.00", conversations=2, leads=1, purchases=1, value="700.00"),
            ),
            *(l1, l2, l0, f1, w1),
            *(o.created_event() for o in (ol, orr, of, ow, ot)),
            ol.money("payment", "1000.00", "2026-11-10T04:00:00"),
            ol.money("payment", "2000.00", "2026-11-11T04:00:00"),
            orr.money("payment", "400.00", "2026-11-05T03:00:00"),
            orr.money("refund", "400.00", "2026-11-10T05:00:00"),
            of.money("payment", "1000.00", "2026-11-10T06:10:00"),
            ow.money("payment", "500.00", "2026-11-10T03:20:00"),
            ot.money("payment", "800.00", "2026-11-10T07:10:00"),
        ]
        await publish_events(cw.app.state.runtime.broker, *reversed(events))
        await cw.stored(ad_structure=2, ad_days=2, customers=5, leads=3, orders=5, money=7)

        async def rendered() -> bool:
            files = all((cw.root / reconciliation_path(d)).exists() for d in (DAY, NEXT))
            return files and await cw.count(tables.dirty_days) == 0

        await eventually(rendered, timeout=30, interval=0.1)
        yield cw.root


def day(root: Path, which: date) -> ReconciliationSnapshot:
    return ReconciliationSnapshot.model_validate_json((root / reconciliation_path(which)).read_bytes())


def causes(difference: Difference) -> dict[str, Decimal | int]:
    """The causes that are not zero (every cause is always there)."""
    assert set(difference.causes) == set(CAUSES)
    return {name: amount for name, amount in difference.causes.items() if amount}


def figures(d: Difference) -> tuple[Decimal | int, ...]:
    return d.meta, d.crm, d.unexplained


async def test_each_cause_shows_under_its_name(root: Path) -> None:
    snapshot = day(root, DAY)
    assert set(snapshot.campaigns) == {"C1", "C2", "none"}
    c1, c2, none = snapshot.campaigns["C1"], snapshot.campaigns["C2"], snapshot.campaigns["none"]

    assert (c1.campaign_name, c1.meta_conversations_started) == ("Campaign C1", 5)
    assert (figures(c1.leads), causes(c1.leads)) == ((1, 1, 0), {})
    assert (figures(c1.purchases), causes(c1.purchases)) == ((1, 0, 0), {"late_payments": 1})
    assert figures(c1.purchase_value) == (D("3100.00"), D("600.00"), D("100.00"))
    assert causes(c1.purchase_value) == {"late_payments": D("2000.00"), "refunds": D("400.00")}

    for difference, meta in ((c2.leads, 1), (c2.purchases, 1), (c2.purchase_value, D("700.00"))):
        assert figures(difference) == (meta, 0, 0)
        assert causes(difference) == {"conversions_without_customer": meta}

    assert none.leads.is_empty()
    assert figures(none.purchases) == (0, 3, 0)
    assert causes(none.purchases) == {
        "no_ad_touch": -1,
        "customers_meta_cannot_see": -1,
        "touch_outside_window": -1,
    }
    assert figures(none.purchase_value) == (0, D("2300.00"), 0)
    assert causes(none.purchase_value) == {
        "no_ad_touch": D("-1000.00"),
        "customers_meta_cannot_see": D("-500.00"),
        "touch_outside_window": D("-800.00"),
    }
    assert (snapshot.meta_attribution_setting, snapshot.account_timezone) == ("not reported", "Asia/Bangkok")
    assert snapshot.crm_attribution == "last_7d"


async def test_late_payments_move_to_the_payment_day_and_cancel_over_a_range(root: Path) -> None:
    next_day = day(root, NEXT).campaigns
    assert set(next_day) == {"C1"}
    c1 = next_day["C1"]
    assert (figures(c1.purchases), causes(c1.purchases)) == ((0, 1, 0), {"late_payments": -1})
    assert figures(c1.purchase_value) == (0, D("2000.00"), 0)
    assert causes(c1.purchase_value) == {"late_payments": D("-2000.00")}

    both = CampaignReconciliation(campaign_id="C1")
    both.add(day(root, DAY).campaigns["C1"])
    both.add(c1)
    assert causes(both.purchase_value) == {"refunds": D("400.00")}
    assert figures(both.purchase_value) == (D("3100.00"), D("2600.00"), D("100.00"))
    assert causes(both.purchases) == {}
    assert figures(both.purchases) == (1, 1, 0)
