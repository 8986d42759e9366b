"""The process's sender: a conversation's pending parts leave in order, each at most once, from
tasks the service's lifespan owns (ADR 14).

Whoever writes parts (the `reply.generated` consumer, the staff reply API, the sweeper) commits
them `pending` and calls `send_soon(conversation)`, which only wakes the sender: the writer's
task (a broker delivery, a request) never calls Meta itself, so losing the broker's connection
never cuts a Send API call. The sender drains each woken conversation in a task of its own, at
most `MAX_CONVERSATIONS` at a time, holding the conversation's advisory lock (one sender per
conversation across replicas, so parts leave in the order they were written). Each ready part
is handed to `delivery.deliver`, shielded, which claims it (pending -> sending, committed) just
before Meta is asked and always records its outcome. On shutdown the sender takes nothing more,
gives the calls in flight `SHUTDOWN_GRACE` seconds, then cancels them: each records
"interrupted" (or stays `pending` if Meta was not asked yet). What a stopped process left is
found by `outbound.sweeper`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import uuid
from collections.abc import Callable
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_messenger.conversations import outgoing
from crm_messenger.meta.send_api import SendApiClient
from crm_messenger.outbound import delivery, repository
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

log = get_logger(__name__)

# Conversations sent at once per process: each holds a connection for its lock and one for its
# unit of work, out of the engine's 10 (+10 overflow) that requests and consumers share.
MAX_CONVERSATIONS = 8
# Within the pod's 45 s: 5 s preStop, 10 s for HTTP requests, this, then the broker's 15 s.
SHUTDOWN_GRACE = 10.0
# After the calls in flight are cancelled: time for them to record it and let go of their locks.
RECORD_GRACE = 5.0


class Sender:
    def __init__(
        self,
        engine: AsyncEngine,
        uow_factory: Callable[[], UnitOfWork],
        client: SendApiClient,
        *,
        concurrency: int = MAX_CONVERSATIONS,
        shutdown_grace: float = SHUTDOWN_GRACE,
    ) -> None:
        self.engine = engine
        self.uow = uow_factory
        self.client = client
        self.shutdown_grace = shutdown_grace
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        # Conversations to drain, each with the context (trace) of whoever asked last.
        self._due: dict[uuid.UUID, contextvars.Context] = {}
        self._drains: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._calls: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False

    def send_soon(self, conversation_id: uuid.UUID) -> None:
        """Send the conversation's pending parts in the background; returns at once. While the
        process stops, parts are left `pending` for a running replica's sweeper."""
        if self._stopping:
            return
        self._due[conversation_id] = contextvars.copy_context()
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._loop = asyncio.create_task(self._run(), name="sender")

    async def close(self) -> None:
        """Claim nothing more; give the calls in flight `shutdown_grace` seconds, then cancel them
        (each records its outcome) and give the drains `RECORD_GRACE` to let go of their locks."""
        self._stopping = True
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        drains = set(self._drains.values())
        if not drains:
            return
        _, left = await asyncio.wait(drains, timeout=self.shutdown_grace)
        if not left:
            return
        log.warning("sends still in flight at shutdown; interrupting them", count=len(self._calls))
        for call in list(self._calls):
            call.cancel()
        _, left = await asyncio.wait(left, timeout=RECORD_GRACE)
        for drain in left:  # abandoned: the sweeper of a running replica resolves what they held
            drain.cancel()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # A conversation being drained stays due: it is drained again when its drain ends.
            for conversation_id in [c for c in self._due if c not in self._drains]:
                await self._slots.acquire()
                context = self._due.pop(conversation_id)
                task = asyncio.create_task(self.drain(conversation_id), context=context)
                self._drains[conversation_id] = task
                task.add_done_callback(partial(self._drained, conversation_id))

    def _drained(self, conversation_id: uuid.UUID, task: asyncio.Task[None]) -> None:
        del self._drains[conversation_id]
        self._slots.release()
        if not task.cancelled() and (exc := task.exception()) is not None:
            # Its parts stay pending (tried again when woken) or sending (the sweeper's).
            log.error("sending failed", conversation_id=str(conversation_id), error=type(exc).__name__)
        if conversation_id in self._due:
            self._wake.set()

    async def drain(self, conversation_id: uuid.UUID) -> None:
        """Send the conversation's pending parts in order, if no other sender holds it."""
        async with self.engine.connect() as lock:
            while not self._stopping:
                if not await repository.try_lock_conversation(lock, conversation_id):
                    return  # the holder sends what was committed before we tried
                try:
                    while not self._stopping and await self._send_next(conversation_id):
                        pass
                finally:
                    await repository.unlock_conversation(lock, conversation_id)
                    await lock.commit()
                # A part committed while we held the lock, whose writer could not get it.
                async with self.uow() as uow:
                    if not await outgoing.has_pending(uow.session, conversation_id):
                        return

    async def _send_next(self, conversation_id: uuid.UUID) -> bool:
        async with self.uow() as uow:
            part = await outgoing.next_ready(uow.session, conversation_id)
        if part is None:
            return False
        call = asyncio.create_task(delivery.deliver(self.uow, self.client, part))
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)
        try:
            await asyncio.shield(call)
        except asyncio.CancelledError:
            # The drain is cancelled, not (or not only) the call: the call goes on and records its
            # outcome, and the conversation's lock is kept until it has, so nothing overtakes it.
            if not call.done():
                await asyncio.wait({call})
            raise
        return True
