"""The total-queue checker: every accepted message accounted for, once, in every place it must be.

For each customer message a drill sent, it looks where the system's work shows:

- stored: the messenger's conversation holds the inbound message (by `mid`);
- replied: Meta's Send API fake accepted a text for that customer (the `message.received` the
  ai consumed, and the `reply.generated` the messenger consumed, show there, once each);
- customer: the gateway made the PSID a customer (the `contact.seen` it consumed);
- cached: the cache-writer wrote that customer's snapshot file (the `customer.created` it consumed).

A message accepted by the webhook with any of these missing once the system has settled is
*lost*; a message with any of them more than once is *doubled*. Lost messages are explained by
the stage where they stopped (stored? composed by the ai? the outgoing part's status?), so a
failing drill says which code to look at. It reads the services' business tables and files
(never their inbox bookkeeping) and the fakes' records.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from .stream import Message
from .system import PAGE_ID, DrillSystem


@dataclass
class Effects:
    """What the system did for the drill's messages, counted per message."""

    stored: Counter[str] = field(default_factory=Counter)  # by mid
    replies: Counter[str] = field(default_factory=Counter)  # by psid
    typing: Counter[str] = field(default_factory=Counter)  # typing indicators at Meta, by psid
    customers: Counter[str] = field(default_factory=Counter)  # by psid
    cached: set[str] = field(default_factory=set)  # psids whose customer has a snapshot file
    parts: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # psid: (status, reason)
    composed: set[str] = field(default_factory=set)  # psids the ai wrote a reply for
    unprocessed_webhooks: int = 0
    outbox_rows: dict[str, int] = field(default_factory=dict)  # by schema

    def complete(self, m: Message) -> bool:
        return (
            self.stored[m.mid] >= 1
            and self.replies[m.psid] >= 1
            and self.customers[m.psid] >= 1
            and m.psid in self.cached
        )

    def doubled(self, m: Message) -> bool:
        return self.stored[m.mid] > 1 or self.replies[m.psid] > 1 or self.customers[m.psid] > 1

    def misrecorded(self, m: Message) -> bool:
        """Meta accepted the reply, and the messenger's thread does not say it was sent."""
        return self.replies[m.psid] >= 1 and any(status != "sent" for status, _ in self.parts.get(m.psid, []))

    def _unsent(self, psids: set[str]) -> int:
        # Parts of customers Meta has answered are not waited for: see `misrecorded`.
        return sum(
            1
            for p in psids
            if not self.replies[p]
            for status, _ in self.parts.get(p, [])
            if status in ("pending", "sending")
        )

    def in_flight(self, psids: set[str]) -> int:
        """Work left anywhere the checker can see: stored webhooks, outbox rows, unsent parts."""
        return self.unprocessed_webhooks + sum(self.outbox_rows.values()) + self._unsent(psids)

    def left_in_flight(self, psids: set[str]) -> str:
        unsent = self._unsent(psids)
        outbox = ",".join(f"{k}:{v}" for k, v in self.outbox_rows.items() if v)
        return f"webhooks:{self.unprocessed_webhooks}/outbox:{outbox or 0}/unsent_parts:{unsent}"

    def where_it_stopped(self, m: Message) -> str:
        if self.stored[m.mid] == 0:
            return "not stored by the messenger"
        missing = []
        if self.customers[m.psid] == 0:
            missing.append("no customer in the gateway")
        elif m.psid not in self.cached:
            missing.append("no snapshot from the cache-writer")
        if self.replies[m.psid] == 0:
            parts = self.parts.get(m.psid, [])
            if parts:
                states = ", ".join(f"{s} ({r})" if r else s for s, r in parts)
                typing = "; Meta got its typing indicator, never its text" if self.typing[m.psid] else ""
                missing.append(f"reply part {states}{typing}")
            elif m.psid in self.composed:
                missing.append("reply composed by the ai, no outgoing part in the messenger")
            else:
                missing.append("no reply composed by the ai")
        return "; ".join(missing)


# What a database that is away (restarting, cut off by the drill) raises: the checker looks again.
AWAY = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


async def observe(system: DrillSystem, messages: Sequence[Message]) -> Effects:
    """One look at everything, in a few statements (the database may be away: then it raises)."""
    effects = Effects()
    psids = [m.psid for m in messages]
    for sent in system.fakes.meta.messages():
        if sent.text is not None and sent.recipient_id is not None:
            effects.replies[sent.recipient_id] += 1
        elif sent.sender_action == "typing_on" and sent.recipient_id is not None:
            effects.typing[sent.recipient_id] += 1
    conn = await asyncpg.connect(system.database_url, timeout=5)
    try:
        for row in await conn.fetch(
            "SELECT mid, count(*) AS n FROM messenger.messages "
            "WHERE page_id = $1 AND direction = 'in' AND mid = ANY($2::text[]) GROUP BY mid",
            PAGE_ID,
            [m.mid for m in messages],
        ):
            effects.stored[row["mid"]] = row["n"]
        customer_of: dict[str, str] = {}
        for row in await conn.fetch(
            "SELECT external_id, customer_id FROM gateway.customer_identities "
            "WHERE page_id = $1 AND external_id = ANY($2::text[])",
            PAGE_ID,
            psids,
        ):
            effects.customers[row["external_id"]] += 1
            customer_of[row["external_id"]] = row["customer_id"]
        for row in await conn.fetch(
            "SELECT c.psid, m.status, m.error_reason FROM messenger.messages m "
            "JOIN messenger.conversations c ON c.id = m.conversation_id "
            "WHERE m.direction = 'out' AND c.page_id = $1 AND c.psid = ANY($2::text[]) "
            "ORDER BY m.created_at, m.part",
            PAGE_ID,
            psids,
        ):
            effects.parts.setdefault(row["psid"], []).append((row["status"], row["error_reason"]))
        effects.composed = {
            r["psid"]
            for r in await conn.fetch("SELECT psid FROM ai.replies WHERE psid = ANY($1::text[])", psids)
        }
        effects.unprocessed_webhooks = await conn.fetchval("SELECT count(*) FROM messenger.webhook_inbox")
        schemas = await conn.fetch(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'"
        )
        for r in schemas:  # schema names from the catalogue, not from outside
            count = await conn.fetchval(f'SELECT count(*) FROM "{r["table_schema"]}".outbox')  # noqa: S608
            effects.outbox_rows[r["table_schema"]] = count
    finally:
        await conn.close()
    effects.cached = await asyncio.to_thread(_cached, system.cache_dir, customer_of)
    return effects


def _cached(cache_dir: Path, customer_of: dict[str, str]) -> set[str]:
    return {psid for psid, cid in customer_of.items() if (cache_dir / "customer" / f"{cid}.json").exists()}


@dataclass
class Figures:
    """What a drill prints (and asserts: `problems()`)."""

    drill: str
    sent: int
    deliveries: int
    accepted: int
    stored: int
    replied: int
    customers: int
    cached: int
    lost: int
    doubled: int
    never_accepted: int
    misrecorded: int
    """Answered at Meta, but the messenger's thread does not record the reply as sent."""
    refused_during_fault: int
    recovered_in: float | None
    """Seconds from the fault's end until every message sent before it was fully handled."""
    fault: bool = True
    lost_detail: list[str] = field(default_factory=list)
    doubled_detail: list[str] = field(default_factory=list)
    misrecorded_detail: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        recovered = (
            "n/a"
            if not self.fault
            else "NOT-within-the-wait"
            if self.recovered_in is None
            else f"{self.recovered_in:.1f}s"
        )
        figures = (
            f"sent={self.sent} deliveries={self.deliveries} accepted={self.accepted} "
            f"stored={self.stored} replied={self.replied} customers={self.customers} "
            f"cached={self.cached} lost={self.lost} doubled={self.doubled} "
            f"never_accepted={self.never_accepted} misrecorded={self.misrecorded} "
            f"refused_during_fault={self.refused_during_fault} "
            f"recovered_in={recovered}"
        )
        extra = " ".join(f"{k}={v}" for k, v in self.extra.items())
        return f"[drill {self.drill}] {figures}{' ' + extra if extra else ''}"

    def report(self) -> str:
        lines = [self.line()]
        lines += [f"    lost: {d}" for d in self.lost_detail[:10]]
        if len(self.lost_detail) > 10:
            lines.append(f"    ... and {len(self.lost_detail) - 10} more lost")
        lines += [f"    doubled: {d}" for d in self.doubled_detail[:10]]
        lines += [f"    misrecorded: {d}" for d in self.misrecorded_detail[:10]]
        return "\n".join(lines)

    def problems(self) -> list[str]:
        """What the drills assert away: lost, doubled, never accepted, misrecorded (Meta accepted
        the reply and the messenger's thread does not say it was sent: its echo says so)."""
        named = {
            "lost": self.lost,
            "doubled": self.doubled,
            "never_accepted": self.never_accepted,
            "misrecorded": self.misrecorded,
        }
        return [f"{name}={n}" for name, n in named.items() if n]


async def settle(
    system: DrillSystem,
    drill: str,
    messages: Sequence[Message],
    *,
    fault: tuple[float, float] | None,
    refusals: Sequence[float] = (),
    deliveries: int | None = None,
    timeout: float = 60.0,
    quiet: float = 2.0,
) -> Figures:
    """Wait (at most `timeout` seconds after the last message was accepted) until every accepted
    message is fully handled and nothing is left in flight, then count once more after a `quiet`
    pause so that a late second effect is seen too.

    `fault`: when the fault began and ended (monotonic), for the recovery time and the refusals;
    None when the drill has no fault of that kind.
    """
    psids = {m.psid for m in messages}
    done_at: dict[int, float] = {}
    last_accepted = max(
        (m.accepted_at for m in messages if m.accepted_at is not None), default=time.monotonic()
    )
    deadline = max(last_accepted, time.monotonic()) + timeout
    effects = Effects()
    while True:
        try:
            effects = await observe(system, messages)
        except AWAY:
            effects = Effects()  # nothing can be seen now: look again
        now = time.monotonic()
        for m in messages:
            if m.index not in done_at and effects.complete(m):
                done_at[m.index] = now
        accepted = [m for m in messages if m.accepted]
        settled = all(effects.complete(m) for m in accepted) and effects.in_flight(psids) == 0
        if settled or now > deadline:
            break
        await asyncio.sleep(0.5)
    left = "" if settled else effects.left_in_flight(psids)
    if settled:
        await asyncio.sleep(quiet)
        effects = await observe(system, messages)
    start, end = fault or (math.inf, math.inf)
    before_end = [done_at.get(m.index) for m in messages if m.first_sent is not None and m.first_sent <= end]
    recovered = None
    if fault is not None and all(t is not None for t in before_end):
        recovered = max([0.0, *(t - end for t in before_end if t is not None)])
    accepted = [m for m in messages if m.accepted]
    lost = [m for m in accepted if not effects.complete(m)]
    doubled = [m for m in messages if effects.doubled(m)]
    misrecorded = [m for m in messages if effects.misrecorded(m)]
    return Figures(
        drill=drill,
        sent=len(messages),
        deliveries=deliveries if deliveries is not None else sum(m.attempts for m in messages),
        accepted=len(accepted),
        stored=sum(1 for m in messages if effects.stored[m.mid]),
        replied=sum(1 for m in messages if effects.replies[m.psid]),
        customers=sum(1 for m in messages if effects.customers[m.psid]),
        cached=sum(1 for m in messages if m.psid in effects.cached),
        lost=len(lost),
        doubled=len(doubled),
        never_accepted=len(messages) - len(accepted),
        misrecorded=len(misrecorded),
        refused_during_fault=sum(1 for t in refusals if start <= t <= end + 1.0),
        recovered_in=recovered,
        fault=fault is not None,
        extra={"not_settled": left} if left else {},
        lost_detail=[f"{m.psid}: {effects.where_it_stopped(m)}" for m in lost],
        doubled_detail=[
            f"{m.psid}: stored {effects.stored[m.mid]}x, replied {effects.replies[m.psid]}x, "
            f"customers {effects.customers[m.psid]}x"
            for m in doubled
        ],
        misrecorded_detail=[
            f"{m.psid}: Meta accepted the reply; the messenger's part is "
            + ", ".join(f"{s} ({r})" if r else s for s, r in effects.parts.get(m.psid, []))
            for m in misrecorded
        ],
    )
