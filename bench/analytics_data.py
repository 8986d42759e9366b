"""A year of a school's marketing as the cache-writer's analytics read model holds it, generated in
memory and loaded with COPY; and the burst of insight events the dashboards benchmark publishes.

The cache-writer's own tables (`crm_cache_writer.analytics.tables`), after its migrations:
- `ad_structure`: `ads` ads, 5 per ad set, 4 ad sets per campaign, with names and status;
- `ad_days` and `ad_hours`: every ad's daily row of each day and its 24 hourly rows, which add up
  to the daily one (today's too, until the burst changes them);
- `leads`: four customers in five come from an ad touch (the rest are walk-ins and only order);
- `orders` and `money`: orders spread over the customers, taken after the customer was created,
  most with an ad touch within a few weeks; most paid in one or two payments within three days,
  some half paid, some cancelled, a few refunded (wholly or half) weeks later.

Everything is deterministic for a seed, relative to `now`. Days are Bangkok days (UTC+7, no DST).

The burst: successive syncs of today's insights published to a cache-writer running in this
process, timed until today's daily file shows the last of them (`burst_run`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from crm_cache_writer.app import create_app
from crm_cache_writer.config import CacheWriterSettings
from crm_contracts import InsightFact, InsightsChanged, InsightsChangedData
from crm_contracts.analytics import daily_path
from crm_servicekit.testing import publish_events

SCHEMA = "cache_writer"
ACCOUNT = "1029384756"
BANGKOK = timedelta(hours=7)
RUN = 1  # the sync run of the loaded rows; the burst's runs come after it
PRICES = [Decimal(p) for p in ("1500.00", "3900.00", "8500.00", "12900.00", "25000.00", "45000.00")]
# Share of a day's spend in each Bangkok hour: low at night, highest in the evening.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 7, 6, 5, 5, 6, 7, 9, 11, 12, 10, 7, 3]
FACTS_PER_EVENT = 480  # marketing sends at most 500
MARK_EVERYTHING = """
INSERT INTO cache_writer.dirty_days (day)
    SELECT day FROM cache_writer.ad_days UNION SELECT day FROM cache_writer.money
    UNION SELECT day FROM cache_writer.leads;
INSERT INTO cache_writer.analytics_state (id, last_event_at, structure_dirty_at) VALUES (1, now(), now());
"""

COLUMNS: dict[str, list[str]] = {
    "ad_structure": ["ad_id", "account_id", "ad_name", "adset_id", "adset_name", "campaign_id",
                     "campaign_name", "status", "described_at"],
    "ad_days": ["ad_id", "day", "account_id", "sync_run_id", "spend", "impressions", "clicks",
                "meta_conversations_started", "meta_leads", "meta_purchases", "meta_purchase_value"],
    "ad_hours": ["ad_id", "day", "hour", "sync_run_id", "spend"],
    "leads": ["customer_id", "ad_id", "created_at", "day"],
    "orders": ["order_id", "customer_id", "created_at", "total", "first_ad_id", "first_touch_at",
               "latest_ad_id", "latest_touch_at", "paid_at", "paid_day"],
    "money": ["event_id", "order_id", "customer_id", "amount", "moved_at", "day"],
}  # fmt: skip


def bangkok_day(moment: datetime) -> date:
    return (moment + BANGKOK).date()


def baht(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


@dataclass(frozen=True)
class Ad:
    ad_id: str
    ad_name: str
    adset_id: str
    adset_name: str
    campaign_id: str
    campaign_name: str


@dataclass
class Data:
    today: date
    ads: list[Ad]
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in COLUMNS})
    today_daily: dict[str, Decimal] = field(default_factory=dict)
    """Today's daily spend per ad, as loaded (what the burst overwrites)."""
    today_hourly: dict[tuple[str, int], Decimal] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items()}


def structure(ads: int) -> list[Ad]:
    courses = ["Sushi", "Ramen", "Wagashi", "Bento", "Kaiseki", "Tempura", "Yakitori", "Gyoza"]
    out = []
    for i in range(ads):
        adset, campaign = i // 5, i // 20
        course = courses[campaign % len(courses)]
        out.append(
            Ad(
                ad_id=f"120210{i:09d}",
                ad_name=f"{course} course ad {i % 5 + 1}",
                adset_id=f"120200{adset:09d}",
                adset_name=f"{course} audience {adset % 4 + 1}",
                campaign_id=f"120190{campaign:09d}",
                campaign_name=f"{course} course {2026 + campaign // len(courses)}",
            )
        )
    return out


def generate(customers: int, orders: int, ads: int, days: int, seed: int, now: datetime) -> Data:
    rng = random.Random(seed)
    today = bangkok_day(now)
    data = Data(today=today, ads=structure(ads))
    for n, ad in enumerate(data.ads):
        status = "PAUSED" if n % 9 == 8 else "ACTIVE"
        data.rows["ad_structure"].append((ad.ad_id, ACCOUNT, ad.ad_name, ad.adset_id, ad.adset_name,
                                          ad.campaign_id, ad.campaign_name, status, now))  # fmt: skip
    _insights(data, rng, days)
    _customers_and_orders(data, rng, customers, orders, days, now)
    return data


def _insights(data: Data, rng: random.Random, days: int) -> None:
    total_weight = sum(HOUR_WEIGHTS)
    first = data.today - timedelta(days=days - 1)
    for ad in data.ads:
        scale = rng.randint(20_000, 200_000)  # this ad's usual daily spend, satang
        for offset in range(days):
            day = first + timedelta(days=offset)
            cents = rng.randint(scale // 2, scale)
            impressions = cents // 10 + rng.randint(0, 500)
            clicks = impressions // 60
            purchases = rng.randint(0, 2)
            data.rows["ad_days"].append((ad.ad_id, day, ACCOUNT, RUN, baht(cents), impressions, clicks,
                                         clicks // 8, clicks // 20, purchases,
                                         baht(purchases * 850_000)))  # fmt: skip
            left = cents
            for hour, weight in enumerate(HOUR_WEIGHTS):
                part = left if hour == 23 else cents * weight // total_weight
                left -= part
                data.rows["ad_hours"].append((ad.ad_id, day, hour, RUN, baht(part)))
                if day == data.today:
                    data.today_hourly[(ad.ad_id, hour)] = baht(part)
            if day == data.today:
                data.today_daily[ad.ad_id] = baht(cents)


def _customers_and_orders(
    data: Data, rng: random.Random, customers: int, orders: int, days: int, now: datetime
) -> None:
    start = now - timedelta(days=days)
    span = (now - start).total_seconds()
    ad_ids = [ad.ad_id for ad in data.ads]
    # A few ads bring most leads.
    cumulative = list(itertools.accumulate(rng.paretovariate(1.5) for _ in ad_ids))
    people: list[tuple[str, datetime, str | None]] = []
    for n in range(customers):
        created = start + timedelta(seconds=rng.random() * span)
        ad = rng.choices(ad_ids, cum_weights=cumulative)[0] if rng.random() < 0.8 else None
        channel = "FB" if ad else "WALKIN"
        customer_id = f"TVS-CUS-{channel}-{created.year % 100:02d}-{n + 1:06d}"
        people.append((customer_id, created, ad))
        if ad is not None:
            data.rows["leads"].append((customer_id, ad, created, bangkok_day(created)))
    for _ in range(orders):
        customer_id, created, first_ad = people[rng.randrange(len(people))]
        taken = created + (now - created) * rng.random()
        latest_ad, latest_at = None, None
        if first_ad is not None and rng.random() < 0.85:
            latest_ad = first_ad if rng.random() < 0.6 else rng.choice(ad_ids)
            latest_at = max(created, taken - timedelta(days=rng.random() * 35))
        total = rng.choice(PRICES)
        order_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        paid_at = _money(data, rng, order_id, customer_id, total, taken, now)
        data.rows["orders"].append((order_id, customer_id, taken, total, first_ad,
                                    created if first_ad else None, latest_ad, latest_at, paid_at,
                                    bangkok_day(paid_at) if paid_at else None))  # fmt: skip


def _money(
    data: Data, rng: random.Random, order_id: uuid.UUID, customer_id: str, total: Decimal,
    taken: datetime, now: datetime,
) -> datetime | None:  # fmt: skip
    """Payments (and a refund) of one order; when it became paid, if it did."""
    fate = rng.random()
    if fate < 0.05:
        return None  # cancelled before any payment
    moves: list[tuple[Decimal, datetime]] = []
    first = taken + timedelta(hours=rng.random() * 72)
    if fate < 0.15:
        moves.append((total / 2, first))  # half paid, still pending
    elif rng.random() < 0.3:
        moves += [(total / 2, first), (total / 2, first + timedelta(hours=rng.random() * 48))]
    else:
        moves.append((total, first))
    paid_at = moves[-1][1] if fate >= 0.15 else None
    if paid_at is not None and rng.random() < 0.03:
        moves.append(
            (-(total if rng.random() < 0.5 else total / 2), paid_at + timedelta(days=1 + rng.random() * 45))
        )
    moves = [(amount, at) for amount, at in moves if at <= now]
    if paid_at is not None and paid_at > now:
        paid_at = None
    for amount, at in moves:
        event_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        data.rows["money"].append((event_id, order_id, customer_id, amount, at, bangkok_day(at)))
    return paid_at


async def load(database_url: str, data: Data) -> None:
    """COPY every table, mark every day dirty and the structure changed, as a full rebuild
    would leave the read model before rendering; then ANALYZE."""
    conn = await asyncpg.connect(database_url)
    try:
        for table, rows in data.rows.items():
            await conn.copy_records_to_table(table, schema_name=SCHEMA, columns=COLUMNS[table], records=rows)
        await conn.execute(MARK_EVERYTHING)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


# --- the burst ---------------------------------------------------------------------------------


@dataclass
class Burst:
    events: list[InsightsChanged]
    facts: int
    spend: Decimal
    """Today's daily spend over every ad once the whole burst is stored."""
    spend_hourly: Decimal


def burst(data: Data, facts: int, seed: int) -> Burst:
    """`facts` insight facts for today, as successive syncs of today send them: each run every
    ad's daily row and its 24 hourly rows with new figures, at most `FACTS_PER_EVENT` per event."""
    rng = random.Random(seed + 1)
    daily = dict(data.today_daily)
    hourly = dict(data.today_hourly)
    events: list[InsightsChanged] = []
    sent = 0
    run = RUN
    while sent < facts:
        run += 1
        for granularity in ("day", "hour"):
            keys: list[tuple[Ad, int | None]] = [
                (ad, hour) for ad in data.ads for hour in ([None] if granularity == "day" else range(24))
            ]
            keys = keys[: facts - sent]
            for chunk in _chunks(keys, FACTS_PER_EVENT):
                batch = []
                for ad, hour in chunk:
                    spend = baht(rng.randint(100, 100_000))
                    if hour is None:
                        daily[ad.ad_id] = spend
                    else:
                        hourly[(ad.ad_id, hour)] = spend
                    batch.append(_fact(ad, data.today, hour, spend))
                events.append(InsightsChanged(
                    correlation_id=f"bench-burst-{run}",
                    data=InsightsChangedData(account_id=ACCOUNT, currency="THB", granularity=granularity,
                                             sync_run_id=run, facts=batch),
                ))  # fmt: skip
            sent += len(keys)
    return Burst(events, sent, sum(daily.values(), Decimal(0)), sum(hourly.values(), Decimal(0)))


def _version(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _shows(path: Path, burst: Burst) -> bool:
    try:
        total = json.loads(path.read_bytes())["total"]
    except (OSError, ValueError, KeyError):
        return False
    return Decimal(total["spend"]) == burst.spend and Decimal(total["spend_hourly"]) == burst.spend_hourly


async def burst_run(render_seconds: float, database_url: str, rabbitmq_url: str, cache_dir: Path,
                    today: date, burst: Burst) -> dict[str, Any]:  # fmt: skip
    """Publish the burst to a running cache-writer; time until today's file shows it.

    The file's version (inode, mtime) is polled every 5 ms: renders are `--render-seconds` apart
    and each replaces the file (a new inode), so no write goes unseen.
    """
    settings = CacheWriterSettings(
        database_url=database_url,
        rabbitmq_url=rabbitmq_url,
        crm_cache_dir=cache_dir,
        analytics_render_seconds=render_seconds,
        log_level="WARNING",
    )
    app = create_app(settings)
    path = cache_dir / daily_path(today)
    async with app.router.lifespan_context(app):
        seen = _version(path)
        writes: list[float] = []
        shown_at: float | None = None
        t = time.perf_counter()
        await publish_events(app.state.runtime.broker, *burst.events)
        published_s = time.perf_counter() - t
        deadline = t + 120.0
        settle_until = deadline
        while time.perf_counter() < min(deadline, settle_until):
            if (now := _version(path)) != seen:
                seen = now
                writes.append(time.perf_counter() - t)
                if shown_at is None and _shows(path, burst):
                    shown_at = writes[-1]
                    # Renders still due (facts stored meanwhile) would rewrite it: count those too.
                    settle_until = time.perf_counter() + 2 * render_seconds + 1.0
            await asyncio.sleep(0.005)
    result = {
        "facts": burst.facts,
        "events": len(burst.events),
        "published_s": round(published_s, 3),
        "shown_s": None if shown_at is None else round(shown_at, 3),
        "daily_file_writes": len(writes),
        "write_times_s": [round(w, 3) for w in writes],
        "render_seconds": render_seconds,
    }
    shown = "NOT within 120 s" if shown_at is None else f"after {shown_at:.2f} s"
    print(f"burst: {burst.facts} facts in {len(burst.events)} events (published in {published_s:.2f} s);"
          f" today's daily file showed them {shown}, written {len(writes)} times"
          f" (render every {render_seconds:g} s)", flush=True)  # fmt: skip
    return result


def _fact(ad: Ad, day: date, hour: int | None, spend: Decimal) -> InsightFact:
    return InsightFact(ad_id=ad.ad_id, ad_name=ad.ad_name, adset_id=ad.adset_id, adset_name=ad.adset_name,
                       campaign_id=ad.campaign_id, campaign_name=ad.campaign_name, day=day, hour=hour,
                       spend=spend, impressions=1000, clicks=20, link_clicks=15,
                       messaging_conversations_started=2, leads=1, purchases=0,
                       purchase_value=Decimal("0.00"))  # fmt: skip


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def utc_now() -> datetime:
    return datetime.now(UTC)


def expected(data: Data, burst: Burst, since: date, until: date) -> dict[str, Decimal | int]:
    """What a range's account figures must be, worked out from the generated rows and the burst."""
    spend = sum(
        (r[4] for r in data.rows["ad_days"] if since <= r[1] <= until and r[1] != data.today), Decimal(0)
    )
    if since <= data.today <= until:
        spend += burst.spend
    return {
        "spend": spend,
        "revenue": sum((r[3] for r in data.rows["money"] if since <= r[5] <= until), Decimal(0)),
        "leads": sum(1 for r in data.rows["leads"] if since <= r[3] <= until),
    }
