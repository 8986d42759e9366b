"""Webhooks are stored before the 200 and processed right after (ADR 8).

Meta wants a 200 within seconds and floods us with retries after an outage; the request path
therefore does one INSERT of the raw body through a plain asyncpg pool, and `WebhookProcessor`
applies the events in batches: woken at once by the request, polling only as a safety net,
`FOR UPDATE SKIP LOCKED` so replicas share the work. A batch's events are published (their
confirms awaited together) while the next batch is applied, so the broker's confirms never hold
up the database work; batches still reach the broker in order. A body that cannot be processed is moved to
the quarantine with the reason, never retried forever and never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import asyncpg
from opentelemetry import context as otel_context
from opentelemetry import propagate
from prometheus_client import Counter, Histogram

from crm_messenger.meta.webhook import WebhookPayload
from crm_messenger.webhooks import delivery, ingest, repository
from crm_messenger.webhooks.batch import IngestResult
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import Committed, UnitOfWork
from crm_servicekit.runtime import Runtime

log = get_logger(__name__)

PROCESSED = Counter("crm_messenger_webhooks_processed_total", "Webhook bodies processed", ["outcome"])
EVENTS = Counter("crm_messenger_webhook_events_total", "Webhook items by kind", ["kind"])
QUARANTINED = Counter("crm_messenger_quarantined_events_total", "Webhook items kept in quarantine")
LAG = Histogram(
    "crm_messenger_webhook_processing_lag_seconds",
    "From the 200 to Meta to the events being stored and published",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

NOTIFY_CHANNEL = "messenger_webhook_inbox"  # see migration 0003


async def _keep(connection: asyncpg.Connection) -> None:
    """These connections only ever run one INSERT: there is no session state to reset, so
    asyncpg's reset query (a round trip on every release) is skipped."""


class WebhookStore:
    """The request path: one INSERT per webhook, on its own small asyncpg pool."""

    def __init__(self, dsn: str, *, max_size: int = 10) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self.max_size, reset=_keep)

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def store(self, body: str) -> int:
        """Durably store one webhook body; returns its receipt id."""
        assert self._pool is not None, "WebhookStore.start() was not called"
        trace: dict[str, str] = {}
        propagate.inject(trace)
        return await repository.store_webhook(self._pool, body, json.dumps(trace))


class WebhookProcessor:
    def __init__(
        self,
        runtime: Runtime,
        *,
        dsn: str,
        handover_idle: timedelta,
        batch: int = 50,
        poll_seconds: float = 5.0,
        window_seconds: float = 0.01,
    ) -> None:
        self.window = window_seconds
        self.dsn = dsn
        self._listener: asyncpg.Connection | None = None
        self.runtime = runtime
        self.handover_idle = handover_idle
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # The outcome of recent bodies by receipt, for operators and tests (bounded).
        self.results: OrderedDict[int, IngestResult] = OrderedDict()
        self._progress = asyncio.Condition()
        self._publishing: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        # Woken by PostgreSQL as soon as any process stores a webhook; polling is a safety net.
        self._listener = await asyncpg.connect(self.dsn)
        await self._listener.add_listener(NOTIFY_CHANNEL, self._notified)
        self._task = asyncio.create_task(self._run(), name="webhook-processor")

    def _notified(self, *_: object) -> None:
        self.wake()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.flush()), 15)
        if self._listener is not None:
            await self._listener.close()
            self._listener = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            # Let a few more arrive: a batch costs about the same for one webhook or fifty, and the
            # AI's answer takes seconds anyway.
            await asyncio.sleep(self.window)
            self._wake.clear()
            try:
                # More are waiting after a full batch: let requests in between batches.
                while await self.process_batch() == self.batch:  # noqa: ASYNC110
                    await asyncio.sleep(0)
            except Exception as exc:
                log.warning("webhook processing failed; will try again", error=type(exc).__name__)

    async def process_batch(self) -> int:
        """Apply the oldest stored webhooks, at most `batch`, in one transaction.

        The whole batch is applied at once (runs of messages in a few statements). If that fails,
        the transaction is rolled back (the webhooks stay stored) and the same webhooks are applied
        one by one, each in a savepoint, so a bad body is quarantined and the rest go through.
        """
        try:
            return await self._process(one_by_one=False)
        except Exception as exc:
            log.warning("webhook batch failed; applying its bodies one by one", error=type(exc).__name__)
            return await self._process(one_by_one=True)

    async def _process(self, *, one_by_one: bool) -> int:
        async with self.runtime.uow() as uow:
            rows = sorted(await repository.take_oldest_webhooks(uow.session, self.batch), key=lambda r: r.id)
            if not rows:
                return 0
            payloads: list[tuple[int, WebhookPayload, Any]] = []
            results: dict[int, IngestResult] = {}
            for row in rows:
                payload = delivery.handled(row.body)
                if isinstance(payload, str):  # not a Page webhook: kept whole, with why
                    await repository.quarantine(uow.session, None, "webhook", payload, row.body)
                    PROCESSED.labels("quarantined").inc()
                    QUARANTINED.inc()
                    results[row.id] = IngestResult(quarantined=1)
                else:
                    payloads.append((row.id, payload, row))
            if one_by_one:
                for receipt, payload, row in payloads:
                    results[receipt] = await self._apply_one(uow, receipt, payload, row)
            elif payloads:
                # The batch continues the trace of its first webhook (each its own when one by one).
                token = otel_context.attach(propagate.extract(payloads[0][2].trace))
                try:
                    batch = [(receipt, payload) for receipt, payload, _ in payloads]
                    results.update(await ingest.ingest_batch(uow, batch, handover_idle=self.handover_idle))
                finally:
                    otel_context.detach(token)
                self._count([results[receipt] for receipt, _, _ in payloads], "ok")
            committed = await uow.commit_unpublished()
        # This batch's events go out while the next batch is applied; batches publish in order.
        previous, self._publishing = self._publishing, None
        if previous is not None:
            await previous
        self._publishing = asyncio.create_task(
            self._publish(committed, rows, results), name="webhook-publish"
        )
        return len(rows)

    async def _publish(self, committed: Committed, rows: list[Any], results: dict[int, IngestResult]) -> None:
        try:
            await committed.publish()  # a failure leaves the events to the outbox relay
        except Exception as exc:
            log.warning("publishing a webhook batch failed; the relay sends it", error=type(exc).__name__)
        for row in rows:
            LAG.observe(float(row.waited))
        await self._record(results)

    async def flush(self) -> None:
        """Wait until the last applied batch's events were handed to the broker."""
        if self._publishing is not None:
            await self._publishing

    async def _apply_one(
        self, uow: UnitOfWork, receipt: int, payload: WebhookPayload, row: Any
    ) -> IngestResult:
        token = otel_context.attach(propagate.extract(row.trace))
        try:
            async with uow.savepoint():
                result = await ingest.ingest_webhook(uow, payload, handover_idle=self.handover_idle)
            self._count([result], "ok")
            return result
        except Exception as exc:
            # The savepoint is rolled back: keep the body where staff can see it, with why.
            await repository.quarantine(
                uow.session, None, "webhook", f"processing failed: {type(exc).__name__}", row.body
            )
            PROCESSED.labels("failed").inc()
            log.error(
                "webhook body quarantined after a processing error", receipt=receipt, error=type(exc).__name__
            )
            return IngestResult(quarantined=1)
        finally:
            otel_context.detach(token)

    @staticmethod
    def _count(results: Iterable[IngestResult], outcome: str) -> None:
        for result in results:
            PROCESSED.labels(outcome).inc()
            for kind, n in result.kinds.items():
                EVENTS.labels(kind).inc(n)
            QUARANTINED.inc(result.quarantined)

    async def _record(self, results: dict[int, IngestResult]) -> None:
        async with self._progress:
            self.results.update(results)
            while len(self.results) > 1000:
                self.results.popitem(last=False)
            self._progress.notify_all()

    async def result(self, receipt: int, timeout: float = 10.0) -> IngestResult:
        """Wait until the webhook with this receipt was processed (tests, diagnostics)."""
        async with asyncio.timeout(timeout), self._progress:
            await self._progress.wait_for(lambda: receipt in self.results)
            return self.results[receipt]
