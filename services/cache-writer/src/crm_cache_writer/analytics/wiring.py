"""Analytics inside the running cache-writer: six subscribers that store facts and mark days,
one that marks days again when a dashboard found them stale (`analytics.refresh_requested`), and
the renderer every replica runs (one at a time) to write the snapshots and the heartbeat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from crm_cache_writer.config import CacheWriterSettings
from crm_contracts import (
    AnalyticsRefreshRequested,
    ContactSeen,
    CustomerCreated,
    Event,
    InsightsChanged,
    OrderCreated,
    OrderStatusChanged,
    StructureChanged,
)
from crm_servicekit.broker import subscribe
from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.runtime import Runtime

from . import facts, integrity
from .render import Renderer, request_refresh

CONSUMER = "cache-writer.analytics"


def install(runtime: Runtime, settings: CacheWriterSettings) -> Renderer:
    renderer = Renderer(
        runtime.sessionmaker, settings.crm_cache_dir, heartbeat_seconds=settings.analytics_heartbeat_seconds
    )

    async def apply(event: Event, store: Callable[[AsyncSession], Awaitable[set[date]]]) -> None:
        async with runtime.uow() as uow:
            if not await uow.claim(event.event_id, CONSUMER):
                return
            days = await store(uow.session)
            await facts.mark_dirty(uow.session, days, event.occurred_at)
            await uow.commit()

    @subscribe(runtime.broker, runtime.topology, "analytics-structure", StructureChanged)
    async def on_structure_changed(event: StructureChanged) -> None:
        """Keep which ad set and campaign every ad belongs to, with their names."""

        async def store(session: AsyncSession) -> set[date]:
            await facts.structure_changed(session, event.data, event.occurred_at)
            return set()

        await apply(event, store)

    @subscribe(runtime.broker, runtime.topology, "analytics-insights", InsightsChanged)
    async def on_insights_changed(event: InsightsChanged) -> None:
        """Meta's spend and counts per ad and day or hour."""
        await apply(event, lambda session: facts.insights_changed(session, event.data))

    @subscribe(runtime.broker, runtime.topology, "analytics-customers", CustomerCreated)
    async def on_customer_created(event: CustomerCreated) -> None:
        """A customer created from an ad touch is a lead."""
        await apply(event, lambda session: facts.customer_created(session, event.data))

    @subscribe(runtime.broker, runtime.topology, "analytics-conversations", ContactSeen)
    async def on_contact_seen(event: ContactSeen) -> None:
        """A conversation an ad opened (a referral naming the ad); other contacts cost no query."""
        referral = event.data.referral
        if referral is None or not referral.ad_id:
            return
        ad_id, at = referral.ad_id, referral.referred_at or event.data.first_seen_at
        await apply(
            event,
            lambda session: facts.conversation_from_ad(session, event.data.conversation_id, ad_id, at),
        )

    @subscribe(runtime.broker, runtime.topology, "analytics-orders", OrderCreated)
    async def on_order_created(event: OrderCreated) -> None:
        """An order with the ad touches stamped when it was taken."""
        await apply(event, lambda session: facts.order_created(session, event.data))

    @subscribe(runtime.broker, runtime.topology, "analytics-payments", OrderStatusChanged)
    async def on_order_status_changed(event: OrderStatusChanged) -> None:
        """A payment or refund (revenue on the day money moved), an order becoming paid."""
        await apply(event, lambda session: facts.order_status_changed(session, event.event_id, event.data))

    @subscribe(runtime.broker, runtime.topology, "analytics-refresh", AnalyticsRefreshRequested)
    async def on_refresh_requested(event: AnalyticsRefreshRequested) -> None:
        """A dashboard answer was stale: render its days (the latest 400 with facts), the summary
        and the heartbeat again."""
        async with runtime.uow() as uow:
            if not await uow.claim(event.event_id, CONSUMER):
                return
            await request_refresh(uow.session, event.data.since, event.data.until)
            await uow.commit()

    runtime.extras["analytics_integrity"] = integrity.install(runtime, settings)
    task = PeriodicTask("analytics-render", settings.analytics_render_seconds, renderer.render_once)
    runtime.on_startup.append(task.start)
    runtime.on_shutdown.append(task.stop)
    return renderer
