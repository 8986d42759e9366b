"""The system's most important path, with all five services running as processes.

A customer writes Thai to the school's Page; the AI's Thai reply reaches Messenger; the
customer exists in the cache and the staff API; one trace spans every hop.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from crm_fakes.otlp import ReceivedSpan
from crm_fakes.webhooks import meta_json, page_webhook, text_message_event
from crm_localrun import SERVICES
from crm_servicekit.testing import EventRecorder, eventually

from .conftest import ADMIN, PAGE_ID, THAI, System, customer_for, post_webhook, replies_to, reply_requests

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def test_thai_message_gets_a_thai_ai_reply_a_cached_customer_and_one_trace(
    system: System,
) -> None:
    # The stack is shared by the package's modules: count only what this customer causes.
    before = len(system.gemini.requests())
    event = text_message_event(PAGE_ID, "psid-e2e-1", THAI)
    response = await post_webhook(system, meta_json(page_webhook(PAGE_ID, [event])))
    assert response.status_code == 200

    # 1. the reply reached Messenger, in Thai, as a RESPONSE to that customer
    [reply] = await eventually(lambda: replies_to(system, "psid-e2e-1"), timeout=30)
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in reply)
    [sent] = [m for m in system.meta.messages() if m.recipient_id == "psid-e2e-1" and m.text is not None]
    assert sent.body["messaging_type"] == "RESPONSE"
    [asked] = [r for r in reply_requests(system, before) if THAI in json.dumps(r.body, ensure_ascii=False)]

    # 2. the customer's JSON snapshot is in the cache, with the school's id
    yy = datetime.now(ZoneInfo("Asia/Bangkok")).strftime("%y")
    customer = await eventually(lambda: customer_for(system, "psid-e2e-1"), timeout=20)
    customer_id = customer["customer_id"]
    assert re.fullmatch(rf"TVS-CUS-FB-{yy}-\d{{4}}", customer_id)
    snapshot = system.cache_dir / "customer" / f"{customer_id}.json"
    await eventually(lambda: asyncio.sleep(0, snapshot.exists()), timeout=20)
    cached = json.loads(snapshot.read_text())
    assert cached["identities"][0]["external_id"] == "psid-e2e-1"

    # 3. staff see the customer through the gateway (cache first)
    async with httpx.AsyncClient(base_url=system.stack.url("gateway")) as http:
        assert (await http.get(f"/api/v1/customers/{customer_id}")).status_code == 401
        token = (
            await http.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        one = await http.get(f"/api/v1/customers/{customer_id}", headers=auth)
        assert one.status_code == 200
        assert one.json()["customer_id"] == customer_id
        assert one.headers["x-served-from"] == "cache"
        listed = await http.get("/api/v1/customers", headers=auth)
        assert customer_id in [c["customer_id"] for c in listed.json()["items"]]

    # 4. one trace: webhook -> messenger -> ai -> Gemini -> messenger -> Send API, plus the
    #    gateway and cache-writer branch, each service under its own service.name
    #    (this message's trace: the one its Gemini request carried; other modules' are there too)
    assert asked.traceparent is not None
    trace_id = asked.traceparent.split("-")[1]

    def webhook_trace() -> list[ReceivedSpan]:
        spans = system.otlp.traces().get(trace_id, [])
        names = {s.service_name for s in spans}
        return spans if {"crm-messenger", "crm-ai", "crm-gateway", "crm-cache-writer"} <= names else []

    spans = await eventually(lambda: asyncio.sleep(0, webhook_trace()), timeout=20)
    by_service: dict[str, list[ReceivedSpan]] = {}
    for s in spans:
        by_service.setdefault(s.service_name, []).append(s)
    assert any(s.kind == "SERVER" and "/webhooks/meta" in s.name for s in by_service["crm-messenger"])
    assert any(s.kind == "CONSUMER" for s in by_service["crm-ai"])
    ai_clients = [s for s in by_service["crm-ai"] if s.kind == "CLIENT" and s.name.startswith("POST")]
    assert ai_clients, "the Gemini HTTP call is a span of the ai service"
    messenger_clients = [
        s for s in by_service["crm-messenger"] if s.kind == "CLIENT" and s.name.startswith("POST")
    ]
    assert messenger_clients, "the Send API call is a span of the messenger"
    assert asked.traceparent is not None
    assert asked.traceparent.split("-")[1] == spans[0].trace_id
    assert sent.traceparent is not None
    assert sent.traceparent.split("-")[1] == spans[0].trace_id
    assert any(s.kind == "CONSUMER" for s in by_service["crm-gateway"])
    assert any(s.kind == "CONSUMER" for s in by_service["crm-cache-writer"])
    # no personal data (message text) in span attributes or in any service's log
    for s in spans:
        assert THAI not in json.dumps(s.attributes, ensure_ascii=False)
        assert reply not in json.dumps(s.attributes, ensure_ascii=False)
    logs = system.stack.logs()
    assert set(logs) == set(SERVICES)
    for service in ("messenger", "ai", "gateway", "cache-writer"):
        assert f'"trace_id": "{spans[0].trace_id}"' in logs[service], f"{service} logs carry the trace id"
    for service, text in logs.items():
        assert THAI not in text, f"{service} logged the customer's message"
        assert reply not in text, f"{service} logged the reply"


async def test_meta_retries_and_a_broker_redelivery_produce_exactly_one_reply(system: System) -> None:
    async with EventRecorder(system.rabbitmq_url) as events:
        event = text_message_event(PAGE_ID, "psid-e2e-2", "How much is the sushi course?")
        body = meta_json(page_webhook(PAGE_ID, [event]))
        for _ in range(3):
            assert (await post_webhook(system, body)).status_code == 200
        await eventually(lambda: replies_to(system, "psid-e2e-2"), timeout=30)
        [received] = await events.wait_for("message.received")

        # the broker delivers the same message.received again (same event id)
        await events.broker.publish(
            json.dumps(received).encode(),
            exchange="crm.events",
            routing_key="message.received",
            message_id=str(received["event_id"]),
        )
        # a later message from another customer is answered after the redelivery was handled
        later = text_message_event(PAGE_ID, "psid-e2e-3", "Do you have a ramen class?")
        assert (await post_webhook(system, meta_json(page_webhook(PAGE_ID, [later])))).status_code == 200
        await eventually(lambda: replies_to(system, "psid-e2e-3"), timeout=30)
        await events.wait_for("message.sent", count=2)

    assert len(await replies_to(system, "psid-e2e-2")) == 1
    announced = {
        e["event_id"] for e in events.of_type("message.received") if e["data"]["psid"] == "psid-e2e-2"
    }
    assert len(announced) == 1, "three identical webhooks are announced once"
