"""What a webhook means: every event Meta sends to a Page app, stored and acted on.

`ingest_batch` applies the items of many stored webhooks in Meta's `timestamp` order (retries can
deliver them out of order), in the caller's transaction: runs of customer messages a run at a
time (`ingest_messages`), every other kind one by one in between (`ingest_events`), so an echo
still silences later messages. An item that does not parse, or of a kind we do not know, is
quarantined with the reason, and so is each of an entry's `changes` (Page fields we do not
handle) and an entry with neither `messaging` nor `standby`; the counts per webhook (stored,
duplicates, quarantined, kinds) are returned by receipt.
"""

from __future__ import annotations

import json
from datetime import timedelta

from pydantic import ValidationError

from crm_messenger.meta.webhook import Entry, Messaging, WebhookPayload, item_kind, sort_key
from crm_messenger.webhooks.batch import IngestResult, Item
from crm_messenger.webhooks.delivery import why
from crm_messenger.webhooks.ingest_events import PageEvents
from crm_messenger.webhooks.ingest_messages import CustomerMessages
from crm_servicekit.outbox import UnitOfWork

__all__ = ["IngestResult", "Item", "ingest_batch", "ingest_webhook"]


class _Ingest(CustomerMessages, PageEvents):
    """Applies one batch: `messages` for runs of customer messages, `on_<kind>` for the rest."""


async def ingest_webhook(
    uow: UnitOfWork, payload: WebhookPayload, *, handover_idle: timedelta
) -> IngestResult:
    """Store every item of one POST and emit what happened, in the caller's transaction."""
    return (await ingest_batch(uow, [(0, payload)], handover_idle=handover_idle))[0]


async def ingest_batch(
    uow: UnitOfWork, payloads: list[tuple[int, WebhookPayload]], *, handover_idle: timedelta
) -> dict[int, IngestResult]:
    """Store every item of many POSTs (keyed by receipt) and emit what happened.

    Items are applied in Meta's `timestamp` order: retries can deliver them out of order. Runs
    of customer messages are stored a run at a time (a few statements for any number); every
    other kind is applied one by one, in between, so an echo still silences later messages.
    """
    results = {receipt: IngestResult() for receipt, _ in payloads}
    ingest = _Ingest(uow, results, handover_idle)
    for receipt, payload in payloads:
        for e in payload.entry:
            await _unhandled_parts(ingest, receipt, e)
    items = [
        Item(receipt, e.id, raw, standby)
        for receipt, payload in payloads
        for e in payload.entry
        for standby, raws in ((False, e.messaging), (True, e.standby))
        for raw in raws
    ]
    items.sort(key=lambda item: sort_key(item.raw))
    run: list[tuple[Item, Messaging]] = []
    for item in items:
        kind = item_kind(item.raw)
        results[item.receipt].kinds[kind] += 1
        try:
            event = Messaging.model_validate(item.raw)
        except ValidationError as exc:
            await ingest.quarantine(item, kind, why(exc))
            continue
        if kind == "message" and event.sender.id is not None:
            run.append((item, event))
            continue
        await ingest.messages(run)
        run = []
        handler = getattr(ingest, f"on_{kind}", None)
        if handler is None:
            await ingest.quarantine(item, kind, f"an event type we do not know ({_keys(item)})")
            continue
        await handler(item, event)
    await ingest.messages(run)
    return results


async def _unhandled_parts(ingest: _Ingest, receipt: int, entry: Entry) -> None:
    """Quarantine what an entry holds besides `messaging` and `standby`: each of its `changes`
    (Page subscription fields we do not handle), or the entry itself when it holds nothing else."""
    for change in entry.changes:
        field = change.get("field")
        name = "none" if field is None else json.dumps(str(field)[:64], ensure_ascii=False)
        await ingest.quarantine(
            Item(receipt, entry.id, change, False), "change", f"a Page change we do not handle (field {name})"
        )
    if not (entry.messaging or entry.standby or entry.changes):
        await ingest.quarantine(
            Item(receipt, entry.id, entry.model_dump(), False),
            "entry",
            "an entry without messaging or standby",
        )


def _keys(item: Item) -> str:
    """The keys naming an item's event (not `sender`, `recipient`, `timestamp`), for the reason."""
    keys = [str(k)[:40] for k in item.raw if k not in ("sender", "recipient", "timestamp")]
    return json.dumps(keys[:5], ensure_ascii=False) if keys else "no event key"
