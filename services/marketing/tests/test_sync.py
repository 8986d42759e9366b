"""Sync runs against the fake Marketing API, on the real PostgreSQL and RabbitMQ.

What staff rely on: the numbers equal Meta's to the satang per campaign and day, hours add up to
days, a resync changes nothing, throttling and failing report jobs cost time but not data, and a
refused token stops the run with a status that says what to do.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select, text

from crm_fakes import FakeServer, MarketingState, MarketingUniverse, create_marketing_app
from crm_marketing import backfill, runs
from crm_marketing.app import create_app
from crm_marketing.config import MarketingSettings
from crm_marketing.models import ads, campaigns, insights_daily, insights_hourly, sync_runs
from crm_marketing.sync import Syncer
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder

pytestmark = pytest.mark.integration

TOKEN = "marketing-sync-token"
START, END = date(2026, 1, 1), date(2026, 1, 10)
UNIVERSE = MarketingUniverse(
    11, campaigns_per_account=3, adsets_per_campaign=2, ads_per_adset=2, start=START, end=END
)
ACCOUNT = UNIVERSE.accounts[0].account_id


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, MarketingState]]:
    state = MarketingState(UNIVERSE, access_token=TOKEN, polls_to_complete=2)
    with FakeServer(create_marketing_app(state)) as server:
        yield server.url, state


@dataclass
class Sleeps:
    """Stands in for asyncio.sleep: records what the sync chose to wait, returns at once."""

    asked: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@dataclass
class Marketing:
    runtime: Runtime
    syncer: Syncer
    sleeps: Sleeps
    meta: MarketingState
    events: EventRecorder

    async def run(
        self,
        since: date = START,
        until: date = END,
        granularities: tuple[runs.Granularity, ...] = ("day", "hour"),
    ) -> dict[str, Any]:
        """Queue a backfill, let the worker execute it, and return its row as staff see it."""
        async with self.runtime.sessionmaker() as session, session.begin():
            run_id = await runs.enqueue(
                session, runs.RunRequest(ACCOUNT, "backfill", since, until, granularities, "test")
            )
        assert await self.syncer.run_pending() >= 1
        async with self.runtime.sessionmaker() as session:
            row = (await session.execute(select(sync_runs).where(sync_runs.c.id == run_id))).mappings().one()
        return dict(row)


def settings_for(url: str, database_url: str, rabbitmq_url: str, **overrides: Any) -> MarketingSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "rabbitmq_url": rabbitmq_url,
        "meta_graph_api_url": url,
        "meta_marketing_access_token": SecretStr(TOKEN),
        "meta_ad_account_ids": f"act_{ACCOUNT}",
        "sync_schedule_enabled": False,
        "sync_poll_seconds": 3600,
        "insights_page_size": 100,
        **overrides,
    }
    return MarketingSettings(**values)


@pytest.fixture
async def marketing(
    fake: tuple[str, MarketingState], migrated: str, rabbitmq_url: str
) -> AsyncIterator[Marketing]:
    url, state = fake
    state.reset()
    state.empty_page_every = 0
    state.max_page_size = None
    settings = settings_for(url, migrated, rabbitmq_url)
    app: FastAPI = create_app(settings)
    runtime: Runtime = app.state.runtime
    sleeps = Sleeps()
    async with EventRecorder(rabbitmq_url) as events, app.router.lifespan_context(app):
        async with runtime.sessionmaker() as session, session.begin():
            tables = "insights_daily, insights_hourly, campaigns, adsets, ads, ad_accounts, structure_cursors"
            await session.execute(
                text(f"TRUNCATE marketing.{tables.replace(', ', ', marketing.')}, marketing.sync_runs")
            )
        yield Marketing(runtime, Syncer(runtime, settings, sleep=sleeps), sleeps, state, events)


async def campaign_day_spend(m: Marketing) -> dict[tuple[str, date], Decimal]:
    async with m.runtime.sessionmaker() as session:
        d = insights_daily.c
        query = select(d.campaign_id, d.day, func.sum(d.spend)).group_by(d.campaign_id, d.day)
        return {(c, day): s for c, day, s in await session.execute(query)}


def truth(since: date = START, until: date = END) -> dict[tuple[str, date], Decimal]:
    out: dict[tuple[str, date], Decimal] = {}
    day = since
    while day <= until:
        for camp in UNIVERSE.campaigns:
            spend = UNIVERSE.spend(camp.id, day)
            if spend:
                out[(camp.id, day)] = spend
        day = date.fromordinal(day.toordinal() + 1)
    return out


async def assert_complete(m: Marketing, since: date = START, until: date = END) -> None:
    """Every campaign's spend per day equals the fake's truth, and hours add up to days."""
    assert await campaign_day_spend(m) == truth(since, until)
    async with m.runtime.sessionmaker() as session:
        h = insights_hourly.c
        hourly = {
            (ad, day): (spend, imps)
            for ad, day, spend, imps in await session.execute(
                select(h.ad_id, h.day, func.sum(h.spend), func.sum(h.impressions)).group_by(h.ad_id, h.day)
            )
        }
        daily = {
            (r.ad_id, r.day): (r.spend, r.impressions) for r in await session.execute(select(insights_daily))
        }
    assert hourly == daily


async def test_a_backfill_equals_the_seeded_truth_per_campaign_and_day(marketing: Marketing) -> None:
    run = await marketing.run()

    assert run["status"] == "succeeded", run["error"]
    await assert_complete(marketing)
    assert run["jobs_done"] == run["jobs_total"] == 2 + 10  # two 7-day daily jobs, ten hourly days
    assert run["rows_changed"] == run["rows_fetched"] > 0
    assert run["api_calls"] > run["jobs_total"]
    # Names for every object, the archived campaign's too.
    async with marketing.runtime.sessionmaker() as session:
        names = {r.id: r.name for r in await session.execute(select(campaigns.c.id, campaigns.c.name))}
        stored_ads = await session.scalar(select(func.count()).select_from(ads))
    assert names == {c.id: c.name for c in UNIVERSE.campaigns}
    assert any(c.effective_status == "ARCHIVED" for c in UNIVERSE.campaigns)
    assert stored_ads == len(UNIVERSE.ads)


async def test_changed_rows_are_published_with_names_and_a_resync_publishes_nothing(
    marketing: Marketing,
) -> None:
    first = await marketing.run(since=date(2026, 1, 5), until=date(2026, 1, 6), granularities=("day",))
    events = await marketing.events.wait_for("marketing.insights_changed")
    facts = [f for e in events for f in e["data"]["facts"]]

    assert len(facts) == first["rows_changed"]
    assert sum(Decimal(f["spend"]) for f in facts) == sum(truth(date(2026, 1, 5), date(2026, 1, 6)).values())
    ad = next(a for a in UNIVERSE.ads if any(f["ad_id"] == a.id for f in facts))
    fact = next(f for f in facts if f["ad_id"] == ad.id)
    assert fact["ad_name"] == ad.name
    assert fact["campaign_name"] == UNIVERSE.get(ad.campaign_id).name  # type: ignore[union-attr]
    assert {e["data"]["granularity"] for e in events} == {"day"}

    again = await marketing.run(since=date(2026, 1, 5), until=date(2026, 1, 6), granularities=("day",))
    assert again["status"] == "succeeded"
    assert again["rows_fetched"] == first["rows_fetched"]
    assert again["rows_changed"] == 0, "a resync of the same range changes nothing"
    assert len(marketing.events.of_type("marketing.insights_changed")) == len(events)


async def test_a_throttled_run_waits_as_meta_says_and_completes(marketing: Marketing) -> None:
    marketing.meta.throttle_next(120, times=2)

    run = await marketing.run(since=date(2026, 1, 2), until=date(2026, 1, 3))

    assert run["status"] == "succeeded", run["error"]
    await assert_complete(marketing, date(2026, 1, 2), date(2026, 1, 3))
    assert run["throttle_waits"] >= 1
    assert run["throttle_wait_seconds"] >= 120, "waited estimated_time_to_regain_access (2 minutes)"
    assert max(marketing.sleeps.asked) >= 119


@pytest.mark.parametrize(
    ("code", "subcode"), [(17, 2446079), (613, None), (4, 1504022), (1, None), (2, None)]
)
async def test_rate_limits_and_transient_errors_are_retried(
    marketing: Marketing, code: int, subcode: int | None
) -> None:
    marketing.meta.fail_next(code, subcode, times=2, http_status=500 if code in (1, 2) else 400)

    run = await marketing.run(since=date(2026, 1, 4), until=date(2026, 1, 4), granularities=("day",))

    assert run["status"] == "succeeded", run["error"]
    assert run["retries"] >= 2
    assert await campaign_day_spend(marketing) == truth(date(2026, 1, 4), date(2026, 1, 4))


async def test_an_async_job_that_fails_once_is_retried_and_the_data_is_complete(marketing: Marketing) -> None:
    marketing.meta.fail_next_run(1)

    run = await marketing.run(since=date(2026, 1, 6), until=date(2026, 1, 7))

    assert run["status"] == "succeeded", run["error"]
    assert run["retries"] >= 1
    await assert_complete(marketing, date(2026, 1, 6), date(2026, 1, 7))


async def test_a_job_that_keeps_failing_for_the_account_is_split_by_campaign(marketing: Marketing) -> None:
    marketing.meta.fail_runs_on(f"act_{ACCOUNT}")

    run = await marketing.run(since=date(2026, 1, 8), until=date(2026, 1, 8))

    assert run["status"] == "succeeded", run["error"]
    await assert_complete(marketing, date(2026, 1, 8), date(2026, 1, 8))
    campaign_posts = {
        c.path.split("/")[2] for c in marketing.meta.calls() if c.method == "POST" and "act_" not in c.path
    }
    assert campaign_posts == {c.id for c in UNIVERSE.campaigns}


async def test_a_campaign_that_keeps_failing_is_split_by_ad_set(marketing: Marketing) -> None:
    first = UNIVERSE.campaigns[0]
    marketing.meta.fail_runs_on(f"act_{ACCOUNT}", first.id)

    run = await marketing.run(since=date(2026, 1, 8), until=date(2026, 1, 9), granularities=("day",))

    assert run["status"] == "succeeded", run["error"]
    assert await campaign_day_spend(marketing) == truth(date(2026, 1, 8), date(2026, 1, 9))


async def test_pagination_across_empty_pages_and_shrinking_pages_is_complete(marketing: Marketing) -> None:
    marketing.meta.empty_page_every = 2
    marketing.meta.max_page_size = 40  # asked 100 per page: "reduce the amount of data" until 25

    run = await marketing.run(since=date(2026, 1, 2), until=date(2026, 1, 2))

    assert run["status"] == "succeeded", run["error"]
    await assert_complete(marketing, date(2026, 1, 2), date(2026, 1, 2))
    limits = {c.params.get("limit") for c in marketing.meta.calls() if c.path.endswith("/insights")}
    assert "25" in limits


async def test_a_refused_token_stops_the_run_with_a_status_that_says_what_to_do(marketing: Marketing) -> None:
    marketing.meta.fail_next(190)

    run = await marketing.run(since=date(2026, 1, 2), until=date(2026, 1, 2))

    assert run["status"] == "stopped"
    assert run["error_code"] == 190
    assert "META_MARKETING_ACCESS_TOKEN" in run["error"]
    assert run["finished_at"] is not None
    assert await campaign_day_spend(marketing) == {}


async def test_the_structure_is_fetched_incrementally_by_updated_time(marketing: Marketing) -> None:
    await marketing.run(since=date(2026, 1, 2), until=date(2026, 1, 2), granularities=("day",))
    marketing.meta.reset()

    await marketing.run(since=date(2026, 1, 3), until=date(2026, 1, 3), granularities=("day",))

    listings = [c for c in marketing.meta.calls() if c.path.endswith(("/campaigns", "/adsets", "/ads"))]
    assert len(listings) == 3
    assert all("updated_time" in c.params.get("filtering", "") for c in listings)
    assert all("ARCHIVED" in c.params["effective_status"] for c in listings)


async def test_schedules_queue_one_hourly_and_one_daily_run_per_slot(marketing: Marketing) -> None:
    settings = marketing.syncer.settings.model_copy(update={"sync_schedule_enabled": True})
    syncer = Syncer(marketing.runtime, settings, sleep=marketing.sleeps)
    at = datetime(2026, 11, 22, 3, 30, tzinfo=UTC)  # 10:30 in Bangkok

    assert await syncer.schedule_due(at) == 2
    assert await syncer.schedule_due(at) == 0, "a slot is queued once, whichever replica is first"

    async with marketing.runtime.sessionmaker() as session:
        queued = (await session.execute(select(sync_runs).order_by(sync_runs.c.kind))).mappings().all()
    assert [(r["kind"], r["since"], r["until"], r["granularities"]) for r in queued] == [
        ("daily", date(2026, 10, 26), date(2026, 11, 22), ["day"]),
        ("hourly", date(2026, 11, 21), date(2026, 11, 22), ["day", "hour"]),
    ]
    assert {r["requested_by"] for r in queued} == {"schedule"}


async def test_the_backfill_command_queues_a_run_the_worker_completes(marketing: Marketing) -> None:
    settings = marketing.syncer.settings
    args = argparse.Namespace(since=date(2026, 1, 3), until=date(2026, 1, 4), hourly=False, account=None)

    [run_id] = await backfill.queue(settings, args)
    assert await marketing.syncer.run_pending() == 1

    async with marketing.runtime.sessionmaker() as session:
        run = (await session.execute(select(sync_runs).where(sync_runs.c.id == run_id))).mappings().one()
    assert (run["status"], run["requested_by"], run["granularities"]) == (
        "succeeded",
        "command line",
        ["day"],
    )
    assert await campaign_day_spend(marketing) == truth(date(2026, 1, 3), date(2026, 1, 4))

    too_old = argparse.Namespace(since=date(2020, 1, 1), until=date(2020, 1, 2), hourly=True, account=None)
    with pytest.raises(runs.RunRequestError, match="37 months"):
        await backfill.queue(settings, too_old)


async def test_rows_meta_sends_unreadable_are_named_and_the_rest_is_stored(marketing: Marketing) -> None:
    marketing.meta.garble_next_rows(2)

    run = await marketing.run(since=date(2026, 1, 5), until=date(2026, 1, 5), granularities=("day",))

    assert run["status"] == "failed"
    assert run["error"] == "2 rows could not be read and were left out (spend: not a number)"
    assert run["rows_fetched"] == run["rows_changed"] + 2
    stored = await campaign_day_spend(marketing)
    expected = truth(date(2026, 1, 5), date(2026, 1, 5))
    assert sum(stored.values()) < sum(expected.values()), "the unreadable rows are not guessed at"
    assert set(stored) <= set(expected)
