"""Issue 4 across real processes: staff sync Meta's ad numbers through the gateway, the marketing
service fetches them from the Marketing API fake (a process), and what staff read, and what the
rest of the system hears, equals the fake's truth to the satang."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from crm_fakes import MarketingUniverse
from crm_servicekit.testing import EventRecorder, eventually

from .conftest import System, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ADDITIVE = (
    "spend",
    "impressions",
    "clicks",
    "link_clicks",
    "messaging_conversations_started",
    "leads",
    "purchases",
    "purchase_value",
)
MONEY = ("spend", "purchase_value")
FINISHED = ("succeeded", "failed", "stopped")


@dataclass
class Backfill:
    """Run (a): a few days of day and hour rows, queued by staff, with the events it published."""

    run: dict[str, Any]
    since: date
    until: date
    universe: MarketingUniverse
    events: list[dict[str, Any]]


async def queue_backfill(
    http: httpx.AsyncClient, since: date, until: date, granularities: list[str]
) -> dict[str, Any]:
    response = await http.post(
        "/api/v1/marketing/syncs",
        json={
            "kind": "backfill",
            "since": since.isoformat(),
            "until": until.isoformat(),
            "granularities": granularities,
        },
    )
    assert response.status_code == 202, response.text
    [run] = response.json()["items"]
    assert run["status"] == "queued"
    return dict(run)


async def finished(http: httpx.AsyncClient, run_id: int) -> dict[str, Any]:
    """The run as staff see it once it has ended (any outcome)."""

    async def done() -> dict[str, Any] | None:
        response = await http.get(f"/api/v1/marketing/syncs/{run_id}")
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        return run if run["status"] in FINISHED else None

    return await eventually(done, timeout=60, interval=0.1)


async def fresh_fake(system: System) -> None:
    """Forget the fake's earlier calls, failures and usage (its usage headers climb with every call)."""
    async with httpx.AsyncClient(base_url=system.marketing.url) as fake:
        assert (await fake.post("/_fake/reset")).status_code == 200


async def gateway(system: System) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=system.stack.url("gateway"), headers=await staff_token(system), timeout=30
    )


@pytest.fixture(scope="module")
async def backfill(system: System) -> Backfill:
    # Three days from the fake's second: the archived campaign still delivers on the first.
    since = system.marketing.since + timedelta(days=1)
    until = since + timedelta(days=2)
    await fresh_fake(system)
    async with await gateway(system) as http, EventRecorder(system.rabbitmq_url) as recorder:
        queued = await queue_backfill(http, since, until, ["day", "hour"])
        run = await finished(http, queued["id"])
        assert run["status"] == "succeeded", run

        def of_run() -> list[dict[str, Any]]:
            return [
                e
                for e in recorder.of_type("marketing.insights_changed")
                if e["data"]["sync_run_id"] == run["id"]
            ]

        async def all_published() -> list[dict[str, Any]]:
            events = of_run()
            return events if sum(len(e["data"]["facts"]) for e in events) >= run["rows_changed"] else []

        events = await eventually(all_published, timeout=30)
    return Backfill(run, since, until, system.marketing.universe(), events)


async def test_staff_backfill_gives_campaign_totals_equal_to_meta(system: System, backfill: Backfill) -> None:
    run, u = backfill.run, backfill.universe
    assert run["account_id"] == system.marketing.account_id
    assert run["kind"] == "backfill"
    assert sorted(run["granularities"]) == ["day", "hour"]
    assert run["error"] is None
    assert run["error_code"] is None
    assert run["jobs_total"] == run["jobs_done"] >= 1 + 3, "daily rows, and hourly ones a day per job"
    assert run["rows_fetched"] > 0
    assert run["rows_changed"] == run["rows_fetched"], "a first sync stores every row it fetched"
    assert run["api_calls"] > 0

    range_ = {"since": backfill.since.isoformat(), "until": backfill.until.isoformat()}
    async with await gateway(system) as http:
        response = await http.get("/api/v1/marketing/campaigns", params=range_)
        assert response.status_code == 200, response.text
        tree = response.json()
    assert tree["currency"] == "THB"

    account_truth = u.totals("account", f"act_{system.marketing.account_id}", backfill.since, backfill.until)
    assert Decimal(tree["totals"]["spend"]) == account_truth.spend
    assert tree["totals"]["impressions"] == account_truth.impressions

    listed = {c["id"]: c for c in tree["campaigns"]}
    delivering = {
        c.id for c in u.campaigns if u.totals("campaign", c.id, backfill.since, backfill.until).impressions
    }
    shown = {c.id for c in u.campaigns if c.status != "ARCHIVED"} | delivering
    assert set(listed) == shown, "every campaign staff see in Ads Manager, and archived ones with numbers"
    assert {c.id for c in u.campaigns if c.status == "ARCHIVED"} & delivering, "archived spend in range"
    for campaign in tree["campaigns"]:
        truth = u.totals("campaign", campaign["id"], backfill.since, backfill.until)
        obj = u.get(campaign["id"])
        assert obj is not None
        assert campaign["name"] == obj.name
        spend = Decimal(campaign["totals"]["spend"])
        assert spend == truth.spend, f"{obj.name}: {spend} != {truth.spend}"
        assert campaign["totals"]["spend"] == f"{truth.spend:.2f}", "money as a 2-decimal string"
        assert campaign["totals"]["impressions"] == truth.impressions
        assert Decimal(campaign["totals"]["purchase_value"]) == truth.purchase_value
        for adset in campaign["adsets"]:
            for ad in adset["ads"]:
                ad_truth = u.totals("ad", ad["id"], backfill.since, backfill.until)
                assert Decimal(ad["totals"]["spend"]) == ad_truth.spend
                assert ad["totals"]["clicks"] == ad_truth.clicks


async def test_hourly_campaign_rows_add_up_to_the_daily_ones(system: System, backfill: Backfill) -> None:
    u = backfill.universe
    params = {"level": "campaign", "since": backfill.since.isoformat(), "until": backfill.until.isoformat()}
    async with await gateway(system) as http:
        daily = await http.get("/api/v1/marketing/insights", params={**params, "granularity": "day"})
        hourly = await http.get("/api/v1/marketing/insights", params={**params, "granularity": "hour"})
    assert daily.status_code == hourly.status_code == 200, (daily.text, hourly.text)
    day_rows, hour_rows = daily.json()["rows"], hourly.json()["rows"]
    assert day_rows
    assert all(r["hour"] is None for r in day_rows)
    assert all(0 <= r["hour"] <= 23 for r in hour_rows)

    by_day: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: dict.fromkeys(ADDITIVE, 0))
    for row in hour_rows:
        sums = by_day[row["id"], row["day"]]
        for name in ADDITIVE:
            sums[name] += Decimal(row[name]) if name in MONEY else row[name]
    days = {(r["id"], r["day"]): r for r in day_rows}
    assert set(by_day) == set(days)
    for key, row in days.items():
        for name in ADDITIVE:
            stored = Decimal(row[name]) if name in MONEY else row[name]
            assert by_day[key][name] == stored, f"{key} {name}"
        assert Decimal(row["spend"]) == u.spend(key[0], date.fromisoformat(key[1]))


async def test_insights_changed_events_carry_the_run_facts_with_names(
    system: System, backfill: Backfill
) -> None:
    u, events = backfill.universe, backfill.events
    account = system.marketing.account_id
    facts = [(e["data"]["granularity"], f) for e in events for f in e["data"]["facts"]]
    assert len(facts) == backfill.run["rows_changed"]
    for event in events:
        assert event["producer"] == "marketing"
        assert event["data"]["account_id"] == account
        assert event["data"]["currency"] == "THB"

    day_facts = {(f["ad_id"], f["day"]): f for g, f in facts if g == "day"}
    hour_facts = {(f["ad_id"], f["day"], f["hour"]): f for g, f in facts if g == "hour"}
    assert len(day_facts) + len(hour_facts) == len(facts), "each row published once"
    days = [backfill.since + timedelta(days=i) for i in range((backfill.until - backfill.since).days + 1)]
    assert set(day_facts) == {
        (ad.id, d.isoformat()) for ad in u.ads for d in days if u.daily(ad.id, d).impressions
    }
    assert {(a, d) for a, d, _ in hour_facts} == set(day_facts)

    for (ad_id, day), fact in day_facts.items():
        ad = u.get(ad_id)
        assert ad is not None
        adset, campaign = u.get(ad.adset_id or ""), u.get(ad.campaign_id)
        assert adset is not None
        assert campaign is not None
        assert fact["hour"] is None
        assert (fact["ad_name"], fact["adset_name"], fact["campaign_name"]) == (
            ad.name,
            adset.name,
            campaign.name,
        )
        assert (fact["adset_id"], fact["campaign_id"]) == (adset.id, campaign.id)
        truth = u.daily(ad_id, date.fromisoformat(day))
        assert Decimal(fact["spend"]) == truth.spend
        assert fact["impressions"] == truth.impressions
        assert Decimal(fact["purchase_value"]) == truth.purchase_value
    for (ad_id, day, hour), fact in hour_facts.items():
        ad = u.get(ad_id)
        assert ad is not None
        assert fact["ad_name"] == ad.name
        truth = u.hourly(ad_id, date.fromisoformat(day), hour)
        assert Decimal(fact["spend"]) == truth.spend
        assert fact["clicks"] == truth.clicks


async def test_a_refused_token_stops_the_run_and_says_which_setting_to_fix(system: System) -> None:
    day = system.marketing.since
    await fresh_fake(system)
    async with await gateway(system) as http, httpx.AsyncClient(base_url=system.marketing.url) as fake:
        failing = await fake.post("/_fake/fail", json={"code": 190, "times": 1})
        assert failing.status_code == 200, failing.text
        queued = await queue_backfill(http, day, day, ["day"])
        run = await finished(http, queued["id"])
    assert run["status"] == "stopped", run
    assert run["error_code"] == 190
    assert "META_MARKETING_ACCESS_TOKEN" in run["error"]
    assert run["rows_fetched"] == 0
