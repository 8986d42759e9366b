"""From outside, the internal doors are not there (ADR 17). The messenger and the gateway run as
processes (the local runner's Stack, as a deployer runs them: `python -m crm_<service>`, in
production mode, with generated secrets). On their public ports no internal route answers,
whatever token is sent (the right one included), and neither do `/metrics`, `/docs` or
`/openapi.json`; the same calls work on the internal ports, and the gateway reaches the
messenger's internal API there."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from crm_localrun import Stack
from crm_localrun.ports import free_port
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database

pytestmark = pytest.mark.integration

TOKEN = secrets.token_urlsafe(48)
ADMIN = ("admin@vschool.test", secrets.token_urlsafe(24))
EXPORT = {"identities": [{"channel": "messenger", "page_id": "1", "external_id": "1234"}]}
CONVERSATION = "00000000-0000-0000-0000-000000000001"
# Every route of the messenger's internal API: list and read conversations, act as staff on one,
# the quarantine and the PDPA export.
MESSENGER_INTERNAL = [
    ("GET", "/internal/v1/conversations", None),
    ("GET", f"/internal/v1/conversations/{CONVERSATION}", None),
    ("POST", f"/internal/v1/conversations/{CONVERSATION}/messages", {"text": "hello from outside"}),
    ("POST", f"/internal/v1/conversations/{CONVERSATION}/assign", {"staff_id": 1}),
    ("POST", f"/internal/v1/conversations/{CONVERSATION}/handback", {}),
    ("POST", f"/internal/v1/conversations/{CONVERSATION}/read", {}),
    ("GET", "/internal/v1/quarantine", None),
    ("POST", "/internal/v1/pdpa/export", EXPORT),
]
NEVER_PUBLIC = ["/metrics", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"]
TOKENS: dict[str, dict[bytes, bytes]] = {
    "none": {},
    "wrong": {b"X-Internal-Token": b"not-the-token"},
    "right": {b"X-Internal-Token": TOKEN.encode()},
    "non-ascii": {b"X-Internal-Token": "โทเค็น".encode()},
}


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    root = tmp_path_factory.mktemp("doors")
    database_url = await create_database("crm_doors")
    rabbitmq_url = await asyncio.to_thread(create_vhost, "crm-doors")
    env = {
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "CRM_CACHE_DIR": str(root / "cache"),
        "CRM_INTERNAL_TOKEN": TOKEN,
        "CRM_JWT_SECRET": secrets.token_urlsafe(48),
        "CRM_ADMIN_EMAIL": ADMIN[0],
        "CRM_ADMIN_PASSWORD": ADMIN[1],
        "META_APP_SECRET": secrets.token_hex(32),
        "META_VERIFY_TOKEN": secrets.token_urlsafe(32),
        "META_PAGE_ACCESS_TOKEN": secrets.token_urlsafe(48),
        # Nothing leaves the machine: Meta is not called, spans are exported nowhere.
        "META_GRAPH_API_URL": f"http://127.0.0.1:{free_port()}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
    }
    stack = Stack(
        env=env,
        ports={"messenger": free_port(), "gateway": free_port()},
        log_dir=root / "logs",
        say=lambda _: None,
    )
    try:
        await asyncio.to_thread(stack.migrate)
        await asyncio.to_thread(stack.start)
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)
        await drop_database(database_url)
        await asyncio.to_thread(delete_vhost, rabbitmq_url)


async def call(
    base: str, method: str, path: str, body: object, headers: dict[bytes, bytes]
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as http:
        return await http.request(method, path, json=body, headers=headers)


async def test_no_internal_route_answers_on_the_messengers_public_port_whatever_the_token(
    stack: Stack,
) -> None:
    public = stack.url("messenger")
    for method, path, body in MESSENGER_INTERNAL:
        for name, headers in TOKENS.items():
            response = await call(public, method, path, body, headers)
            assert response.status_code == 404, (method, path, name, response.text)
            assert response.json() == {"detail": "Not Found"}


async def test_metrics_and_the_api_documents_are_not_on_any_public_port(stack: Stack) -> None:
    for service in ("messenger", "gateway"):
        for path in NEVER_PUBLIC:
            for method in ("GET", "HEAD"):
                response = await call(stack.url(service), method, path, None, TOKENS["right"])
                assert response.status_code == 404, (service, method, path)
                assert "crm_" not in response.text
                assert "openapi" not in response.text


async def test_the_public_ports_still_serve_their_public_routes(stack: Stack) -> None:
    for service in ("messenger", "gateway"):
        for probe in ("/healthz", "/readyz"):
            assert (await call(stack.url(service), "GET", probe, None, {})).status_code == 200
    handshake = await call(
        stack.url("messenger"),
        "GET",
        f"/webhooks/meta?hub.mode=subscribe&hub.verify_token={stack.env['META_VERIFY_TOKEN']}"
        "&hub.challenge=1158201444",
        None,
        {},
    )
    assert (handshake.status_code, handshake.text) == (200, "1158201444")
    unsigned = await call(stack.url("messenger"), "POST", "/webhooks/meta", {"object": "page"}, {})
    assert unsigned.status_code == 403


HOSTILE_HEADERS: dict[str, dict[bytes, bytes]] = {
    "non-ascii bearer": {b"Authorization": "Bearer โทเค็น".encode()},
    "latin-1 bearer": {b"Authorization": b"Bearer \xe9\xff"},
    "non-ascii signature": {b"X-Hub-Signature-256": "sha256=é".encode()},
    "64 KB bearer": {b"Authorization": b"Bearer " + b"a" * 65536},
    "64 KB signature": {b"X-Hub-Signature-256": b"sha256=" + b"0" * 65536},
    "a thousand headers": {f"X-Junk-{i}".encode(): b"x" for i in range(1000)},
}


async def test_hostile_and_oversized_headers_get_4xx_never_5xx_from_the_real_servers(stack: Stack) -> None:
    targets = [
        ("gateway", "GET", "/api/v1/customers", None),
        ("gateway", "POST", "/api/v1/auth/token", None),
        ("messenger", "POST", "/webhooks/meta", {"object": "page", "entry": []}),
    ]
    answered: dict[str, int] = {}
    for service, method, path, body in targets:
        for name, headers in HOSTILE_HEADERS.items():
            try:
                response = await call(stack.url(service), method, path, body, headers)
            except httpx.RemoteProtocolError:
                continue  # the server closed the connection on headers past its limit: no answer, no harm
            assert 400 <= response.status_code < 500, (service, path, name, response.status_code)
            answered[name] = response.status_code
        # Still serving afterwards.
        assert (await call(stack.url(service), "GET", "/healthz", None, {})).status_code == 200
    # The non-ASCII ones reach the application and are refused there (401/403), not cut off.
    assert {"non-ascii bearer", "latin-1 bearer", "non-ascii signature"} <= set(answered), answered


async def test_the_same_calls_work_on_the_internal_port(stack: Stack) -> None:
    internal = stack.internal_url("messenger")
    listed = await call(internal, "GET", "/internal/v1/conversations", None, TOKENS["right"])
    assert listed.status_code == 200
    exported = await call(internal, "POST", "/internal/v1/pdpa/export", EXPORT, TOKENS["right"])
    assert exported.status_code == 200
    # The internal door still asks for the token.
    for name in ("none", "wrong", "non-ascii"):
        refused = await call(internal, "GET", "/internal/v1/conversations", None, TOKENS[name])
        assert refused.status_code == 401, name
    for service in ("messenger", "gateway"):
        metrics = await call(stack.internal_url(service), "GET", "/metrics", None, {})
        assert metrics.status_code == 200
        assert "process_cpu_seconds_total" in metrics.text
        document = await call(stack.internal_url(service), "GET", "/openapi.json", None, {})
        assert document.status_code == 200
    paths = (await call(internal, "GET", "/openapi.json", None, {})).json()["paths"]
    assert "/internal/v1/conversations" in paths


async def test_staff_reach_conversations_through_the_gateway_which_uses_the_internal_port(
    stack: Stack,
) -> None:
    gateway = stack.url("gateway")
    async with httpx.AsyncClient(base_url=gateway, timeout=10.0) as http:
        signed_in = await http.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        assert signed_in.status_code == 200, signed_in.text
        auth = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        conversations = await http.get("/api/v1/conversations", headers=auth)
    assert conversations.status_code == 200, conversations.text


def test_the_logs_hold_no_internal_token(stack: Stack) -> None:
    assert all(TOKEN not in log for log in stack.logs().values())
