"""The integrity checks: clean facts first (nothing may be reported), then each anomaly planted
once through the events that can bring it, and each check must report exactly it.

Bangkok is UTC+7; every time below is UTC. Ads A1 and A2 are in campaign C1.

Clean:  A1 spends 100.00 on 10 Nov (hourly 60.00 + 40.00), A2 50.00. Customer 1 (A1, PSID 1)
        orders O1 (1,000) 50 minutes after the touch, pays 600 + 400 the same day, gets 200
        back on 12 Nov (a refund on a day without spend is no conversion). Walk-in 2 pays O2
        (500). Customers 10 and 11 share PSID 10 until 11 is merged into 10.
Planted (one each):
    orders_of_undescribed_ads      O3: its ad touch names AX, which marketing never described
    spend_without_campaign         AS spends 20.00 on 11 Nov with no ad set or campaign
    paid_orders_not_adding_up      O4: total 900, marked paid after 800
    refunds_exceed_payments        O5: 300 paid, 400 refunded
    first_touch_after_first_order  customer 6: first ad touch on 13 Nov, first order on 11 Nov
    hourly_spend_not_adding_up     A2 on 10 Nov: hourly 30.00 + 19.99 = 49.99, daily 50.00
    conversions_without_spend      O7 paid on 14 Nov, credited to A2, which spent nothing that day
    customers_sharing_a_psid       customers 8 and 9 both hold PSID 8
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crm_cache_writer.analytics.integrity import IntegrityChecker
from crm_contracts import (
    ChannelIdentity,
    CustomerErasureRequested,
    CustomerErasureRequestedData,
    CustomerMerged,
    CustomerMergedData,
)
from crm_contracts.analytics_checks import CHECK_NAMES, INTEGRITY_PATH, IntegritySnapshot
from crm_servicekit.testing import publish_events

# mypy cannot name this folder's package (`cache-writer` has a hyphen); pytest imports it fine.
from .analytics_events import (  # type: ignore[import-not-found]
    PAGE,
    Order,
    at,
    cache_writer,
    customer,
    fact,
    insights,
    structure,
)

pytestmark = pytest.mark.integration


@dataclass
class Planted:
    clean: IntegritySnapshot
    found: IntegritySnapshot
    erased: IntegritySnapshot
    ids: dict[str, list[str]]
    clean_ids: set[str]
    database_url: str


def merge(survivor: str, merged: str, psid: str) -> CustomerMerged:
    return CustomerMerged(
        correlation_id="merge",
        data=CustomerMergedData(
            merge_id=uuid.uuid4(),
            survivor_id=survivor,
            merged_id=merged,
            identities=[ChannelIdentity(channel="messenger", page_id=PAGE, external_id=psid)],
            merged_at=at("2026-11-10T09:00:00"),
        ),
    )


@pytest.fixture(scope="module")
async def planted(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Planted]:
    async with cache_writer("integrity", tmp_path_factory.mktemp("integrity")) as cw:
        broker = cw.app.state.runtime.broker
        checker: IntegrityChecker = cw.app.state.runtime.extras["analytics_integrity"]

        c1 = customer(1, "2026-11-10T02:05:00", ad="A1", touched="2026-11-10T02:00:00", psid="psid-1")
        c2 = customer(2, "2026-11-10T04:00:00", channel="WALKIN")
        c10 = customer(10, "2026-11-09T01:00:00", psid="psid-10")
        c11 = customer(11, "2026-11-09T02:00:00", psid="psid-10")
        o1 = Order(c1, "1000.00", "2026-11-10T02:50:00", ("A1", "2026-11-10T02:00:00"))
        o2 = Order(c2, "500.00", "2026-11-10T04:00:00", None)
        clean = [
            structure(("A1", "S1", "C1"), ("A2", "S1", "C1")),
            insights(fact("A1", "2026-11-10", "100.00"), fact("A2", "2026-11-10", "50.00")),
            insights(fact("A1", "2026-11-10", "60.00", 9), fact("A1", "2026-11-10", "40.00", 10)),
            c1,
            c2,
            c10,
            c11,
            o1.created_event(),
            o1.money("payment", "600.00", "2026-11-10T03:10:00"),
            o1.money("payment", "400.00", "2026-11-10T05:00:00"),
            o1.money("refund", "200.00", "2026-11-12T03:00:00"),
            o2.created_event(),
            o2.money("payment", "500.00", "2026-11-10T04:10:00"),
        ]
        await publish_events(broker, *clean)
        await cw.stored(
            ad_structure=2, ad_days=2, ad_hours=2, customers=4, customer_psids=3, orders=2, money=4
        )
        await publish_events(broker, merge(c10.data.customer_id, c11.data.customer_id, "psid-10"))
        await cw.stored(customer_psids=2)
        clean_report = await checker.run_once()
        assert clean_report is not None

        c3 = customer(3, "2026-11-11T01:05:00", ad="AX", touched="2026-11-11T01:00:00", psid="psid-3")
        c4 = customer(4, "2026-11-11T03:00:00", channel="WALKIN")
        c5 = customer(5, "2026-11-11T03:30:00", channel="WALKIN")
        c6 = customer(6, "2026-11-11T04:00:00", ad="A1", touched="2026-11-13T03:00:00", psid="psid-6")
        c7 = customer(7, "2026-11-14T01:05:00", ad="A2", touched="2026-11-14T01:00:00", psid="psid-7")
        c8 = customer(8, "2026-11-12T01:00:00", psid="psid-8")
        c9 = customer(9, "2026-11-12T02:00:00", psid="psid-8")
        o3 = Order(c3, "700.00", "2026-11-11T02:00:00", ("AX", "2026-11-11T01:00:00"))
        o4 = Order(c4, "900.00", "2026-11-11T03:00:00", None)
        o5 = Order(c5, "300.00", "2026-11-11T03:30:00", None)
        o6 = Order(c6, "100.00", "2026-11-11T05:00:00", None)
        o7 = Order(c7, "250.00", "2026-11-14T02:00:00", ("A2", "2026-11-14T01:00:00"))
        anomalies = [
            insights(fact("AS", "2026-11-11", "20.00"), run=2),
            insights(fact("A2", "2026-11-10", "30.00", 9), fact("A2", "2026-11-10", "19.99", 10), run=2),
            *(c3, c4, c5, c6, c7, c8, c9),
            *(o.created_event() for o in (o3, o4, o5, o6, o7)),
            o4.money("payment", "800.00", "2026-11-11T03:30:00", paid=True),
            o5.money("payment", "300.00", "2026-11-11T04:00:00"),
            o5.money("refund", "400.00", "2026-11-12T04:00:00"),
            o7.money("payment", "250.00", "2026-11-14T03:00:00"),
        ]
        await publish_events(broker, *anomalies)
        await cw.stored(ad_days=3, ad_hours=4, customers=11, customer_psids=7, orders=7, money=8)
        found = await checker.run_once()
        assert found is not None

        erasure = CustomerErasureRequested(
            correlation_id="erasure",
            data=CustomerErasureRequestedData(
                request_id=uuid.uuid4(),
                customer_id=c9.data.customer_id,
                identities=[ChannelIdentity(channel="messenger", page_id=PAGE, external_id="psid-8")],
                requested_at=at("2026-11-20T00:00:00"),
            ),
        )
        await publish_events(broker, erasure)
        await cw.stored(customer_psids=6)
        erased = await checker.run_once()
        assert erased is not None
        yield Planted(
            clean=clean_report,
            found=found,
            erased=erased,
            ids={
                "orders_of_undescribed_ads": [str(o3.id)],
                "spend_without_campaign": ["AS"],
                "paid_orders_not_adding_up": [str(o4.id)],
                "refunds_exceed_payments": [str(o5.id)],
                "first_touch_after_first_order": [c6.data.customer_id],
                "hourly_spend_not_adding_up": ["A2/2026-11-10"],
                "conversions_without_spend": ["A2/2026-11-14"],
                "customers_sharing_a_psid": sorted([c8.data.customer_id, c9.data.customer_id]),
            },
            clean_ids={str(o1.id), str(o2.id), c1.data.customer_id, c10.data.customer_id, "A1"},
            database_url=cw.database_url,
        )


async def test_clean_facts_report_nothing(planted: Planted) -> None:
    assert [c.name for c in planted.clean.checks] == list(CHECK_NAMES)
    assert {c.name: (c.count, c.examples) for c in planted.clean.checks} == dict.fromkeys(
        CHECK_NAMES, (0, [])
    )


async def test_each_planted_anomaly_is_found_once_by_its_check(planted: Planted) -> None:
    found = {c.name: (c.count, c.examples) for c in planted.found.checks}
    assert found == {name: (1, ids) for name, ids in planted.ids.items()}
    every_example = {e for c in planted.found.checks for e in c.examples}
    assert not every_example & planted.clean_ids, "clean facts are never reported"
    severities = {c.name: c.severity for c in planted.found.checks}
    assert severities["paid_orders_not_adding_up"] == severities["refunds_exceed_payments"] == "error"
    assert severities["hourly_spend_not_adding_up"] == "info"


async def test_the_command_writes_the_file_and_prints_a_summary(planted: Planted, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": planted.database_url, "CRM_CACHE_DIR": str(tmp_path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crm_cache_writer",
        "integrity",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 1, err.decode()  # two checks of severity `error` found something
    printed = out.decode()
    assert "error  paid_orders_not_adding_up: 1" in printed
    assert "ok  orders_of_undescribed_ads" not in printed
    written = IntegritySnapshot.model_validate_json((tmp_path / INTEGRITY_PATH).read_bytes())
    assert {c.name: c.examples for c in written.checks} == {c.name: c.examples for c in planted.erased.checks}
    assert "psid-8" not in json.dumps(written.model_dump(mode="json")), "no PSID, only customer ids"


async def test_an_erased_customer_no_longer_shares_a_psid(planted: Planted) -> None:
    """Erasure (PDPA) takes the customer's PSID digests away: the duplicate is gone."""
    counts = {c.name: c.count for c in planted.erased.checks}
    assert counts["customers_sharing_a_psid"] == 0
    assert counts["refunds_exceed_payments"] == 1, "the rest stays as it was"
