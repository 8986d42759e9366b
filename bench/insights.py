"""A year of hourly insights for 200 ads, synced from the fake Marketing API: rows/s stored.

Target (issue 4): at least half the raw COPY rate, and the whole year in under a minute.

The fake runs as its own process (`python -m crm_fakes marketing`, a deterministic universe of
10 campaigns x 4 ad sets x 5 ads over 365 days ending today). The marketing service's own sync
engine (`crm_marketing.sync.Syncer`, in this process, on a fresh database and RabbitMQ vhost that
are dropped at the end) runs one hourly backfill of the whole year exactly as production does:
structure, one async report job per day (a few at a time), pages, parse, COPY + upsert, and the
`marketing.insights_changed` events through the outbox to RabbitMQ.

Reported next to each other, all in this run:
- ours, end to end: rows stored per second of the whole sync (fetching from the fake included);
- ours, store stage: parse + COPY + upsert + events for rows already fetched (a sample of days);
- raw baseline: asyncpg `copy_records_to_table` of the same stored rows into the same, emptied
  table (no parsing, no conflict handling, no events).

    uv run python -m bench insights --days 365
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import SecretStr

from crm_fakes import MarketingUniverse
from crm_localrun.ports import free_port
from crm_marketing import runs
from crm_marketing.app import create_app
from crm_marketing.config import MarketingSettings
from crm_marketing.meta.report_jobs import Job, ReportRunner
from crm_marketing.sync import RunState, Syncer
from crm_servicekit.migrations import upgrade
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database

from .profile import Where, add_where_argument, profile_during, where_text
from .servers import REPO_ROOT, Server

TOKEN = "bench-marketing-token"  # noqa: S105 - the fake's, for this run only
TARGET_SECONDS = 60.0
SEED = 7
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=365, help="days of hourly rows (1-400)")
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument("--adsets", type=int, default=4, help="per campaign")
    parser.add_argument("--ads", type=int, default=5, help="per ad set")
    parser.add_argument("--page-size", type=int, default=5000, help="rows per results page")
    parser.add_argument("--concurrency", type=int, default=3, help="report jobs at a time")
    parser.add_argument("--sample-days", type=int, default=30, help="days timed for the store stage")
    add_where_argument(parser, "the store stage once more on an emptied table")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON goes")


async def main(args: argparse.Namespace) -> int:
    days = max(1, min(args.days, 400))
    database_url = await create_database("crm_bench")
    rabbitmq_url = await asyncio.to_thread(create_vhost, "crm-bench")
    port = free_port()
    fake = Server(
        "fake-marketing",
        port,
        [sys.executable, "-m", "crm_fakes", "marketing", "--port", str(port), "--seed", str(SEED),
         "--campaigns", str(args.campaigns), "--adsets", str(args.adsets), "--ads", str(args.ads),
         "--days", str(days), "--token", TOKEN, "--polls", "1",
         # Meta's quota is thousands of insight calls an hour for 200 active ads; the fake's
         # default (1 point per call) would make the bench measure our pacing, not our storing.
         "--usage-increment", "0.01"],
        env={**os.environ},
        cwd=REPO_ROOT,
        log_path=args.results_dir / "fake-marketing.log",
        ready_path="/_fake/calls",
    )  # fmt: skip
    try:
        fake.start()
        settings = MarketingSettings(
            database_url=database_url,
            rabbitmq_url=rabbitmq_url,
            meta_graph_api_url=fake.url,
            meta_marketing_access_token=SecretStr(TOKEN),
            sync_schedule_enabled=False,
            sync_poll_seconds=3600,
            insights_page_size=args.page_size,
            report_concurrency=args.concurrency,
            report_poll_initial_seconds=0.01,
            report_poll_max_seconds=0.05,
            log_level="WARNING",
        )
        await asyncio.to_thread(upgrade, "crm_marketing", settings.async_database_url)
        app = create_app(settings)
        runtime: Runtime = app.state.runtime
        async with app.router.lifespan_context(app):
            # The universe's only account; its id depends on the seed alone.
            account = MarketingUniverse(SEED, start=date.today(), end=date.today()).accounts[0].account_id
            results = await _measure(runtime, settings, account, days, args.sample_days)
            if args.where:
                results["where"] = await _profiled_store(
                    Syncer(runtime, settings), settings, account, days, args
                )
        _print(results, days, args)
        return 0  # the figures say whether the targets were met; the exit status is for a broken run
    finally:
        fake.stop()
        await drop_database(database_url)
        await asyncio.to_thread(delete_vhost, rabbitmq_url)


async def _measure(
    runtime: Runtime, settings: MarketingSettings, account: str, days: int, sample_days: int
) -> dict[str, Any]:
    syncer = Syncer(runtime, settings)
    async with runtime.sessionmaker() as session, session.begin():
        today = await runs.account_today(session, account, datetime.now(UTC))
        since = today - timedelta(days=days - 1)
        run_id = await runs.enqueue(
            session, runs.RunRequest(account, "backfill", since, today, ("hour",), "bench")
        )
    started = time.perf_counter()
    await syncer.run_pending()
    end_to_end = time.perf_counter() - started

    raw = await asyncpg.connect(settings.libpq_database_url)
    try:
        run = await raw.fetchrow("SELECT * FROM marketing.sync_runs WHERE id = $1", run_id)
        assert run is not None
        if run["status"] != "succeeded":
            raise SystemExit(f"the sync run did not succeed: {run['status']} {run['error']}")
        stored = await raw.fetchval("SELECT count(*) FROM marketing.insights_hourly")
        records = await raw.fetch("SELECT * FROM marketing.insights_hourly")
        columns = list(records[0].keys())
        tuples = [tuple(r.values()) for r in records]
        await raw.execute("TRUNCATE marketing.insights_hourly")
        started = time.perf_counter()
        await raw.copy_records_to_table(
            "insights_hourly", schema_name="marketing", records=tuples, columns=columns
        )
        copy_s = time.perf_counter() - started
        del records, tuples
        await raw.execute("TRUNCATE marketing.insights_hourly")
    finally:
        await raw.close()

    store_rows, store_s = await _store_stage(syncer, account, today, min(sample_days, days))
    return {
        "rows": stored,
        "end_to_end_s": end_to_end,
        "run": {
            k: (str(v) if not isinstance(v, int | str | type(None)) else v) for k, v in dict(run).items()
        },
        "copy_s": copy_s,
        "store_rows": store_rows,
        "store_s": store_s,
    }


async def _profiled_store(
    syncer: Syncer, settings: MarketingSettings, account: str, days: int, args: argparse.Namespace
) -> Where:
    """The store stage once more on an emptied table, this process under py-spy (after the timed
    pass: the profiler's CPU is in none of the figures): its samples by library."""
    raw = await asyncpg.connect(settings.libpq_database_url)
    try:
        await raw.execute("TRUNCATE marketing.insights_hourly")
    finally:
        await raw.close()
    async with syncer.runtime.sessionmaker() as session:
        today = await runs.account_today(session, account, datetime.now(UTC))
    fetched = await _fetch(syncer, account, today, min(args.sample_days, days))
    out = args.results_dir / f"profile-insights-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    where = await profile_during(
        {"marketing": os.getpid()}, out, lambda: _store(syncer, account, today, fetched)
    )
    print(f"where the time goes (py-spy, the store stage again): {where_text(where)}")
    return where


async def _store_stage(syncer: Syncer, account: str, today: date, days: int) -> tuple[int, float]:
    """Fetch `days` days of rows first, then time only what the sync does with them."""
    return await _store(syncer, account, today, await _fetch(syncer, account, today, days))


async def _fetch(
    syncer: Syncer, account: str, today: date, days: int
) -> list[tuple[Job, list[dict[str, Any]]]]:
    client = syncer.client()
    runner = ReportRunner(client, children=_no_children, page_size=syncer.settings.insights_page_size)
    fetched: list[tuple[Job, list[dict[str, Any]]]] = []
    try:
        for offset in range(days):
            day = today - timedelta(days=offset)
            job = Job(f"act_{account}", "account", day, day, hourly=True)
            fetched.append((job, await runner.rows(job)))
    finally:
        await client.aclose()
    return fetched


async def _store(
    syncer: Syncer, account: str, today: date, fetched: list[tuple[Job, list[dict[str, Any]]]]
) -> tuple[int, float]:
    client = syncer.client()
    state = RunState(
        runs.ClaimedRun(0, account, "backfill", today, today, ("hour",)), runs.RunStats(), client
    )
    started = time.perf_counter()
    try:
        for job, rows in fetched:
            await syncer.store_job(state, job, rows)
    finally:
        await client.aclose()
    return sum(len(r) for _, r in fetched), time.perf_counter() - started


async def _no_children(job: Job) -> list[str]:
    return []


def _print(r: dict[str, Any], days: int, args: argparse.Namespace) -> None:
    rows = r["rows"]
    ours = rows / r["end_to_end_s"]
    store = r["store_rows"] / r["store_s"]
    copy = rows / r["copy_s"]
    ads = args.campaigns * args.adsets * args.ads
    print(f"{days} days x {ads} ads hourly: {rows:,} rows stored ({r['run']['api_calls']} API calls)")
    print(f"{'':28}{'rows/s':>12}{'seconds':>10}{'vs COPY':>9}")
    print(f"{'ours, end to end':28}{ours:>12,.0f}{r['end_to_end_s']:>10.1f}{ours / copy:>9.0%}")
    print(f"{'ours, store stage':28}{store:>12,.0f}{r['store_s']:>10.1f}{store / copy:>9.0%}")
    print(f"{'raw asyncpg COPY':28}{copy:>12,.0f}{r['copy_s']:>10.1f}{1:>9.0%}")
    verdict = "MET" if r["end_to_end_s"] < TARGET_SECONDS else "MISSED"
    print(f"whole range in {r['end_to_end_s']:.1f} s: target < {TARGET_SECONDS:.0f} s {verdict}")
    half = "MET" if store >= copy / 2 else "MISSED"
    print(f"store stage {store / copy:.0%} of raw COPY: target >= 50% {half}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    doc = {"benchmark": "insights", **r, "days": days, "ads": ads}
    path = args.results_dir / f"insights-{stamp}.json"
    path.write_text(json.dumps(doc, indent=2, default=str))
    print(f"results: {path}")
