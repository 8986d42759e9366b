"""Integrity checks of the analytics read model, written to `analytics/integrity.json`.

Each check is one question asked of the cache-writer's own facts (never another service's
tables): it counts what is wrong and names up to ten examples by id (orders, customers, ads,
`<ad>/<day>`), never by name, phone or text. They run every ten minutes in one replica at a time
(an advisory lock, like the renderer) and on demand with `python -m crm_cache_writer integrity`.
docs/metrics.md says what each check means and why it has its severity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import ColumnElement, Exists, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_cache_writer.config import CacheWriterSettings
from crm_cache_writer.files import write_model
from crm_contracts import CustomerErasureRequested, CustomerMerged, CustomerMergeUndone
from crm_contracts.analytics import DEFAULT_ATTRIBUTION
from crm_contracts.analytics_checks import (
    INTEGRITY_PATH,
    MAX_EXAMPLES,
    CheckName,
    IntegrityCheck,
    IntegritySnapshot,
    Severity,
)
from crm_servicekit.broker import subscribe
from crm_servicekit.logging import get_logger
from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.runtime import Runtime

from . import facts
from .compute import credited_ad
from .tables import ad_days, ad_hours, ad_structure, analytics_state, customer_psids, customers, money, orders

log = get_logger(__name__)

INTEGRITY_LOCK_KEY = 0x43524D11
INTEGRITY_SECONDS = 600.0  # the checks read every fact: often enough for a daily look, cheap
CONSUMER_IDENTITIES = "cache-writer.analytics-identities"


@dataclass(frozen=True)
class Found:
    count: int
    examples: list[str]


def _found(ids: list[str]) -> Found:
    return Found(len(ids), sorted(ids)[:MAX_EXAMPLES])


def _described(ad_id: ColumnElement[str]) -> Exists:
    return exists().where(ad_structure.c.ad_id == ad_id)


async def orders_of_undescribed_ads(session: AsyncSession) -> Found:
    touched = or_(
        and_(orders.c.latest_ad_id.is_not(None), ~_described(orders.c.latest_ad_id)),
        and_(orders.c.first_ad_id.is_not(None), ~_described(orders.c.first_ad_id)),
    )
    rows = await session.scalars(select(orders.c.order_id).where(touched))
    return _found([str(r) for r in rows])


async def spend_without_campaign(session: AsyncSession) -> Found:
    query = select(ad_days.c.ad_id).where(ad_days.c.spend != 0, ~_described(ad_days.c.ad_id)).distinct()
    return _found(list(await session.scalars(query)))


def _payments() -> ColumnElement[Decimal]:
    return (
        select(func.coalesce(func.sum(money.c.amount), 0))
        .where(money.c.order_id == orders.c.order_id, money.c.amount > 0)
        .scalar_subquery()
    )


async def paid_orders_not_adding_up(session: AsyncSession) -> Found:
    """Paid orders whose payments (refunds aside) are not their total."""
    paid = _payments()
    query = select(orders.c.order_id).where(
        orders.c.paid_at.is_not(None),
        orders.c.total.is_not(None),
        paid != orders.c.total,
    )
    return _found([str(r) for r in await session.scalars(query)])


async def refunds_exceed_payments(session: AsyncSession) -> Found:
    query = select(money.c.order_id).group_by(money.c.order_id).having(func.sum(money.c.amount) < 0)
    return _found([str(r) for r in await session.scalars(query)])


async def first_touch_after_first_order(session: AsyncSession) -> Found:
    first_order = (
        select(func.min(orders.c.created_at))
        .where(orders.c.customer_id == customers.c.customer_id)
        .scalar_subquery()
    )
    query = select(customers.c.customer_id).where(
        customers.c.first_touch_at.is_not(None), customers.c.first_touch_at > first_order
    )
    return _found(list(await session.scalars(query)))


async def hourly_spend_not_adding_up(session: AsyncSession) -> Found:
    """Ad-days with hourly rows whose sum is not the daily row (exact decimals)."""
    hourly = (
        select(ad_hours.c.ad_id, ad_hours.c.day, func.sum(ad_hours.c.spend).label("spend"))
        .group_by(ad_hours.c.ad_id, ad_hours.c.day)
        .subquery()
    )
    daily = func.coalesce(ad_days.c.spend, 0)
    query = (
        select(hourly.c.ad_id, hourly.c.day)
        .select_from(
            hourly.outerjoin(ad_days, and_(ad_days.c.ad_id == hourly.c.ad_id, ad_days.c.day == hourly.c.day))
        )
        .where(hourly.c.spend != daily)
    )
    return _found([f"{r.ad_id}/{r.day.isoformat()}" for r in await session.execute(query)])


async def conversions_without_spend(session: AsyncSession) -> Found:
    """Ad-days with a payment or a paid order credited to the ad (default attribution) and no spend."""
    credited: set[tuple[str, date]] = set()
    columns = (orders.c.first_ad_id, orders.c.latest_ad_id, orders.c.latest_touch_at, orders.c.created_at)
    moved = (
        select(money.c.day, *columns)
        .join(orders, orders.c.order_id == money.c.order_id)
        .where(money.c.amount > 0)  # a payment; a refund is no conversion
    )
    became_paid = select(orders.c.paid_day.label("day"), *columns).where(orders.c.paid_day.is_not(None))
    for query in (moved, became_paid):
        for row in await session.execute(query):
            ad = credited_ad(row, DEFAULT_ATTRIBUTION)
            if ad is not None:
                credited.add((ad, row.day))
    if not credited:
        return Found(0, [])
    spent = {
        (r.ad_id, r.day)
        for r in await session.execute(
            select(ad_days.c.ad_id, ad_days.c.day).where(
                ad_days.c.spend > 0, ad_days.c.ad_id.in_(sorted({ad for ad, _ in credited}))
            )
        )
    }
    return _found([f"{ad}/{day.isoformat()}" for ad, day in credited - spent])


async def customers_sharing_a_psid(session: AsyncSession) -> Found:
    """PSIDs that more than one customer (not merged away) holds; the examples are the customers."""
    alive = customer_psids.join(
        customers, customers.c.customer_id == customer_psids.c.customer_id, isouter=True
    )
    query = (
        select(customer_psids.c.psid_digest, customer_psids.c.customer_id)
        .select_from(alive)
        .where(customers.c.merged_into.is_(None))
    )
    holders: dict[str, set[str]] = defaultdict(set)
    for row in await session.execute(query):
        holders[row.psid_digest].add(row.customer_id)
    shared = [ids for ids in holders.values() if len(ids) > 1]
    return Found(len(shared), sorted({c for ids in shared for c in ids})[:MAX_EXAMPLES])


Check = Callable[[AsyncSession], Awaitable[Found]]
CHECKS: dict[CheckName, tuple[Severity, str, Check]] = {
    "orders_of_undescribed_ads": (
        "warning",
        "Orders whose ad touch names an ad marketing has never described: no campaign for them.",
        orders_of_undescribed_ads,
    ),
    "spend_without_campaign": (
        "warning",
        "Ads with spend that no structure event or insight row places in a campaign.",
        spend_without_campaign,
    ),
    "paid_orders_not_adding_up": (
        "error",
        "Paid orders whose payments (before refunds) are not their total.",
        paid_orders_not_adding_up,
    ),
    "refunds_exceed_payments": ("error", "Orders refunded more than was paid.", refunds_exceed_payments),
    "first_touch_after_first_order": (
        "warning",
        "Customers whose first ad touch came after their first order was taken.",
        first_touch_after_first_order,
    ),
    "hourly_spend_not_adding_up": (
        "info",
        "Ad-days whose hourly spend does not add up to the daily spend (the daily row counts).",
        hourly_spend_not_adding_up,
    ),
    "conversions_without_spend": (
        "info",
        "Ad-days with a payment or a paid order credited to the ad (last touch, 28 days) and no spend.",
        conversions_without_spend,
    ),
    "customers_sharing_a_psid": (
        "warning",
        "Messenger PSIDs held by more than one customer: one person counted twice until merged.",
        customers_sharing_a_psid,
    ),
}


async def check_all(session: AsyncSession) -> IntegritySnapshot:
    results = []
    for name, (severity, description, check) in CHECKS.items():
        found = await check(session)
        results.append(
            IntegrityCheck(
                name=name,
                severity=severity,
                description=description,
                count=found.count,
                examples=found.examples,
            )
        )
    last_event_at = await session.scalar(select(analytics_state.c.last_event_at))
    return IntegritySnapshot(generated_at=datetime.now(UTC), last_event_at=last_event_at, checks=results)


class IntegrityChecker:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cache_dir: Path) -> None:
        self.sessionmaker = sessionmaker
        self.cache_dir = cache_dir

    async def run_once(self) -> IntegritySnapshot | None:
        """Check and write the file; None when another replica is checking."""
        async with self.sessionmaker() as session:
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(INTEGRITY_LOCK_KEY))):
                return None
            snapshot = await check_all(session)
            await write_model(self.cache_dir, INTEGRITY_PATH, snapshot)
            await session.commit()
        found = {c.name: c.count for c in snapshot.checks if c.count}
        log.info("integrity checked", **found)
        return snapshot

    async def scheduled(self) -> int:
        """For `PeriodicTask`: how many checks found something."""
        snapshot = await self.run_once()
        return 0 if snapshot is None else sum(1 for c in snapshot.checks if c.count)


def summary_lines(snapshot: IntegritySnapshot) -> list[str]:
    """A short human summary, one line per check."""
    lines = []
    for c in snapshot.checks:
        mark = "ok" if c.count == 0 else c.severity
        shown = f"  e.g. {', '.join(c.examples[:3])}" if c.count else ""
        lines.append(f"{mark:>7}  {c.name}: {c.count}{shown}")
    return lines


def install(runtime: Runtime, settings: CacheWriterSettings) -> IntegrityChecker:
    """The subscribers that keep PSIDs with the right customer (merges, their undos, erasure),
    and the scheduled check."""

    @subscribe(runtime.broker, runtime.topology, "analytics-merges", CustomerMerged)
    async def on_customer_merged(event: CustomerMerged) -> None:
        """The merged customer's PSIDs move to the survivor (no longer a duplicate)."""
        async with runtime.uow() as uow:
            if await uow.claim(event.event_id, CONSUMER_IDENTITIES):
                await facts.customer_merged(uow.session, event.data)
                await uow.commit()

    @subscribe(runtime.broker, runtime.topology, "analytics-merge-undos", CustomerMergeUndone)
    async def on_customer_merge_undone(event: CustomerMergeUndone) -> None:
        """The restored customer gets its PSIDs back."""
        async with runtime.uow() as uow:
            if await uow.claim(event.event_id, CONSUMER_IDENTITIES):
                await facts.customer_merge_undone(uow.session, event.data)
                await uow.commit()

    @subscribe(runtime.broker, runtime.topology, "analytics-erasure", CustomerErasureRequested)
    async def on_erasure_requested(event: CustomerErasureRequested) -> None:
        """PDPA: the erased customer's PSID digests go (their id and channel stay, like their leads)."""
        async with runtime.uow() as uow:
            if await uow.claim(event.data.request_id, CONSUMER_IDENTITIES):
                await facts.customer_erased(uow.session, event.data.customer_id)
                await uow.commit()

    checker = IntegrityChecker(runtime.sessionmaker, settings.crm_cache_dir)
    task = PeriodicTask("analytics-integrity", INTEGRITY_SECONDS, checker.scheduled)
    runtime.on_startup.append(task.start)
    runtime.on_shutdown.append(task.stop)
    return checker
