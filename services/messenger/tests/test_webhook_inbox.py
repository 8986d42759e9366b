"""Stored before the 200, applied right after: nothing is lost between the two."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from crm_fakes.webhooks import meta_json, page_webhook, sign, text_message_event
from crm_messenger.app import create_app
from crm_messenger.conversations.models import messages
from crm_messenger.webhooks import ingest
from crm_messenger.webhooks.models import quarantined_events, webhook_inbox

from .conftest import APP_SECRET, PAGE_ID, Messenger
from .helpers import received

pytestmark = pytest.mark.integration


async def count(m: Messenger, query: object) -> int:
    async with m.app.state.runtime.sessionmaker() as session:
        return int((await session.execute(query)).scalar_one())


async def test_a_body_that_breaks_processing_is_quarantined_and_the_rest_of_the_batch_goes_through(
    messenger: Messenger, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = messenger.app.state.runtime.extras["webhook_store"]
    processor = messenger.app.state.runtime.extras["webhook_processor"]
    await processor.stop()  # store both first, so they are processed in one batch
    good = text_message_event(PAGE_ID, "psid-good", "hello")
    bad = text_message_event(PAGE_ID, "psid-bad", "boom")
    real = ingest._Ingest._announce

    async def flaky(self, item, event, conversation, row, *args):  # type: ignore[no-untyped-def]
        await real(self, item, event, conversation, row, *args)  # rows written, events emitted...
        if row["text"] == "boom":
            raise RuntimeError("a bug in processing")  # ...then it fails

    monkeypatch.setattr(ingest._Ingest, "_announce", flaky)
    before = await count(messenger, select(func.count()).select_from(quarantined_events))
    bad_receipt = await store.store(meta_json(page_webhook(PAGE_ID, [bad])).decode())
    good_receipt = await store.store(meta_json(page_webhook(PAGE_ID, [good])).decode())
    assert await processor.process_batch() == 2
    assert (await processor.result(bad_receipt)).quarantined == 1
    assert (await processor.result(good_receipt)).stored == 1
    await received(messenger, good["message"]["mid"])
    assert await count(messenger, select(func.count()).select_from(quarantined_events)) == before + 1
    assert (
        await count(
            messenger,
            select(func.count()).select_from(messages).where(messages.c.mid == bad["message"]["mid"]),
        )
        == 0
    )
    assert not [e for e in messenger.events.of_type("message.received") if e["data"]["psid"] == "psid-bad"]
    assert await count(messenger, select(func.count()).select_from(webhook_inbox)) == 0


async def test_a_webhook_stored_before_a_crash_is_processed_by_the_next_process(messenger: Messenger) -> None:
    store = messenger.app.state.runtime.extras["webhook_store"]
    await messenger.app.state.runtime.extras["webhook_processor"].stop()  # "crash" after the 200
    event = text_message_event(PAGE_ID, "psid-crash", "hello after a crash")
    await store.store(meta_json(page_webhook(PAGE_ID, [event])).decode())

    restarted = create_app(messenger.settings)
    async with restarted.router.lifespan_context(restarted):
        got = await received(messenger, event["message"]["mid"])
    assert got["data"]["text"] == "hello after a crash"


async def test_a_web_only_process_stores_and_a_separate_worker_is_woken_by_postgresql(
    messenger: Messenger,
) -> None:
    """Deployers may split the roles: web processes answer Meta, worker processes apply."""
    await messenger.app.state.runtime.extras["webhook_processor"].stop()
    web = create_app(messenger.settings.model_copy(update={"webhook_processing": False}))
    # An hour between polls: only PostgreSQL's notification can wake this worker in time.
    worker = create_app(messenger.settings.model_copy(update={"webhook_poll_seconds": 3600.0}))
    event = text_message_event(PAGE_ID, "psid-split", "hello from the web process")
    body = meta_json(page_webhook(PAGE_ID, [event]))
    async with (
        web.router.lifespan_context(web),
        worker.router.lifespan_context(worker),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://web") as http,
    ):
        response = await http.post(
            "/webhooks/meta", content=body, headers={"x-hub-signature-256": sign(APP_SECRET, body)}
        )
        assert response.status_code == 200
        got = await received(messenger, event["message"]["mid"])
    assert got["data"]["text"] == "hello from the web process"
