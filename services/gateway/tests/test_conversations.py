"""`/api/v1/conversations` and `/api/v1/messenger/quarantine`, against a fake of the messenger's
internal API served over real HTTP on loopback (`messenger_fake.py`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from structlog.testing import capture_logs

from crm_fakes import FakeServer
from crm_gateway.app import check_internal_token
from crm_gateway.auth import repository as staff_repository
from crm_gateway.auth import security
from crm_gateway.auth.domain import Role
from crm_gateway.config import DEV_INTERNAL_TOKEN, GatewaySettings
from crm_servicekit.runtime import Runtime

from .conftest import INTERNAL_TOKEN
from .messenger_fake import WINDOW_CLOSED, MessengerState, create_messenger_app

pytestmark = pytest.mark.integration

PROBLEM = "urn:vschool-crm:problem:"
SOME_ID = "0b8f5a52-2c1e-4c55-9a3e-5d8f0e7b2a10"
ROUTES = [
    ("GET", "/api/v1/conversations"),
    ("GET", f"/api/v1/conversations/{SOME_ID}"),
    ("POST", f"/api/v1/conversations/{SOME_ID}/assign"),
    ("POST", f"/api/v1/conversations/{SOME_ID}/handback"),
    ("POST", f"/api/v1/conversations/{SOME_ID}/read"),
    ("POST", f"/api/v1/conversations/{SOME_ID}/messages"),
    ("GET", "/api/v1/messenger/quarantine"),
]


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, MessengerState]]:
    state = MessengerState(token=INTERNAL_TOKEN)
    with FakeServer(create_messenger_app(state)) as server:
        yield server.url, state


@pytest.fixture(scope="module")
def messenger_url(fake: tuple[str, MessengerState]) -> str:
    return fake[0]


@pytest.fixture
def messenger(fake: tuple[str, MessengerState]) -> MessengerState:
    state = fake[1]
    state.reset()
    return state


@dataclass(frozen=True)
class Caller:
    id: str
    headers: dict[str, str]


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> Caller:
    token = await client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = await client.get("/api/v1/auth/me", headers=headers)
    return Caller(id=me.json()["id"], headers=headers)


@pytest.fixture(scope="module")
async def admin(client: httpx.AsyncClient, auth: dict[str, str]) -> Caller:
    me = await client.get("/api/v1/auth/me", headers=auth)
    return Caller(id=me.json()["id"], headers=auth)


@pytest.fixture(scope="module")
async def agent(client: httpx.AsyncClient, runtime: Runtime) -> Caller:
    """A signed-in staff user who is not an admin, made through the auth repository."""
    email, password = "agent@vschool.example", "an agent's password"
    password_hash = await asyncio.to_thread(security.hash_password, password)
    async with runtime.uow() as uow:
        await staff_repository.insert_if_absent(
            uow.session, email=email, password_hash=password_hash, role=Role.AGENT
        )
        await uow.commit()
    return await sign_in(client, email, password)


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    if slug is not None:
        assert body["type"] == PROBLEM + slug
    return body


# --- the wall ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_needs_a_signed_in_staff_user(
    client: httpx.AsyncClient, messenger: MessengerState, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"text": "hi", "staff_id": None})

    assert_problem(response, 401, "not-authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert messenger.calls() == []


# --- list --------------------------------------------------------------------------------------


async def test_the_list_passes_filters_and_cursor_through_with_me_as_the_callers_id(
    client: httpx.AsyncClient, admin: Caller, messenger: MessengerState
) -> None:
    mine = [
        messenger.add_conversation(
            n, mode="human", needs_human=True, unread_count=n + 1, assigned_staff_id=admin.id
        )
        for n in range(3)
    ]
    messenger.add_conversation(10, mode="human", needs_human=True, unread_count=1)  # nobody's
    filters = {"mode": "human", "assigned": "me", "unread": "true", "needs_human": "true"}

    first = await client.get("/api/v1/conversations", params={**filters, "limit": 2}, headers=admin.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    second = await client.get(
        "/api/v1/conversations",
        params={**filters, "limit": 2, "cursor": page["next_cursor"]},
        headers=admin.headers,
    )

    assert [c["id"] for c in page["items"] + second.json()["items"]] == [c["id"] for c in mine]
    assert second.json()["next_cursor"] is None
    assert page["items"][0]["reply_window"]["can_reply"] is True
    assert "some_future_field" not in page["items"][0]
    sent = messenger.calls("/conversations")
    assert [r.params for r in sent] == [
        {
            "limit": "2",
            "mode": "human",
            "assigned_staff_id": admin.id,
            "unread": "true",
            "needs_human": "true",
        },
        {
            "limit": "2",
            "cursor": page["next_cursor"],
            "mode": "human",
            "assigned_staff_id": admin.id,
            "unread": "true",
            "needs_human": "true",
        },
    ]
    assert {r.token for r in sent} == {INTERNAL_TOKEN}


@pytest.mark.parametrize(
    ("assigned", "sent"), [("unassigned", "unassigned"), (SOME_ID, SOME_ID), (SOME_ID.upper(), SOME_ID)]
)
async def test_assigned_takes_a_staff_id_or_unassigned(
    client: httpx.AsyncClient, admin: Caller, messenger: MessengerState, assigned: str, sent: str
) -> None:
    response = await client.get("/api/v1/conversations", params={"assigned": assigned}, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert messenger.calls()[0].params == {"limit": "50", "assigned_staff_id": sent}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"assigned": "someone"}, "assigned"), ({"mode": "robot"}, "mode"), ({"limit": "201"}, "limit")],
)
async def test_a_bad_filter_is_a_422_problem_and_the_messenger_is_not_asked(
    client: httpx.AsyncClient, admin: Caller, messenger: MessengerState, params: dict[str, str], field: str
) -> None:
    response = await client.get("/api/v1/conversations", params=params, headers=admin.headers)

    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == [field]  # type: ignore[attr-defined]
    assert messenger.calls() == []


# --- one conversation --------------------------------------------------------------------------


async def test_a_conversation_comes_with_its_messages_oldest_first_and_pages_back(
    client: httpx.AsyncClient, admin: Caller, messenger: MessengerState
) -> None:
    conversation = messenger.add_conversation(unread_count=3)
    texts = [f"message {i}" for i in range(5)]
    for text in texts:
        messenger.add_message(conversation["id"], text)
    path = f"/api/v1/conversations/{conversation['id']}"

    latest = await client.get(path, params={"messages_limit": 3}, headers=admin.headers)
    assert latest.status_code == 200, latest.text
    older = await client.get(
        path, params={"messages_limit": 3, "before": latest.json()["next_cursor"]}, headers=admin.headers
    )

    assert latest.json()["conversation"]["id"] == conversation["id"]
    assert [m["text"] for m in latest.json()["messages"]] == texts[2:]
    assert [m["text"] for m in older.json()["messages"]] == texts[:2]
    assert older.json()["next_cursor"] is None
    assert messenger.calls()[1].params == {"messages_limit": "3", "before": latest.json()["next_cursor"]}


async def test_an_unknown_conversation_is_a_404_problem(
    client: httpx.AsyncClient, admin: Caller, messenger: MessengerState
) -> None:
    bodies = {"assign": {"staff_id": None}, "messages": {"text": "hi"}}  # unknown fields are refused
    for method, path in ROUTES[1:6]:
        body = bodies.get(path.rsplit("/", 1)[-1])
        response = await client.request(method, path, json=body, headers=admin.headers)
        problem = assert_problem(response, 404, "conversation-not-found")
        assert SOME_ID in str(problem["detail"])


async def test_a_malformed_conversation_id_is_a_422_problem(
    client: httpx.AsyncClient, admin: Caller, messenger: MessengerState
) -> None:
    response = await client.get("/api/v1/conversations/not-a-uuid", headers=admin.headers)

    assert_problem(response, 422, "validation-error")
    assert messenger.calls() == []


# --- actions -----------------------------------------------------------------------------------


async def test_assign_to_a_staff_user_and_unassign(
    client: httpx.AsyncClient, admin: Caller, agent: Caller, messenger: MessengerState
) -> None:
    conversation = messenger.add_conversation()
    path = f"/api/v1/conversations/{conversation['id']}/assign"

    assigned = await client.post(path, json={"staff_id": agent.id}, headers=admin.headers)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assigned_staff_id"] == agent.id
    unassigned = await client.post(path, json={"staff_id": None}, headers=admin.headers)
    assert unassigned.json()["assigned_staff_id"] is None

    assert [r.body for r in messenger.calls()] == [{"staff_id": agent.id}, {"staff_id": None}]


@pytest.mark.parametrize("body", [{"staff_id": str(uuid.uuid4())}, {"staff_id": "nobody"}, {}])
async def test_assign_to_someone_who_is_not_staff_is_a_422_problem(
    client: httpx.AsyncClient, admin: Caller, messenger: MessengerState, body: dict[str, str]
) -> None:
    conversation = messenger.add_conversation()

    response = await client.post(
        f"/api/v1/conversations/{conversation['id']}/assign", json=body, headers=admin.headers
    )

    body_ = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body_["errors"]] == ["staff_id"]  # type: ignore[attr-defined]
    assert messenger.calls() == []


async def test_handback_tells_the_messenger_who_handed_back(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState
) -> None:
    conversation = messenger.add_conversation(mode="human", needs_human=True, handover_reason="ai_handover")

    response = await client.post(
        f"/api/v1/conversations/{conversation['id']}/handback", headers=agent.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["mode"] == "ai"
    assert response.json()["needs_human"] is False
    assert messenger.calls()[0].body == {"staff_id": agent.id}


async def test_read_sets_the_unread_count_back_to_zero(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState
) -> None:
    conversation = messenger.add_conversation(unread_count=4)

    response = await client.post(f"/api/v1/conversations/{conversation['id']}/read", headers=agent.headers)

    assert response.status_code == 200, response.text
    assert response.json()["unread_count"] == 0


# --- replies -----------------------------------------------------------------------------------


async def test_a_staff_reply_is_accepted_as_the_caller_once_per_idempotency_key(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState
) -> None:
    conversation = messenger.add_conversation()
    path = f"/api/v1/conversations/{conversation['id']}/messages"
    text = "ยังว่างค่ะ เรียนทุกวันเสาร์ค่ะ"
    headers = {**agent.headers, "Idempotency-Key": "reply-7f3a"}

    first = await client.post(path, json={"text": text}, headers=headers)
    again = await client.post(path, json={"text": text}, headers=headers)

    assert first.status_code == 202, first.text
    message = first.json()["message"]
    assert message["text"] == text
    assert message["sent_by"] == "staff"
    assert message["staff_id"] == agent.id
    assert again.status_code == 202
    assert again.json()["message"]["id"] == message["id"]
    assert [r.body for r in messenger.calls()] == 2 * [
        {"text": text, "staff_id": agent.id, "idempotency_key": "reply-7f3a"}
    ]
    assert len(messenger.messages[conversation["id"]]) == 1


async def test_a_reply_without_an_idempotency_key_sends_null(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState
) -> None:
    conversation = messenger.add_conversation()

    response = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "hi"}, headers=agent.headers
    )

    assert response.status_code == 202, response.text
    assert messenger.calls()[0].body == {"text": "hi", "staff_id": agent.id, "idempotency_key": None}


@pytest.mark.parametrize("body", [{"text": ""}, {"text": " \n\t "}, {"text": "x" * 8001}, {}])
async def test_an_empty_blank_or_too_long_reply_is_a_422_problem(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState, body: dict[str, str]
) -> None:
    response = await client.post(
        f"/api/v1/conversations/{SOME_ID}/messages", json=body, headers=agent.headers
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["text"]  # type: ignore[attr-defined]
    assert messenger.calls() == []


async def test_a_reply_the_messenger_refuses_is_a_409_problem_with_its_reason(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState
) -> None:
    closed = {"can_reply": False, "messaging_type": None, "tag": None, "closes_at": None}
    conversation = messenger.add_conversation(reply_window=closed)

    response = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "hi"}, headers=agent.headers
    )

    body = assert_problem(response, 409, "conversation-conflict")
    assert body["detail"] == WINDOW_CLOSED


async def test_a_422_of_the_messenger_is_a_422_problem(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState
) -> None:
    conversation = messenger.add_conversation()
    messenger.answer_with.append((422, {"detail": "The text has characters Messenger cannot send."}))

    response = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "hi"}, headers=agent.headers
    )

    body = assert_problem(response, 422, "messenger-rejected")
    assert body["detail"] == "The text has characters Messenger cannot send."


# --- the messenger failing ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_messenger_that_answers_with_an_error_is_a_502_problem(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState, status: int
) -> None:
    messenger.answer_with.append((status, {"detail": "database is down"}))

    response = await client.get("/api/v1/conversations", headers=agent.headers)

    body = assert_problem(response, 502, "service-failed")
    assert body["detail"] == (
        "The messenger service failed to answer this request; try again, and tell an administrator "
        "if it keeps failing."
    )
    assert "database" not in response.text


async def test_a_messenger_with_no_instance_ready_is_a_503_problem(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState
) -> None:
    messenger.answer_with.append((503, {"detail": "no healthy upstream"}))

    response = await client.get("/api/v1/conversations", headers=agent.headers)

    body = assert_problem(response, 503, "messenger-unavailable")
    assert body["detail"] == "Messenger is unavailable, try again shortly."
    assert response.headers["retry-after"] == "5"


async def test_an_answer_the_gateway_cannot_read_is_a_502_problem(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState
) -> None:
    messenger.answer_with.append((200, {"items": [{"id": "not a conversation"}]}))

    response = await client.get("/api/v1/conversations", headers=agent.headers)

    assert_problem(response, 502, "service-failed")


async def test_a_token_the_messenger_refuses_is_a_502_problem_not_a_401(
    client: httpx.AsyncClient, agent: Caller, messenger: MessengerState
) -> None:
    messenger.token = "rotated-on-the-messenger-only"
    try:
        response = await client.get("/api/v1/conversations", headers=agent.headers)
    finally:
        messenger.token = INTERNAL_TOKEN

    assert_problem(response, 502, "service-failed")
    assert messenger.calls()[0].token == INTERNAL_TOKEN


# --- quarantine ---------------------------------------------------------------------------------


async def test_the_quarantine_is_for_admins_only(
    client: httpx.AsyncClient, admin: Caller, agent: Caller, messenger: MessengerState
) -> None:
    item = {
        "id": 7,
        "received_at": "2026-05-01T03:00:00+00:00",
        "page_id": None,
        "kind": "unparseable",
        "reason": "not JSON",
        "payload": {"raw": "{oops"},
    }
    messenger.quarantined.append(item)

    forbidden = await client.get("/api/v1/messenger/quarantine", headers=agent.headers)
    allowed = await client.get("/api/v1/messenger/quarantine", params={"limit": 5}, headers=admin.headers)

    assert_problem(forbidden, 403, "forbidden")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json() == {"items": [{**item, "received_at": "2026-05-01T03:00:00Z"}]}
    assert [r.params for r in messenger.calls()] == [{"limit": "5"}]


async def test_the_openapi_document_shows_examples(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]

    for name in ("Conversation", "Message", "ReplyIn", "AssignIn", "ConversationPage", "QuarantinedItem"):
        assert schemas[name]["examples"], name


# --- configuration -----------------------------------------------------------------------------


def test_the_messenger_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESSENGER_INTERNAL_URL", "http://messenger:8001")
    monkeypatch.setenv("CRM_INTERNAL_TOKEN", "a-long-random-shared-token")
    settings = GatewaySettings(_env_file=None)

    assert settings.messenger_internal_url == "http://messenger:8001"
    assert settings.crm_internal_token.get_secret_value() == "a-long-random-shared-token"
    assert not settings.uses_dev_internal_token
    assert "a-long-random-shared-token" not in repr(settings)
    with capture_logs() as logs:
        check_internal_token(settings)
    assert logs == []


def test_the_development_internal_token_is_the_default_and_is_warned_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CRM_INTERNAL_TOKEN", raising=False)
    monkeypatch.delenv("MESSENGER_INTERNAL_URL", raising=False)
    default = GatewaySettings(_env_file=None)

    assert default.messenger_internal_url == "http://127.0.0.1:8001"
    assert default.crm_internal_token.get_secret_value() == DEV_INTERNAL_TOKEN
    with capture_logs() as logs:
        check_internal_token(default)
    assert [entry["log_level"] for entry in logs] == ["warning"]
    assert DEV_INTERNAL_TOKEN not in repr(logs)
