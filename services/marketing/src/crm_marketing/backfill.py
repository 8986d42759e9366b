"""`python -m crm_marketing.backfill --since 2025-01-01 --until 2025-12-31 [--hourly]`: queue backfill
runs (one per ad account in META_AD_ACCOUNT_IDS, or `--account`) for the service's workers.

The same as `POST /api/v1/marketing/syncs` for operators with shell access; the runs show up in
`GET /api/v1/marketing/syncs` like any other.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime

from crm_servicekit.db import create_engine, create_sessionmaker

from . import runs
from .config import MarketingSettings


async def queue(settings: MarketingSettings, args: argparse.Namespace) -> list[int]:
    accounts = [args.account.removeprefix("act_")] if args.account else settings.ad_account_ids
    if not accounts:
        raise runs.RunRequestError("no ad accounts configured (META_AD_ACCOUNT_IDS) and no --account")
    grains: tuple[runs.Granularity, ...] = ("day", "hour") if args.hourly else ("day",)
    engine = create_engine(settings.async_database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            queued = []
            for account in accounts:
                today = await runs.account_today(session, account, datetime.now(UTC))
                since, until, chosen = runs.plan(
                    "backfill",
                    today,
                    lookback_days=settings.sync_lookback_days,
                    since=args.since,
                    until=args.until,
                    granularities=grains,
                )
                request = runs.RunRequest(account, "backfill", since, until, chosen, "command line")
                run_id = await runs.enqueue(session, request)
                assert run_id is not None
                queued.append(run_id)
            return queued
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_marketing.backfill", description=__doc__)
    parser.add_argument("--since", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--until", type=date.fromisoformat, required=True, help="last day, YYYY-MM-DD")
    parser.add_argument("--hourly", action="store_true", help="hourly rows too (one report job per day)")
    parser.add_argument("--account", help="one ad account (default: every one in META_AD_ACCOUNT_IDS)")
    args = parser.parse_args(argv)
    try:
        ids = asyncio.run(queue(MarketingSettings(), args))
    except runs.RunRequestError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"queued sync runs {', '.join(map(str, ids))}; follow them at GET /api/v1/marketing/syncs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
