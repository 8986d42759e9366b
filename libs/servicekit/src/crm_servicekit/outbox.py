"""Unit of work with a transactional outbox and inbox (eShop's IntegrationEventLog, Cosmic
Python's UoW).

    async with runtime.uow() as uow:
        if not await uow.claim(event.event_id, "ai.replies"):
            return                      # already handled: a redelivery has no second effect
        ...change rows with uow.session...
        uow.emit(SomethingHappened(...))  # outbox row, same transaction
        await uow.commit()              # commit, then publish what was emitted

Publishing happens only after the commit. If the process dies between the two,
`OutboxPublisher.relay_once` (run periodically by every service) sends what was left.

Rows the broker confirmed are deleted together a moment later (`FORGET_AFTER`), in one statement
for everything confirmed meanwhile, not in a transaction of their own after every commit (three
round trips per commit, on the path of every handler and every request that emits; ADR 23). If
the process dies first, the relay sends those rows again: a second copy the consumers' inbox
makes harmless, as after any crash between publish and delete.

Every publish has a deadline (`PUBLISH_TIMEOUT`): a confirm that never comes (a node that went
away without closing the connection) fails the publish instead of holding the relay, and the
rows it had locked, until the heartbeat notices. A channel closing under a publish cancels its
confirm inside aiormq; that surfaces here as `PublishInterrupted`, an ordinary error, not as a
`CancelledError` that would unwind the caller as if it were being stopped.
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

from faststream.rabbit.publisher.usecase import RabbitPublisher
from opentelemetry import context as otel_context
from opentelemetry import propagate
from sqlalchemy import Table, bindparam, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_contracts import Event

from .logging import get_logger
from .periodic import being_cancelled
from .sqlcache import frozen

log = get_logger(__name__)

Emitted = tuple[Event, dict[str, Any], dict[str, str]]
"""An event as committed: the event, its payload as written to the outbox, its trace headers."""

# A quorum queue elects a new leader in a few seconds; longer than this, the broker is away.
PUBLISH_TIMEOUT = 15.0
# Confirmed rows wait this long to be deleted with the others confirmed meanwhile.
FORGET_AFTER = 0.05


class PublishInterrupted(ConnectionError):
    """The channel closed while a publish waited for its confirm: the broker may have the
    message or not (the consumers' inbox makes a second copy harmless)."""


class PartlySent(Exception):
    """Some publishes of a batch failed: `sent` were confirmed, `error` is the first failure."""

    def __init__(self, sent: list[uuid.UUID], error: BaseException) -> None:
        super().__init__(f"{len(sent)} sent; first failure: {type(error).__name__}")
        self.sent = sent
        self.error = error


class OutboxPublisher:
    """Sends outbox rows to the broker and deletes them once the broker confirmed."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        table: Table,
        publishers: Mapping[str, RabbitPublisher],
        *,
        publish_timeout: float = PUBLISH_TIMEOUT,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.table = table
        self.publishers = publishers
        self.publish_timeout = publish_timeout
        self._confirmed: list[uuid.UUID] = []
        self._forgetting: asyncio.Task[None] | None = None

    async def send(self, event_type: str, event_id: uuid.UUID, payload: Any, headers: dict[str, str]) -> None:
        publisher = self.publishers[event_type]
        # Publish as a child of the transaction that wrote the event, even from the relay.
        token = otel_context.attach(propagate.extract(headers))
        try:
            async with asyncio.timeout(self.publish_timeout):
                await publisher.publish(
                    json.dumps(payload, ensure_ascii=False).encode(),
                    message_id=str(event_id),
                    correlation_id=payload.get("correlation_id"),
                    content_type="application/json",
                )
        except asyncio.CancelledError:
            if being_cancelled():
                raise
            raise PublishInterrupted("the channel closed before the broker confirmed") from None
        finally:
            otel_context.detach(token)

    async def send_all(self, rows: Sequence[tuple[str, uuid.UUID, Any, dict[str, str]]]) -> list[uuid.UUID]:
        """Publish `rows` (type, id, payload, headers) together: every confirm is awaited at once.

        The channel writes publishes in the order they were started (aiormq takes its lock in
        FIFO order), so the broker receives them in emit order; only the waits for the confirms
        overlap. Returns the ids the broker confirmed; if any failed, raises the first error
        after every publish has ended (the ids confirmed so far are in its `sent`).
        """
        results = await asyncio.gather(*(self.send(*row) for row in rows), return_exceptions=True)
        failures = [result for result in results if isinstance(result, BaseException)]
        sent = [row[1] for row, r in zip(rows, results, strict=True) if not isinstance(r, BaseException)]
        if failures:
            raise PartlySent(sent, failures[0])
        return sent

    async def publish_committed(self, rows: list[Emitted]) -> None:
        """Publish events just committed (with the payloads written to the outbox)."""
        try:
            sent = await self.send_all([(e.type, e.event_id, p, h) for e, p, h in rows])
        except PartlySent as exc:  # the relay will send the rest
            sent = exc.sent
            pending = len(rows) - len(sent)
            log.warning("outbox publish deferred to relay", error=type(exc.error).__name__, pending=pending)
        if sent:
            self._confirmed.extend(sent)
            if self._forgetting is None or self._forgetting.done():
                self._forgetting = asyncio.create_task(self._forget_confirmed(), name="outbox-forget")

    async def _forget_confirmed(self) -> None:
        """Delete the rows confirmed since the last time, together; never raises (the relay
        sends whatever stays)."""
        await asyncio.sleep(FORGET_AFTER)
        while self._confirmed:
            ids, self._confirmed = self._confirmed, []
            try:
                async with self.sessionmaker() as session:
                    await session.execute(delete(self.table).where(self.table.c.event_id.in_(ids)))
                    await session.commit()
            except Exception as exc:
                log.warning(
                    "confirmed outbox rows not deleted; the relay sends them again",
                    rows=len(ids),
                    error=type(exc).__name__,
                )
                return

    async def drain(self) -> None:
        """Wait until the rows confirmed so far are deleted (at shutdown, and for tests)."""
        while self._forgetting is not None and not self._forgetting.done():
            await asyncio.shield(self._forgetting)

    async def relay_once(self, *, older_than_seconds: float, batch: int = 100) -> int:
        """Send rows left behind (crash between commit and publish). Safe with replicas."""
        t = self.table
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(t.c.event_id, t.c.type, t.c.payload, t.c.headers)
                    .where(t.c.created_at < _seconds_ago(older_than_seconds))
                    .order_by(t.c.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            try:
                sent = await self.send_all([(r.type, r.event_id, r.payload, r.headers) for r in rows])
            except PartlySent as exc:
                # What went out is not sent again; the rest is unlocked for the next run.
                await self._forget(session, exc.sent)
                raise exc.error from None
            await self._forget(session, sent)
            return len(rows)

    async def _forget(self, session: AsyncSession, sent: list[uuid.UUID]) -> None:
        if sent:
            await session.execute(delete(self.table).where(self.table.c.event_id.in_(sent)))
        await session.commit()


@functools.cache
def _claim(inbox: Table) -> Any:
    """Built once per inbox (every event claims): only the parameters change. Frozen, because
    SQLAlchemy would compile an ON CONFLICT statement again on every execution (`sqlcache`)."""
    values: dict[str, Any] = {"event_id": bindparam("event_id"), "consumer": bindparam("consumer")}
    return frozen(pg_insert(inbox).values(values).on_conflict_do_nothing().returning(inbox.c.event_id))


@functools.cache
def _handled(inbox: Table) -> Any:
    c = inbox.c
    return select(c.event_id).where(c.event_id == bindparam("event_id"), c.consumer == bindparam("consumer"))


def _seconds_ago(seconds: float) -> Any:
    return func.now() - timedelta(seconds=seconds)


class UnitOfWork:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: OutboxPublisher,
        inbox: Table,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._outbox = outbox
        self._inbox = inbox
        self._pending: list[tuple[Event, dict[str, str]]] = []
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        self.session = self._sessionmaker()
        self._pending = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.session.rollback()  # no-op after commit
        await self.session.close()

    async def claim(self, event_id: uuid.UUID, consumer: str) -> bool:
        """Record that `consumer` handles `event_id`; False if it already did (skip the work).

        A concurrent duplicate waits on the first one's row lock and then sees the conflict.
        """
        result = await self.session.execute(_claim(self._inbox), {"event_id": event_id, "consumer": consumer})
        return result.first() is not None

    async def handled(self, event_id: uuid.UUID, consumer: str) -> bool:
        """Cheap read before slow work (e.g. a model call); `claim` still decides."""
        row = await self.session.execute(_handled(self._inbox), {"event_id": event_id, "consumer": consumer})
        return row.first() is not None

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: if it fails, its rows and the events emitted inside it are gone."""
        mark = len(self._pending)
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            del self._pending[mark:]
            raise

    def emit(self, event: Event) -> None:
        """Write `event` to the outbox in this transaction; it is published after commit."""
        headers: dict[str, str] = {}
        propagate.inject(headers)
        self._pending.append((event, headers))

    async def commit(self) -> None:
        """Commit, then publish what was emitted (its confirms awaited together)."""
        await (await self.commit_unpublished()).publish()

    async def commit_unpublished(self) -> Committed:
        """Commit and hand back what was emitted, to publish later (`await committed.publish()`).

        For a loop of transactions that should not wait for the broker between them: the next
        transaction runs while this one's events are confirmed. Until `publish()` runs, the events
        are safe in the outbox (the relay sends them if this process dies first).
        """
        # Each event is dumped once: the same payload is written to the outbox and published.
        pending = [(e, e.model_dump(mode="json"), h) for e, h in self._pending]
        if pending:
            await self.session.execute(
                insert(self._outbox.table),
                [{"event_id": e.event_id, "type": e.type, "payload": p, "headers": h} for e, p, h in pending],
            )
        await self.session.commit()
        self._pending = []
        return Committed(self._outbox, pending)


class Committed:
    """Events of a committed transaction, not yet published."""

    def __init__(
        self, outbox: OutboxPublisher, rows: list[tuple[Event, dict[str, Any], dict[str, str]]]
    ) -> None:
        self._outbox = outbox
        self.rows = rows

    async def publish(self) -> None:
        if self.rows:
            await self._outbox.publish_committed(self.rows)
