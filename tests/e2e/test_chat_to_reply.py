"""The system's most important path, with all five services running as processes.

A customer writes Thai to the school's Page; the AI's Thai reply reaches Messenger; the
customer exists in the cache and the staff API; one trace spans every hop.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from crm_fakes import (
    FakeServer,
    GeminiState,
    MetaState,
    OtlpState,
    create_gemini_app,
    create_meta_app,
    create_otlp_app,
)
from crm_fakes.otlp import ReceivedSpan
from crm_fakes.webhooks import meta_json, page_webhook, sign, text_message_event
from crm_localrun import SERVICES, Stack
from crm_servicekit.testing import EventRecorder, create_database, drop_database, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

PAGE_ID = "111222333444"
APP_SECRET = "e2e-app-secret"
ADMIN = ("admin@vschool.test", "e2e-admin-password")
THAI = "สวัสดีค่ะ อยากทราบรายละเอียดคอร์สราเมงค่ะ 🍜"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class System:
    stack: Stack
    meta: MetaState
    gemini: GeminiState
    otlp: OtlpState
    cache_dir: Path
    rabbitmq_url: str


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeServer, FakeServer, FakeServer, MetaState, GeminiState, OtlpState]]:
    meta, gemini, otlp = MetaState(page_id=PAGE_ID, access_token="e2e-page-token"), GeminiState(), OtlpState()
    with (
        FakeServer(create_meta_app(meta)) as m,
        FakeServer(create_gemini_app(gemini)) as g,
        FakeServer(create_otlp_app(otlp)) as o,
    ):
        yield m, g, o, meta, gemini, otlp


@pytest.fixture(scope="module")
async def system(
    fakes: tuple[FakeServer, FakeServer, FakeServer, MetaState, GeminiState, OtlpState],
    rabbitmq_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[System]:
    m, g, o, meta, gemini, otlp = fakes
    root = tmp_path_factory.mktemp("e2e")
    database_url = await create_database("crm_e2e")  # its own: customer numbering starts at 0001
    env = {
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "CRM_CACHE_DIR": str(root / "cache"),
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": "e2e-verify",
        "META_PAGE_ACCESS_TOKEN": "e2e-page-token",
        "META_GRAPH_API_URL": m.url,
        "GEMINI_API_KEY": "e2e-gemini-key",
        "GOOGLE_GEMINI_BASE_URL": g.url,
        "CRM_ADMIN_EMAIL": ADMIN[0],
        "CRM_ADMIN_PASSWORD": ADMIN[1],
        "CRM_JWT_SECRET": "e2e-jwt-secret-that-is-long-enough-for-hs256",
        "CRM_INTERNAL_TOKEN": "e2e-internal-token",
        "OTEL_EXPORTER_OTLP_ENDPOINT": o.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    stack = Stack(env=env, ports={s: free_port() for s in SERVICES}, log_dir=root / "logs")
    await asyncio.to_thread(stack.migrate)
    await asyncio.to_thread(stack.start)
    try:
        yield System(stack, meta, gemini, otlp, root / "cache", rabbitmq_url)
    finally:
        await asyncio.to_thread(stack.stop)
        await drop_database(database_url)


async def post_webhook(system: System, body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(base_url=system.stack.url("messenger")) as http:
        return await http.post(
            "/webhooks/meta",
            content=body,
            headers={"content-type": "application/json", "x-hub-signature-256": sign(APP_SECRET, body)},
        )


async def replies_to(system: System, psid: str) -> list[str]:
    """Texts Meta accepted for this customer (sender actions like typing_on are not replies)."""
    return [m.text for m in system.meta.messages() if m.recipient_id == psid and m.text is not None]


async def test_thai_message_gets_a_thai_ai_reply_a_cached_customer_and_one_trace(
    system: System,
) -> None:
    event = text_message_event(PAGE_ID, "psid-e2e-1", THAI)
    response = await post_webhook(system, meta_json(page_webhook(PAGE_ID, [event])))
    assert response.status_code == 200

    # 1. the reply reached Messenger, in Thai, as a RESPONSE to that customer
    [reply] = await eventually(lambda: replies_to(system, "psid-e2e-1"), timeout=30)
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in reply)
    [sent] = [m for m in system.meta.messages() if m.recipient_id == "psid-e2e-1" and m.text is not None]
    assert sent.body["messaging_type"] == "RESPONSE"
    [asked] = system.gemini.requests()
    assert THAI in json.dumps(asked.body, ensure_ascii=False)

    # 2. the customer's JSON snapshot is in the cache, with the school's id
    yy = datetime.now(ZoneInfo("Asia/Bangkok")).strftime("%y")
    customer_id = f"TVS-CUS-FB-{yy}-0001"
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
    def webhook_trace() -> list[ReceivedSpan]:
        for spans in system.otlp.traces().values():
            names = {s.service_name for s in spans}
            if {"crm-messenger", "crm-ai", "crm-gateway", "crm-cache-writer"} <= names:
                return spans
        return []

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
