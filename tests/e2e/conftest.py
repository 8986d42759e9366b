"""The whole system as processes, shared by every end-to-end test module (one stack per run)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from crm_fakes.webhooks import sign
from crm_localrun import SERVICES, MarketingFake, Stack
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database

PAGE_ID = "111222333444"
# Secrets as a deployer sets them (the services refuse short or placeholder ones outside
# CRM_ENV=local): the stack runs as in production.
APP_SECRET = "e2e0a7f3c91b5d28e6a04f17c3b9d2e8"  # 32 hex characters, like Meta's
INTERNAL_TOKEN = "e2e-internal-Vq8Zr2LmT5xK9wNc4HbJ7sPd"
ADMIN = ("admin@vschool.test", "e2e-admin-password")
THAI = "สวัสดีค่ะ อยากทราบรายละเอียดคอร์สราเมงค่ะ 🍜"
MARKETING_TOKEN = "e2e-marketing-token"
# The marketing service syncs only when asked, and waits little: the fake's report jobs are done
# on their second status poll.
MARKETING_ENV = {
    "SYNC_SCHEDULE_ENABLED": "false",
    "SYNC_POLL_SECONDS": "0.5",
    "REPORT_POLL_INITIAL_SECONDS": "0.05",
    "REPORT_POLL_MAX_SECONDS": "0.2",
}


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
    marketing: MarketingFake
    """The Meta Marketing API fake (a process); `marketing.universe()` knows its numbers."""
    cache_dir: Path
    rabbitmq_url: str


@pytest.fixture(scope="package")
def fakes() -> Iterator[tuple[FakeServer, FakeServer, FakeServer, MetaState, GeminiState, OtlpState]]:
    meta, gemini, otlp = MetaState(page_id=PAGE_ID, access_token="e2e-page-token"), GeminiState(), OtlpState()
    with (
        FakeServer(create_meta_app(meta)) as m,
        FakeServer(create_gemini_app(gemini)) as g,
        FakeServer(create_otlp_app(otlp)) as o,
    ):
        yield m, g, o, meta, gemini, otlp


@pytest.fixture(scope="package")
def system_env() -> dict[str, str]:
    """Variables a package's system adds to the shared ones (the API fuzz run overrides this)."""
    return {}


@pytest.fixture(scope="package")
async def system(
    fakes: tuple[FakeServer, FakeServer, FakeServer, MetaState, GeminiState, OtlpState],
    tmp_path_factory: pytest.TempPathFactory,
    system_env: dict[str, str],
) -> AsyncIterator[System]:
    m, g, o, meta, gemini, otlp = fakes
    root = tmp_path_factory.mktemp("e2e")
    database_url = await create_database("crm_e2e")
    rabbitmq_url = await asyncio.to_thread(create_vhost, "crm-e2e")
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
        "CRM_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "OTEL_EXPORTER_OTLP_ENDPOINT": o.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        **system_env,
    }
    # Seed 3 with 3 campaigns over 10 days: an active campaign, a paused one that stops
    # delivering near the end, and an archived one that delivers on the first two days only.
    marketing = MarketingFake(
        port=free_port(),
        token=MARKETING_TOKEN,
        seed=3,
        campaigns=3,
        adsets=2,
        ads=2,
        days=10,
        polls=2,
        log_path=root / "logs" / "marketing-fake.log",
    )
    stack = Stack(
        env=env,
        ports={s: free_port() for s in SERVICES},
        service_envs={"marketing": {**marketing.service_env(), **MARKETING_ENV}},
        log_dir=root / "logs",
    )
    # What the Page sends comes back to the messenger as echoes, as with a real Page.
    meta.echo_to(stack.url("messenger") + "/webhooks/meta", APP_SECRET)
    try:
        # The fake starts while the services migrate; both must be ready before the services.
        started = await asyncio.gather(
            asyncio.to_thread(marketing.start), asyncio.to_thread(stack.migrate), return_exceptions=True
        )
        for outcome in started:
            if isinstance(outcome, BaseException):
                raise outcome
        await asyncio.to_thread(stack.start)
        yield System(stack, meta, gemini, otlp, marketing, root / "cache", rabbitmq_url)
    finally:
        await asyncio.to_thread(stack.stop)
        await asyncio.to_thread(marketing.stop)
        await drop_database(database_url)
        await asyncio.to_thread(delete_vhost, rabbitmq_url)


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


async def staff_token(system: System) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=system.stack.url("gateway")) as http:
        response = await http.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def customer_for(system: System, psid: str) -> dict[str, Any] | None:
    """The customer the gateway holds for a Messenger PSID (through its API)."""
    headers = await staff_token(system)
    async with httpx.AsyncClient(base_url=system.stack.url("gateway"), headers=headers) as http:
        items = (await http.get("/api/v1/customers", params={"limit": 200})).json()["items"]
        for customer in items:
            if any(i["external_id"] == psid for i in customer["identities"]):
                one = await http.get(f"/api/v1/customers/{customer['customer_id']}")
                return {**one.json(), "served_from": one.headers["x-served-from"]}
    return None
