"""`python -m crm_cache_writer rebuild`: the analytics read model and its snapshot files, again
from nothing, from what the producers hold now.

1. In one transaction: every table of `tables.py` is emptied (the inbox, in `models.py`, is
   kept: an event already handled stays handled), then marketing's structure and insights and
   the gateway's customers, orders and every payment and refund, and the messenger's ad
   referrals are read page by page from
   their internal APIs (`producers.py`) and stored by the functions the subscribers use
   (`facts.py`), so whatever those store is rebuilt too; every day they touch is marked. A
   failure rolls all of it back: the read model stays as it was.
2. The files under `analytics/`, `ads/` and `products/` are deleted, and the renderer (`render.py`) writes
   every marked day, its months, the summary and the structure.

Progress goes to stdout, a line per page (`orders 12,000/50,000`). The producers are asked
rather than their events replayed: events are not kept anywhere once consumed, and the
producers' tables are the truth the events were copied from. A money row's key is a UUID
derived from the payment's id, so two rebuilds store the same rows. The time stamped on what is
rebuilt (`last_event_at`, the structure's description time) is when the rebuild began reading:
an event published after that still wins.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_cache_writer.config import RebuildSettings
from crm_cache_writer.models import metadata
from crm_contracts import (
    AdStructure,
    CustomerCreatedData,
    InsightsChangedData,
    OrderCreatedData,
    StructureChangedData,
)
from crm_contracts.analytics import PRODUCTS_ALL_PATH, STRUCTURE_PATH, SUMMARY_PATH
from crm_servicekit.db import create_engine, create_sessionmaker

from . import facts, tables
from .producers import AdReferralRow, ExportedAd, MoneyMoved, Page, Producers
from .render import Renderer

# Money rows rebuilt from a payment are keyed uuid5(MONEY_KEYS, payment id): stable across rebuilds.
MONEY_KEYS = uuid.UUID("5d0b6a53-1f0e-4c57-9a51-7b0f3c8e2a14")
# Tables of `tables.py` a rebuild keeps (bookkeeping that is no copy of a producer's facts).
KEEP: frozenset[str] = frozenset()
RENDER_RETRY_SECONDS = 0.2

T = TypeVar("T")
Say = Callable[[str], None]


def say_to_stdout(line: str) -> None:
    print(line, flush=True)


@dataclass
class Rebuilt:
    counts: dict[str, int] = field(default_factory=dict)
    days: set[date] = field(default_factory=set)
    files: int = 0


def read_model_tables() -> list[Table]:
    """Every table `tables.py` defines (tables added later included), minus `KEEP`, children first."""
    defined = {t for t in vars(tables).values() if isinstance(t, Table) and t.name not in KEEP}
    return [t for t in reversed(metadata.sorted_tables) if t in defined]


async def rebuild(
    settings: RebuildSettings, say: Say = say_to_stdout, producers: Producers | None = None
) -> Rebuilt:
    engine = create_engine(settings.async_database_url, pool_size=2, application_name="cache-writer-rebuild")
    sessionmaker = create_sessionmaker(engine)
    producers = producers or Producers(
        gateway_url=settings.gateway_internal_url,
        marketing_url=settings.marketing_internal_url,
        messenger_url=settings.messenger_internal_url,
        token=settings.crm_internal_token.get_secret_value(),
        page_size=settings.rebuild_page_size,
    )
    try:
        async with producers:
            done = await store_all(sessionmaker, producers, say)
        await asyncio.to_thread(delete_files, settings.crm_cache_dir)
        done.files = await render_all(sessionmaker, settings.crm_cache_dir)
        say(f"render {done.files:,} files ({len(done.days):,} days)")
    finally:
        await engine.dispose()
    return done


async def store_all(
    sessionmaker: async_sessionmaker[AsyncSession], producers: Producers, say: Say
) -> Rebuilt:
    done = Rebuilt()
    at = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        for table in read_model_tables():
            await session.execute(delete(table))

        async def structure(page: Page[ExportedAd]) -> int:
            by_account: dict[str, list[AdStructure]] = defaultdict(list)
            for ad in page.items:
                by_account[ad.account_id].append(ad)
            for account_id, ads in by_account.items():
                await facts.structure_changed(
                    session, StructureChangedData(account_id=account_id, ads=ads), at
                )
            return len(page.items)

        async def insights(page: Page[InsightsChangedData]) -> int:
            for data in page.items:
                done.days |= await facts.insights_changed(session, data)
            return sum(len(data.facts) for data in page.items)

        async def customers(page: Page[CustomerCreatedData]) -> int:
            for customer in page.items:
                done.days |= await facts.customer_created(session, customer)
            return len(page.items)

        async def orders(page: Page[OrderCreatedData]) -> int:
            for order in page.items:
                done.days |= await facts.order_created(session, order)
            return len(page.items)

        async def payments(page: Page[MoneyMoved]) -> int:
            for moved in page.items:
                key = uuid.uuid5(MONEY_KEYS, str(moved.payment_id))
                done.days |= await facts.order_status_changed(session, key, moved.data)
            return len(page.items)

        async def ad_referrals(page: Page[AdReferralRow]) -> int:
            for r in page.items:
                opened = facts.conversation_from_ad(session, r.conversation_id, r.ad_id, r.referred_at)
                done.days |= await opened
            return len(page.items)

        done.counts["structure"] = await _walk("structure", producers.structure(), structure, say)
        for granularity in ("day", "hour"):
            source = f"insights ({granularity})"
            done.counts[source] = await _walk(source, producers.insights(granularity), insights, say)
        done.counts["customers"] = await _walk("customers", producers.customers(), customers, say)
        done.counts["orders"] = await _walk("orders", producers.orders(), orders, say)
        done.counts["payments"] = await _walk("payments", producers.payments(), payments, say)
        done.counts["ad referrals"] = await _walk("ad referrals", producers.ad_referrals(), ad_referrals, say)
        await facts.mark_dirty(session, done.days, at)
    return done


async def _walk(
    source: str, pages: AsyncIterator[Page[T]], store: Callable[[Page[T]], Awaitable[int]], say: Say
) -> int:
    """Store every page of one source, saying how far it got after each."""
    stored = 0
    total: int | None = None
    async for page in pages:
        total = page.total if total is None else total
        stored += await store(page)
        say(f"{source} {stored:,}/{max(total or 0, stored):,}")
    return stored


def delete_files(cache_dir: Path) -> None:
    """Every file under the analytics, ads and products folders (the renderer writes them again)."""
    for folder in {Path(SUMMARY_PATH).parent, Path(STRUCTURE_PATH).parent, Path(PRODUCTS_ALL_PATH).parent}:
        shutil.rmtree(cache_dir / folder, ignore_errors=True)


async def render_all(sessionmaker: async_sessionmaker[AsyncSession], cache_dir: Path) -> int:
    """Render until nothing is marked. Another replica may hold the render lock and write some
    of the days itself; this one writes at least once (the summary and the structure too)."""
    renderer = Renderer(sessionmaker, cache_dir)
    written, ran = 0, False
    while True:
        now = await renderer.render_once()
        written += now
        ran = ran or now > 0
        async with sessionmaker() as session:
            marked = await session.scalar(select(func.count()).select_from(tables.dirty_days))
            state = (await session.execute(select(tables.analytics_state.c.structure_dirty_at))).first()
        if ran and not marked and (state is None or state.structure_dirty_at is None):
            return written
        if now == 0:
            await asyncio.sleep(RENDER_RETRY_SECONDS)
