"""`customers/latest.json`, the newest customers first, rewritten a moment after customers change,
once for every change made meanwhile.

Rewriting it inside every `customer.created` / `customer.updated` handler read the newest 100
snapshots, validated and dumped them and wrote the file, under a lock that serialised every
customer handler of every replica: a new conversation changes its customer two or three times,
so at 50 conversations/s the list was rebuilt 100-150 times a second (ADR 23). Now a handler
only marks the list stale after its commit; `LIST_DELAY` later one rebuild reads what is
committed, and changes that commit during it mark it stale again, so the last change is always
in a rebuild that started after it.

Replicas each rebuild after their own changes, under one advisory lock, and read after taking
it: whichever writes the file last read after every change it follows was committed. A process
that dies with the list stale rebuilds it when it starts. Erasures and merges still rewrite the
list inside their own transaction: a person erased is out of the list when the erasure reports
done.

The rows' stored JSON (the validated snapshots as written) is joined into the file as it is:
nothing is parsed or validated again.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import desc, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_contracts.snapshots import LATEST_CUSTOMERS_PATH, LATEST_CUSTOMERS_SIZE
from crm_servicekit.logging import get_logger

from .files import write_bytes
from .models import customer_snapshots as t

log = get_logger(__name__)

# Serialises rebuilding the shared list file across replicas (pg_advisory_xact_lock key).
LATEST_LOCK_KEY = 0x43524D01
# Changes within this long share one rebuild; staff's list is at most this much (plus one
# rebuild) behind the customer files.
LIST_DELAY = 0.1
# A rebuild that failed (the database away) is tried again this often until it succeeds.
RETRY_EVERY = 1.0

_NEWEST = (
    select(text("snapshot::text"))
    .select_from(t)
    .order_by(desc(t.c.created_at), desc(t.c.customer_id))
    .limit(LATEST_CUSTOMERS_SIZE)
)


async def write_latest(session: AsyncSession, cache_dir: Path) -> None:
    """Rewrite the list from what is committed, in `session`'s transaction (its lock is held
    until that commits)."""
    await session.execute(select(func.pg_advisory_xact_lock(LATEST_LOCK_KEY)))
    items = (await session.execute(_NEWEST)).scalars().all()
    generated_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = f'{{"generated_at":"{generated_at}","items":[{",".join(items)}]}}'
    await write_bytes(cache_dir, LATEST_CUSTOMERS_PATH, body.encode())


class LatestList:
    """Rebuilds `customers/latest.json` a moment after `stale()`, once for every change since."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        cache_dir: Path,
        *,
        delay: float = LIST_DELAY,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._cache_dir = cache_dir
        self._delay = delay
        self._stale = False
        self._task: asyncio.Task[None] | None = None

    def stale(self) -> None:
        """A customer's snapshot changed and is committed: rebuild the list soon."""
        self._stale = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._rebuild(), name="latest-customers")

    async def _rebuild(self) -> None:
        await asyncio.sleep(self._delay)
        while self._stale:
            self._stale = False
            try:
                async with self._sessionmaker() as session:
                    await write_latest(session, self._cache_dir)
                    await session.commit()
            except Exception as exc:
                self._stale = True
                log.warning("customer list not rebuilt; trying again", error=type(exc).__name__)
                await asyncio.sleep(RETRY_EVERY)

    async def start(self) -> None:
        """At startup: the process before this one may have stopped with the list stale."""
        self.stale()

    async def drain(self) -> None:
        """Wait for the pending rebuild (for tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self, timeout: float = 5.0) -> None:
        """At shutdown: let a pending rebuild finish, but not wait on a database that is away
        (the next start rebuilds the list)."""
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except TimeoutError:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
