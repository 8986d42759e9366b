"""The hand-worked dataset: every marketing figure worked out on paper, then through the events,
the read model and the snapshot files (docs/metrics.md defines each figure).

Bangkok is UTC+7. Three ads: A1 and A2 in campaign C1 / ad set S1, A3 in C2 / S2 (A3 brings
conversations and an order but has no spend).

Spend (daily rows; A1's hourly rows of 31 Oct add up to 999.00, one baht short of its daily row):
    A1  31 Oct 1000.00   1 Nov 500.50
    A2  31 Oct  300.25
Customers (Bangkok creation day):
    L1  A1  31 Oct 23:30 (16:30Z)        L2  A1  1 Nov 00:30 (31 Oct 17:30Z: UTC still says October)
    L3  A3  31 Oct 17:00                 L4  A2  20 Sep (a late conversion)
    W1  walk-in, no ad touch, 1 Nov
Orders (latest ad touch -> order taken):
    O1  L1 10,000  A1 16:20Z -> 17:10Z 31 Oct (50 min)  paid 6,000 + 4,000 on 1 Nov Bangkok;
                    2,000 refunded on 2 Dec (the refund lowers December, not November)
    O2  W1  3,000  no touch                               paid 1 Nov   (unattributed everywhere)
    O3  L4  5,000  A2 20 Sep -> 31 Oct (41 days)          paid 31 Oct  (outside every window; first
                                                                         touch gives it to A2)
    O4  L3  2,000  A3 10:00Z 31 Oct -> 01:00Z 1 Nov (15 h) paid 1 Nov
    O5  L2  3,000  A1 17:25Z 31 Oct -> 02:00Z 3 Nov (2 d 8.6 h)  1,500 paid on 3 Nov (still pending)

Worked figures (last_28d unless said):
    31 Oct  spend 1300.25 (hourly 999.00); leads A1 1, A3 1; revenue 5,000 unattributed (first: A2);
            paid orders 1 and new paying customers 1, unattributed; both leads paid within a day
            (L1 12.5 h, L3 15.5 h): converted 1d/7d/28d = 2.
    1 Nov   spend 500.50; lead A1 1 (L2); revenue A1 10,000, A3 2,000, unattributed 3,000 = 15,000;
            paid orders and new paying customers A1 1, A3 1, unattributed 1; L2 not converted.
    3 Nov   revenue 1,500: last_1d unattributed (2.4 days), last_7d/last_28d/first A1.
    2 Dec   revenue -2,000 A1.
    October: ROAS 0 / 1300.25 = 0.00 (first: 5000 / 1300.25 = 3.8454 -> 3.85); CAC 1300.25 / 1
            = 1300.25; AOV 5000 / 1 = 5000.00; cost per lead 1300.25 / 2 = 650.125 -> 650.13 (half
            up); conversion 2 / 2 = 1.0000.
    November: revenue 16,500, attributed 13,500 (A1 11,500 + A3 2,000); ROAS 13500 / 500.50 =
            26.9730 -> 26.97; CAC 500.50 / 3 = 166.833 -> 166.83; AOV 16500 / 3 = 5500.00; cost per
            lead 500.50; conversion 0 / 1 = 0.0000. A1 alone: ROAS 11500 / 500.50 = 22.977 -> 22.98
            (last_1d: 10000 / 500.50 = 19.980 -> 19.98). A3: revenue 2,000, no spend, ROAS null.
    31 Oct - 1 Nov, last_1d: spend 1800.75, attributed 12,000 (A1 10,000 + A3 2,000), ROAS 6.6639
            -> 6.66; revenue 20,000.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest

from crm_cache_writer.app import create_app
from crm_cache_writer.config import CacheWriterSettings
from crm_contracts import (
    AdReferral,
    AdStructure,
    ChannelIdentity,
    CustomerCreated,
    CustomerCreatedData,
    Event,
    InsightFact,
    InsightsChanged,
    InsightsChangedData,
    OrderCreated,
    OrderCreatedData,
    OrderStatusChanged,
    OrderStatusChangedData,
    StructureChanged,
    StructureChangedData,
)
from crm_contracts.analytics import (
    STRUCTURE_PATH,
    AdStructureSnapshot,
    Figures,
    PeriodSnapshot,
    daily_path,
    kpis,
    monthly_path,
)
from crm_servicekit.migrations import upgrade
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import (
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    eventually,
    publish_events,
)

pytestmark = pytest.mark.integration

D = Decimal


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def customer(number: int, created: str, ad: str | None, touched: str | None = None) -> CustomerCreated:
    channel: Literal["FB", "WALKIN"] = "FB" if ad else "WALKIN"
    touch = AdReferral(source="ADS", ad_id=ad, referred_at=at(touched or created)) if ad else None
    return CustomerCreated(
        correlation_id=f"truth-{number}",
        data=CustomerCreatedData(
            customer_id=f"TVS-CUS-{channel}-26-{number:04d}",
            channel=channel,
            lifecycle_stage="lead",
            identities=[ChannelIdentity(channel="messenger", external_id=f"psid-{number}")] if ad else [],
            first_touch=touch,
            latest_touch=touch,
            created_at=at(created),
        ),
    )


class Order:
    def __init__(self, who: CustomerCreated, total: str, created: str, touch: tuple[str, str] | None) -> None:
        self.id = uuid.uuid4()
        self.customer_id = who.data.customer_id
        self.total = D(total)
        self.created = at(created)
        self.touch = AdReferral(source="ADS", ad_id=touch[0], referred_at=at(touch[1])) if touch else None
        self.first = who.data.first_touch
        self.paid = D("0")
        self.status = "pending"

    def created_event(self) -> OrderCreated:
        return OrderCreated(
            correlation_id=str(self.id),
            data=OrderCreatedData(
                order_id=self.id,
                customer_id=self.customer_id,
                status="pending",
                currency="THB",
                total=self.total,
                lines=[],
                first_touch=self.first,
                latest_touch=self.touch,
                created_at=self.created,
            ),
        )

    def money(self, kind: str, amount: str, moved: str) -> OrderStatusChanged:
        before = self.status
        self.paid += D(amount) if kind == "payment" else -D(amount)
        if kind == "payment":
            self.status = "paid" if self.paid == self.total else "pending"
        elif self.paid == 0:
            self.status = "refunded"
        return OrderStatusChanged(
            correlation_id=str(self.id),
            data=OrderStatusChangedData(
                order_id=self.id,
                customer_id=self.customer_id,
                status=self.status,  # type: ignore[arg-type]
                previous_status=before,  # type: ignore[arg-type]
                currency="THB",
                total=self.total,
                paid=self.paid,
                amount=D(amount),
                method="transfer",
                first_touch=self.first,
                latest_touch=self.touch,
                changed_at=at(moved),
                kind=kind,  # type: ignore[arg-type]
                moved_at=at(moved),
                order_created_at=self.created,
            ),
        )


def spend(ad: str, day: str, amount: str, hour: int | None = None) -> InsightFact:
    return InsightFact(
        ad_id=ad,
        ad_name=None,
        adset_id=None,
        adset_name=None,
        campaign_id=None,
        campaign_name=None,
        day=date.fromisoformat(day),
        hour=hour,
        spend=D(amount),
        impressions=1000,
        clicks=10,
        link_clicks=8,
        messaging_conversations_started=3,
        leads=0,
        purchases=0,
        purchase_value=D("0"),
    )


def dataset() -> list[Event]:
    l1 = customer(1, "2026-10-31T16:30:00", "A1", "2026-10-31T16:20:00")
    l2 = customer(2, "2026-10-31T17:30:00", "A1", "2026-10-31T17:25:00")
    l3 = customer(3, "2026-10-31T10:00:00", "A3")
    l4 = customer(4, "2026-09-20T05:00:00", "A2")
    w1 = customer(5, "2026-11-01T03:00:00", None)
    o1 = Order(l1, "10000.00", "2026-10-31T17:10:00", ("A1", "2026-10-31T16:20:00"))
    o2 = Order(w1, "3000.00", "2026-11-01T03:30:00", None)
    o3 = Order(l4, "5000.00", "2026-10-31T06:00:00", ("A2", "2026-09-20T05:00:00"))
    o4 = Order(l3, "2000.00", "2026-11-01T01:00:00", ("A3", "2026-10-31T10:00:00"))
    o5 = Order(l2, "3000.00", "2026-11-03T02:00:00", ("A1", "2026-10-31T17:25:00"))
    money = [
        o1.money("payment", "6000.00", "2026-11-01T02:00:00"),
        o1.money("payment", "4000.00", "2026-11-01T05:00:00"),
        o1.money("refund", "2000.00", "2026-12-02T04:00:00"),
        o2.money("payment", "3000.00", "2026-11-01T04:00:00"),
        o3.money("payment", "5000.00", "2026-10-31T07:00:00"),
        o4.money("payment", "2000.00", "2026-11-01T01:30:00"),
        o5.money("payment", "1500.00", "2026-11-03T03:00:00"),
    ]
    insights = [
        InsightsChanged(
            correlation_id="sync-1",
            data=InsightsChangedData(
                account_id="111",
                currency="THB",
                granularity="day",
                sync_run_id=1,
                facts=[
                    spend("A1", "2026-10-31", "1000.00"),
                    spend("A1", "2026-11-01", "500.50"),
                    spend("A2", "2026-10-31", "300.25"),
                ],
            ),
        ),
        InsightsChanged(
            correlation_id="sync-1h",
            data=InsightsChangedData(
                account_id="111",
                currency="THB",
                granularity="hour",
                sync_run_id=1,
                facts=[spend("A1", "2026-10-31", "600.00", 9), spend("A1", "2026-10-31", "399.00", 21)],
            ),
        ),
    ]
    structure = StructureChanged(
        correlation_id="structure",
        data=StructureChangedData(
            account_id="111",
            ads=[
                AdStructure(
                    ad_id=ad,
                    ad_name=f"Ad {ad}",
                    adset_id=adset,
                    adset_name=f"Set {adset}",
                    campaign_id=campaign,
                    campaign_name=f"Campaign {campaign}",
                    status="ACTIVE",
                    updated_time=None,
                )
                for ad, adset, campaign in (("A1", "S1", "C1"), ("A2", "S1", "C1"), ("A3", "S2", "C2"))
            ],
        ),
    )
    orders = [o.created_event() for o in (o1, o2, o3, o4, o5)]
    return [*(l1, l2, l3, l4, w1), *orders, *money, *insights, structure]


@pytest.fixture(scope="module")
async def snapshots(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Path]:
    """The dataset published in a shuffled order (and partly twice) to a cache-writer of its own."""
    database_url = await create_database("crm_truth")
    rabbitmq_url = create_vhost("crm-truth")
    root = tmp_path_factory.mktemp("truth")
    try:
        await asyncio.to_thread(
            upgrade, "crm_cache_writer", ServiceSettings(database_url=database_url).async_database_url
        )
        settings = CacheWriterSettings(
            database_url=database_url,
            rabbitmq_url=rabbitmq_url,
            crm_cache_dir=root,
            analytics_render_seconds=0.2,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            events = dataset()
            shuffled = random.Random(20261205).sample(events, len(events))
            await publish_events(app.state.runtime.broker, *shuffled, *shuffled[:6])

            async def settled() -> bool:
                december = _read(root / monthly_path("2026-12"))
                november = _read(root / monthly_path("2026-11"))
                structure = _read(root / STRUCTURE_PATH)
                return bool(
                    december
                    and november
                    and structure
                    and november["total"]["revenue"]["last_28d"] == "16500.00"
                    and december["total"]["revenue"]["last_28d"] == "-2000.00"
                    and november["total"]["spend"] == "500.50"
                    and len(structure["ads"]) == 3
                )

            await eventually(settled, timeout=30, interval=0.2)
            await asyncio.sleep(0.6)  # a render in flight finishes; nothing may change after
        yield root
    finally:
        delete_vhost(rabbitmq_url)
        await drop_database(database_url)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def period(root: Path, relative: str) -> PeriodSnapshot:
    return PeriodSnapshot.model_validate_json((root / relative).read_bytes())


async def test_days_across_the_bangkok_midnight(snapshots: Path) -> None:
    october31 = period(snapshots, daily_path(date(2026, 10, 31)))
    assert october31.total.spend == D("1300.25")
    assert october31.total.spend_hourly == D("999.00")  # shown beside the daily row, never replacing it
    assert october31.ads["A1"].leads == 1
    assert october31.ads["A3"].leads == 1
    assert october31.total.leads == 2
    assert october31.unattributed.revenue == {"last_1d": 5000, "last_7d": 5000, "last_28d": 5000, "first": 0}
    assert october31.ads["A2"].revenue["first"] == D("5000.00")
    assert october31.total.converted_leads == {"1d": 2, "7d": 2, "28d": 2}

    november1 = period(snapshots, daily_path(date(2026, 11, 1)))
    assert november1.total.spend == D("500.50")
    assert november1.ads["A1"].leads == 1  # L2: 17:30Z on 31 October is 00:30 on 1 November in Bangkok
    assert november1.ads["A1"].revenue["last_1d"] == D("10000.00")
    assert november1.ads["A3"].revenue["last_1d"] == D("2000.00")
    assert november1.unattributed.revenue["last_28d"] == D("3000.00")
    assert november1.total.revenue["last_28d"] == D("15000.00")
    for figures in (november1.ads["A1"], november1.ads["A3"], november1.unattributed):
        assert figures.paid_orders["last_28d"] == 1
        assert figures.new_paying_customers["last_28d"] == 1
    assert november1.total.converted_leads["28d"] == 0

    november3 = period(snapshots, daily_path(date(2026, 11, 3)))
    assert november3.unattributed.revenue["last_1d"] == D("1500.00")
    assert november3.ads["A1"].revenue["last_7d"] == D("1500.00")
    assert november3.ads["A1"].paid_orders["last_7d"] == 0  # half paid is not a paid order


async def test_months_and_their_kpis(snapshots: Path) -> None:
    october = period(snapshots, monthly_path("2026-10"))
    k = kpis(october.total, "last_28d", unattributed=october.unattributed)
    assert (k.spend, k.revenue, k.attributed_revenue) == (D("1300.25"), D("5000.00"), D("0.00"))
    assert (k.roas, k.cac, k.aov, k.cost_per_lead, k.conversion_rate) == (
        D("0.00"),
        D("1300.25"),
        D("5000.00"),
        D("650.13"),
        D("1.0000"),
    )
    assert kpis(october.total, "first", unattributed=october.unattributed).roas == D("3.85")

    november = period(snapshots, monthly_path("2026-11"))
    k = kpis(november.total, "last_28d", unattributed=november.unattributed)
    assert (k.revenue, k.attributed_revenue) == (D("16500.00"), D("13500.00"))
    assert (k.roas, k.cac, k.aov, k.cost_per_lead, k.conversion_rate) == (
        D("26.97"),
        D("166.83"),
        D("5500.00"),
        D("500.50"),
        D("0.0000"),
    )
    assert kpis(november.ads["A1"], "last_7d").roas == D("22.98")
    assert kpis(november.ads["A1"], "last_1d").roas == D("19.98")
    a3 = kpis(november.ads["A3"], "last_28d")
    assert (a3.revenue, a3.roas) == (D("2000.00"), None)

    december = period(snapshots, monthly_path("2026-12"))
    assert december.ads["A1"].revenue == {
        k: D("-2000.00") for k in ("last_1d", "last_7d", "last_28d", "first")
    }


async def test_a_range_is_the_sum_of_its_days(snapshots: Path) -> None:
    summed = Figures()
    unattributed = Figures()
    for day in (date(2026, 10, 31), date(2026, 11, 1)):
        snapshot = period(snapshots, daily_path(day))
        summed.add(snapshot.total)
        unattributed.add(snapshot.unattributed)
    k = kpis(summed, "last_1d", unattributed=unattributed)
    assert (k.spend, k.revenue, k.attributed_revenue, k.roas) == (
        D("1800.75"),
        D("20000.00"),
        D("12000.00"),
        D("6.66"),
    )


async def test_the_structure_names_every_ad(snapshots: Path) -> None:
    structure = AdStructureSnapshot.model_validate_json((snapshots / STRUCTURE_PATH).read_bytes())
    assert {ad: (n.campaign_id, n.adset_id, n.campaign_name) for ad, n in structure.ads.items()} == {
        "A1": ("C1", "S1", "Campaign C1"),
        "A2": ("C1", "S1", "Campaign C1"),
        "A3": ("C2", "S2", "Campaign C2"),
    }
