"""PDPA plumbing every service needs on erasure: copies of a person's data that are not in its
own tables but in transit.

- The outbox holds events committed but not yet published (the relay sends them later). After
  an erasure they would carry the person's data out again: `purge_outbox` deletes them.
- A parking queue (`<queue>.parked`) keeps failed messages until someone replays them; replayed
  after an erasure they would bring the data back. `purge_parked` removes the ones that mention
  the person and leaves the others where they were, in their order.

`find_mentions` is the check afterwards: which columns of a schema still mention the person.

All three match "needles" (a PSID, a conversation id, a quoted customer id...) as substrings of the
JSON text, in the forms JSON writers produce (plain UTF-8 and `\\u` escapes). The caller chooses
needles that cannot collide with other people's ids. Nothing here logs a needle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage
from aio_pika.exceptions import ChannelNotFoundEntity
from sqlalchemy import Table, Text, bindparam, cast, delete, or_, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import CustomerErasureProgress, CustomerErasureProgressData, CustomerErasureRequested

from . import amqp
from .broker import parked_queue_name
from .logging import get_logger
from .outbox import UnitOfWork

log = get_logger(__name__)


def needle_forms(needles: Iterable[str]) -> list[str]:
    """Each needle as it can appear inside a JSON document: as is, JSON-escaped, ASCII-escaped."""
    forms: list[str] = []
    for needle in needles:
        if not needle:
            continue
        for form in (needle, json.dumps(needle, ensure_ascii=False)[1:-1], json.dumps(needle)[1:-1]):
            if form not in forms:
                forms.append(form)
    return forms


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def purge_outbox(session: AsyncSession, outbox: Table, needles: Iterable[str]) -> int:
    """Delete the outbox rows (events not yet published) whose payload mentions any needle.

    Runs in the caller's transaction, so the purge commits with the erasure or not at all.
    Returns how many events were dropped.
    """
    forms = needle_forms(needles)
    if not forms:
        return 0
    payload = cast(outbox.c.payload, Text)
    result = await session.execute(
        delete(outbox)
        .where(or_(*(payload.like(_like_pattern(form), escape="\\") for form in forms)))
        .returning(outbox.c.id)
    )
    return len(result.all())


# Column types that can hold a person's data as text (uuid, numbers and times cannot).
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY")


async def find_mentions(session: AsyncSession, schema: str, needles: Iterable[str]) -> dict[str, int]:
    """`{"table.column": rows}` for every text, JSON or array column of `schema` whose value, as
    text, contains any needle. Empty when the schema holds nothing more on the person: what an
    erasure test asserts, and what an operator runs to answer "is it all gone?"."""
    patterns = [_like_pattern(form) for form in needle_forms(needles)]
    if not patterns:
        return {}
    columns = await session.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = :schema AND data_type = ANY(:types)"
            " ORDER BY table_name, ordinal_position"
        ),
        {"schema": schema, "types": list(TEXT_TYPES)},
    )
    found: dict[str, int] = {}
    for table, column in columns.all():
        name = f"{_quote(schema)}.{_quote(table)}"
        query = text(f"SELECT count(*) FROM {name} WHERE CAST({_quote(column)} AS text) LIKE ANY(:p)")  # noqa: S608
        rows = (
            await session.execute(query.bindparams(bindparam("p", type_=ARRAY(Text))), {"p": patterns})
        ).scalar()
        if rows:
            found[f"{table}.{column}"] = int(rows)
    return found


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def purge_parked(
    rabbitmq: str | AbstractConnection, queue_names: Iterable[str], needles: Iterable[str]
) -> int:
    """Remove the parked messages of these subscriber queues whose body mentions any needle.

    `queue_names` are subscriber queues (`messenger.replies`); their parking queues are purged.
    Every parked message is taken without auto-ack until the queue is empty; the matches are
    acked (gone), the others are returned in the order they were taken, so the queue keeps its
    order. A parking queue that does not exist is skipped. Returns how many were removed.
    """
    forms = [form.encode() for form in needle_forms(needles)]
    if not forms:
        return 0
    if isinstance(rabbitmq, str):
        async with await amqp.connect(rabbitmq) as connection:
            return await _purge_all(connection, queue_names, forms)
    return await _purge_all(rabbitmq, queue_names, forms)


async def _purge_all(connection: AbstractConnection, queue_names: Iterable[str], forms: list[bytes]) -> int:
    removed = 0
    for name in queue_names:
        parked = parked_queue_name(name)
        # One channel per queue: a missing queue closes the channel it was looked up on.
        async with connection.channel() as channel:
            try:
                queue = await channel.get_queue(parked, ensure=True)
            except ChannelNotFoundEntity:
                continue
            count = await _purge_queue(queue, forms)
        if count:
            log.info("parked messages purged", queue=parked, removed=count)
        removed += count
    return removed


async def _purge_queue(queue: aio_pika.abc.AbstractQueue, forms: list[bytes]) -> int:
    kept: list[AbstractIncomingMessage] = []
    removed = 0
    try:
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            if any(form in message.body for form in forms):
                await message.ack()
                removed += 1
            else:
                kept.append(message)
    finally:
        # Returned in the order taken: a quorum queue delivers returned messages first, in order.
        for message in kept:
            await message.nack(requeue=True)
    return removed


async def complete_erasure(
    uow: UnitOfWork,
    request: CustomerErasureRequested,
    *,
    service: str,
    erased: dict[str, int],
    outbox: Table,
    needles: Iterable[str],
    rabbitmq_url: str,
    parked_queues: Iterable[str],
) -> dict[str, int]:
    """The end every service's erasure shares: purge the copies in transit (outbox, parking
    queues), report `customer.erasure_progress` once through the outbox, commit. The counts.

    Parked messages go before the commit: a crash in between only means purging again when the
    request is redelivered.
    """
    needles = list(needles)
    erased = erased | {
        "outbox_events": await purge_outbox(uow.session, outbox, needles),
        "parked_messages": await purge_parked(rabbitmq_url, parked_queues, needles),
    }
    uow.emit(
        CustomerErasureProgress(
            producer=service,
            correlation_id=request.correlation_id,
            data=CustomerErasureProgressData(
                request_id=request.data.request_id,
                service=service,
                status="completed",
                erased=erased,
                finished_at=datetime.now(UTC),
            ),
        )
    )
    await uow.commit()
    log.info("customer erased", request_id=str(request.data.request_id), **erased)
    return erased
