"""The whole system as processes, shared by every end-to-end test module (one stack per run)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import crm_ai
from crm_fakes import (
    FakeServer,
    GeminiState,
    MetaState,
    OtlpState,
    create_gemini_app,
    create_meta_app,
    create_otlp_app,
)
from crm_fakes.gemini import RecordedRequest
from crm_fakes.webhooks import sign
from crm_localrun import SERVICES, MarketingFake, Stack
from crm_localrun.ports import free_port
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database, eventually

PAGE_ID = "111222333444"
SAMPLE_KNOWLEDGE = Path(crm_ai.__file__).parent / "knowledge" / "sample" / "documents"
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
def sample_knowledge() -> bool:
    """Whether the system starts with the school's sample documents (the API fuzz run does not
    need them)."""
    return True


@pytest.fixture(scope="package")
async def system(
    fakes: tuple[FakeServer, FakeServer, FakeServer, MetaState, GeminiState, OtlpState],
    tmp_path_factory: pytest.TempPathFactory,
    system_env: dict[str, str],
    sample_knowledge: bool,
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
        # A conversation quiet for 3 s gets its insights (30 minutes in use), so tests see them.
        "AI_INSIGHTS_QUIET_MINUTES": "0.05",
        "AI_INSIGHTS_SWEEP_SECONDS": "1",
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
        system = System(stack, meta, gemini, otlp, marketing, root / "cache", rabbitmq_url)
        if sample_knowledge:
            await upload_knowledge(system, SAMPLE_KNOWLEDGE)
        yield system
    finally:
        await asyncio.to_thread(stack.stop)
        await asyncio.to_thread(marketing.stop)
        await drop_database(database_url)
        await asyncio.to_thread(delete_vhost, rabbitmq_url)


def read_folder(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


async def upload_knowledge(system: System, folder: Path | dict[str, bytes]) -> dict[str, str]:
    """Upload a folder of documents through the gateway as staff do, and wait until every one is
    indexed (the school's sample knowledge base goes in before any test, as it would be in use);
    their ids by file name."""
    files = folder if isinstance(folder, dict) else await asyncio.to_thread(read_folder, folder)
    ids: dict[str, str] = {}
    headers = await staff_token(system)
    async with httpx.AsyncClient(base_url=system.stack.url("gateway"), headers=headers, timeout=60) as http:
        for name, data in files.items():
            response = await http.post("/api/v1/knowledge/documents", files={"file": (name, data)})
            assert response.status_code in (200, 201), response.text
            ids[name] = response.json()["id"]

        async def all_ready() -> bool:
            listed = (await http.get("/api/v1/knowledge/documents")).json()
            mine = [d for d in listed if d["id"] in ids.values()]
            failed = [(d["source_name"], d["failure_reason"]) for d in mine if d["status"] == "failed"]
            assert not failed, failed
            return len(mine) == len(ids) and all(d["status"] == "ready" for d in mine)

        await eventually(all_ready, timeout=120, interval=0.25)
    return ids


def reply_requests(system: System, since: int = 0) -> list[RecordedRequest]:
    """The Gemini requests that composed a reply to a customer (their schema has an `answer`),
    not the insights the ai also asks for when a conversation goes quiet."""
    return [r for r in system.gemini.requests()[since:] if "answer" in _schema_fields(r.body)]


def _schema_fields(body: Any) -> set[str]:
    config = body.get("generationConfig") if isinstance(body, dict) else None
    schema = (
        (config.get("responseSchema") or config.get("responseJsonSchema"))
        if isinstance(config, dict)
        else None
    )
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return set(properties) if isinstance(properties, dict) else set()


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
