"""Every signed JSON delivery from Meta is stored and answered 200, including what we do not
handle, which is kept in the quarantine with a reason staff can read; a non-200 only for a bad
signature (403), a body that is not a JSON object (400), or a delivery we could not store (503)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select

from crm_fakes.webhooks import meta_json, page_webhook, sign, text_message_event
from crm_messenger.webhooks.models import quarantined_events, webhook_inbox

from .conftest import APP_SECRET, PAGE_ID, VERIFY_TOKEN, Messenger
from .helpers import INTERNAL, received

pytestmark = pytest.mark.integration


async def deliver(m: Messenger, body: bytes, signature: bytes | None = None) -> Any:
    """POST a body signed with our App Secret (or `signature`, the header's bytes); once stored,
    wait until applied."""
    sig = sign(APP_SECRET, body).encode() if signature is None else signature
    response = await m.http.post(
        "/webhooks/meta",
        content=body,
        headers={b"content-type": b"application/json", b"x-hub-signature-256": sig},
    )
    if response.status_code == 200:
        processor = m.app.state.runtime.extras["webhook_processor"]
        await processor.result(int(response.headers["x-webhook-receipt"]))
    return response


async def quarantine_since(m: Messenger, before: int) -> list[dict[str, Any]]:
    """What staff read in the internal API's quarantine (oldest first) after row `before`."""
    response = await m.http.get("/internal/v1/quarantine", headers=INTERNAL)
    assert response.status_code == 200
    return [q for q in reversed(response.json()["items"]) if q["id"] > before]


async def last_quarantined(m: Messenger) -> int:
    async with m.app.state.runtime.sessionmaker() as session:
        return int(
            (await session.execute(select(func.coalesce(func.max(quarantined_events.c.id), 0)))).scalar_one()
        )


async def inbox_size(m: Messenger) -> int:
    async with m.app.state.runtime.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(webhook_inbox))).scalar_one())


@pytest.mark.parametrize("kind", ["instagram", "user", "permissions"])
async def test_a_webhook_for_another_object_is_answered_200_and_kept_whole_in_the_quarantine(
    messenger: Messenger, kind: str
) -> None:
    before = await last_quarantined(messenger)
    payload = {
        "object": kind,
        "entry": [{"id": "17841400000000000", "time": 1, "changes": [{"field": "name", "value": "x"}]}],
    }
    response = await deliver(messenger, meta_json(payload))
    assert response.status_code == 200
    [kept] = await quarantine_since(messenger, before)
    assert (kept["kind"], kept["page_id"], kept["payload"]) == ("webhook", None, payload)
    assert (
        kept["reason"]
        == f'object "{kind}" is not handled: only Messenger webhooks for a Page (object "page") are'
    )


async def test_page_changes_empty_entries_and_unknown_kinds_are_quarantined_and_the_messages_kept(
    messenger: Messenger,
) -> None:
    before = await last_quarantined(messenger)
    message = text_message_event(PAGE_ID, "psid-mixed", "still kept")
    unknown = {
        "sender": {"id": "psid-mixed"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 2,
        "pass_thread_control": {"new_owner_app_id": "123"},
    }
    payload = page_webhook(PAGE_ID, [message, unknown])
    change = {"field": "feed", "value": {"item": "comment", "verb": "add", "message": "nice"}}
    payload["entry"].append({"id": PAGE_ID, "time": 3, "changes": [change]})
    payload["entry"].append({"id": PAGE_ID, "time": 4, "hop_context": []})

    assert (await deliver(messenger, meta_json(payload))).status_code == 200

    await received(messenger, message["message"]["mid"])
    kept = {q["kind"]: q for q in await quarantine_since(messenger, before)}
    assert set(kept) == {"change", "entry", "unknown"}
    assert kept["change"]["reason"] == 'a Page change we do not handle (field "feed")'
    assert kept["change"]["payload"] == change
    assert kept["entry"]["reason"] == "an entry without messaging or standby"
    assert kept["entry"]["payload"]["hop_context"] == []
    assert kept["unknown"]["reason"] == 'an event type we do not know (["pass_thread_control"])'
    assert kept["unknown"]["payload"] == unknown
    assert {q["page_id"] for q in kept.values()} == {PAGE_ID}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"object": "page"}, "a Page webhook without entries"),
        ({"object": "page", "entry": "not a list"}, "unreadable: entry: list_type"),
        ({"object": "page", "entry": [{"time": 1, "messaging": []}]}, "unreadable: entry.0.id: missing"),
        ({"entry": []}, "unreadable: object: missing"),
    ],
)
async def test_a_body_we_cannot_read_as_a_webhook_is_answered_200_and_quarantined_with_why(
    messenger: Messenger, payload: dict[str, Any], reason: str
) -> None:
    before = await last_quarantined(messenger)
    assert (await deliver(messenger, meta_json(payload))).status_code == 200
    [kept] = await quarantine_since(messenger, before)
    assert (kept["kind"], kept["reason"], kept["payload"]) == ("webhook", reason, payload)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        # jsonb writes it out in 5001 digits, which Python would not read back: the inbox would stop.
        (b'{"object": "page", "entry": [], "n": 1e5000}', "a number beyond 1e\u00b11000"),
        (b'{"object": "page", "n": ' + b"9" * 5000 + b"}", "an integer too long to read"),
        (b'{"object": "page", "n": ' + b"[" * 2000 + b"]" * 2000 + b"}", "nested deeper than 100 levels"),
        (b'{"object": "page", "n": ' + b"[" * 150 + b"]" * 150 + b"}", "nested deeper than 100 levels"),
        # Python reads it; PostgreSQL refuses it (numeric underflow): stored as text instead.
        (b'{"object": "page", "n": 0e-20000}', "PostgreSQL refused it: NumericValueOutOfRangeError"),
    ],
)
async def test_json_we_could_not_read_back_is_stored_as_text_and_quarantined_not_lost(
    messenger: Messenger, body: bytes, why: str
) -> None:
    before = await last_quarantined(messenger)
    assert (await deliver(messenger, body)).status_code == 200
    [kept] = await quarantine_since(messenger, before)
    assert kept["kind"] == "webhook"
    assert kept["reason"] == f"JSON we cannot read back ({why}), kept as text"
    assert kept["payload"]["body"] == body.decode()
    assert await inbox_size(messenger) == 0  # nothing left behind to stop the inbox


@pytest.mark.parametrize(
    "body",
    [b"this is not json", b'{"object": "page", "n": NaN}', b'["object", "page"]', b'"page"', b"\xff{}"],
)
async def test_a_body_that_is_not_a_json_object_gets_400_and_is_not_stored(
    messenger: Messenger, body: bytes
) -> None:
    before = await last_quarantined(messenger)
    response = await deliver(messenger, body)
    assert response.status_code == 400
    assert await inbox_size(messenger) == 0
    assert await last_quarantined(messenger) == before


async def test_a_delivery_that_could_not_be_stored_gets_503_so_meta_sends_it_again(
    messenger: Messenger, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = messenger.app.state.runtime.extras["webhook_store"]
    real = store.store

    async def disk_full(body: str) -> int:
        raise asyncpg.DiskFullError("could not extend file")

    event = text_message_event(PAGE_ID, "psid-retried", "sent again")
    body = meta_json(page_webhook(PAGE_ID, [event]))
    monkeypatch.setattr(store, "store", disk_full)
    response = await deliver(messenger, body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"

    monkeypatch.setattr(store, "store", real)  # Meta's retry
    assert (await deliver(messenger, body)).status_code == 200
    got = await received(messenger, event["message"]["mid"])
    assert got["data"]["text"] == "sent again"


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=é" + "0" * 63,
        ("sha256=" + "ก" * 21 + "0").encode(),  # UTF-8 bytes, read as Latin-1 by the server
        "sha256=\u00ff" * 2,
    ],
)
async def test_a_non_ascii_signature_is_refused_with_403_not_500(
    messenger: Messenger, signature: str | bytes
) -> None:
    body = meta_json(page_webhook(PAGE_ID, [text_message_event(PAGE_ID, "psid-sig", "hi")]))
    encoded = signature if isinstance(signature, bytes) else signature.encode("latin-1")
    response = await deliver(messenger, body, encoded)
    assert response.status_code == 403
    assert await inbox_size(messenger) == 0


@pytest.mark.parametrize("token", ["tést-verify-token", "โทเค็น", VERIFY_TOKEN + "\u00e9"])
async def test_a_non_ascii_verify_token_is_refused_with_403_not_500(messenger: Messenger, token: str) -> None:
    response = await messenger.http.get(
        "/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "42"}
    )
    assert response.status_code == 403
    assert json.loads(response.text) == {"detail": "verify token mismatch"}
