"""`/api/v1/conversations` and `/api/v1/messenger/quarantine`, against the REAL messenger internal
API served over HTTP on loopback (`messenger_served.py`) on the test database: what staff get is
what the messenger stored and decided, its refusals included (who may act on which conversation,
ADR 10: agents on their own or unassigned ones, `conversation:manage` on any)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from crm_gateway.auth import repository as staff_repository
from crm_gateway.auth import security
from crm_gateway.auth.domain import Role
from crm_gateway.config import GatewaySettings
from crm_servicekit import secrets_check
from crm_servicekit.migrations import upgrade
from crm_servicekit.runtime import Runtime
from crm_servicekit.settings import DEV_INTERNAL_TOKEN, ServiceSettings

from .conftest import INTERNAL_TOKEN
from .messenger_served import Front, Seeder, served_messenger

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
async def messenger_database(migrated_database_url: str) -> str:
    """The gateway's test database with the messenger's schema too."""
    url = ServiceSettings(database_url=migrated_database_url).async_database_url
    await asyncio.to_thread(upgrade, "crm_messenger", url)
    return url


@pytest.fixture(scope="module")
def served(messenger_database: str) -> Iterator[tuple[str, Front]]:
    with served_messenger(messenger_database, INTERNAL_TOKEN) as found:
        yield found


@pytest.fixture(scope="module")
def messenger_url(served: tuple[str, Front]) -> str:
    return served[0]


@pytest.fixture
def messenger(served: tuple[str, Front]) -> Front:
    """What the gateway asked the messenger during one test."""
    front = served[1]
    front.reset()
    return front


@pytest.fixture(scope="module")
async def seed(messenger_database: str) -> AsyncIterator[Seeder]:
    engine = create_async_engine(messenger_database, poolclass=NullPool)
    yield Seeder(engine)
    await engine.dispose()


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
def new_staff(client: httpx.AsyncClient, runtime: Runtime) -> Callable[[Role], Awaitable[Caller]]:
    """A new signed-in staff user of a role, made through the auth repository."""

    async def make(role: Role) -> Caller:
        email, password = f"{role.value}-{uuid.uuid4().hex[:8]}@vschool.example", "a staff password"
        password_hash = await asyncio.to_thread(security.hash_password, password)
        async with runtime.uow() as uow:
            await staff_repository.insert_if_absent(
                uow.session, email=email, password_hash=password_hash, role=role
            )
            await uow.commit()
        return await sign_in(client, email, password)

    return make


@pytest.fixture(scope="module")
async def agent(new_staff: Callable[[Role], Awaitable[Caller]]) -> Caller:
    return await new_staff(Role.AGENT)


@pytest.fixture(scope="module")
async def other_agent(new_staff: Callable[[Role], Awaitable[Caller]]) -> Caller:
    return await new_staff(Role.AGENT)


@pytest.fixture(scope="module")
async def manager(new_staff: Callable[[Role], Awaitable[Caller]]) -> Caller:
    return await new_staff(Role.MANAGER)


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    if slug is not None:
        assert body["type"] == PROBLEM + slug
    return body


async def read(client: httpx.AsyncClient, caller: Caller, conversation_id: str) -> dict[str, object]:
    """The conversation as staff read it now, from the messenger."""
    response = await client.get(f"/api/v1/conversations/{conversation_id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    conversation: dict[str, object] = response.json()["conversation"]
    return conversation


# --- the wall ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_needs_a_signed_in_staff_user(
    client: httpx.AsyncClient, messenger: Front, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"text": "hi", "staff_id": None})

    assert_problem(response, 401, "not-authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert messenger.calls == []


# --- list --------------------------------------------------------------------------------------


async def test_the_list_passes_filters_and_cursor_through_with_me_as_the_callers_id(
    client: httpx.AsyncClient,
    new_staff: Callable[[Role], Awaitable[Caller]],
    messenger: Front,
    seed: Seeder,
) -> None:
    me = await new_staff(Role.VIEWER)
    mine = [
        await seed.conversation(mode="human", needs_human=True, unread_count=n + 1, assigned_staff_id=me.id)
        for n in range(3)
    ]
    await seed.conversation(mode="human", needs_human=True, unread_count=1)  # nobody's
    await seed.conversation(mode="human", needs_human=True, assigned_staff_id=me.id)  # read
    filters = {"mode": "human", "assigned": "me", "unread": "true", "needs_human": "true"}

    first = await client.get("/api/v1/conversations", params={**filters, "limit": 2}, headers=me.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    second = await client.get(
        "/api/v1/conversations",
        params={**filters, "limit": 2, "cursor": page["next_cursor"]},
        headers=me.headers,
    )

    assert [c["id"] for c in page["items"] + second.json()["items"]] == mine[::-1]
    assert second.json()["next_cursor"] is None
    assert page["items"][0]["reply_window"]["can_reply"] is True
    assert page["items"][0]["assigned_staff_id"] == me.id
    sent = [c.params for c in messenger.calls]
    assert [p["assigned_staff_id"] for p in sent] == [me.id, me.id]
    assert {c.token for c in messenger.calls} == {INTERNAL_TOKEN}


@pytest.mark.parametrize("spelled", [str.lower, str.upper])
async def test_assigned_takes_a_staff_id_or_unassigned(
    client: httpx.AsyncClient, admin: Caller, messenger: Front, seed: Seeder, spelled: Callable[[str], str]
) -> None:
    someone = str(uuid.uuid4())
    theirs = await seed.conversation(assigned_staff_id=someone)
    nobodys = await seed.conversation()

    by_id = await client.get(
        "/api/v1/conversations", params={"assigned": spelled(someone)}, headers=admin.headers
    )
    unassigned = await client.get(
        "/api/v1/conversations", params={"assigned": "unassigned", "limit": 200}, headers=admin.headers
    )

    assert [c["id"] for c in by_id.json()["items"]] == [theirs]
    assert nobodys in [c["id"] for c in unassigned.json()["items"]]
    assert theirs not in [c["id"] for c in unassigned.json()["items"]]
    assert messenger.calls[0].params == {"limit": "50", "assigned_staff_id": someone}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"assigned": "someone"}, "assigned"), ({"mode": "robot"}, "mode"), ({"limit": "201"}, "limit")],
)
async def test_a_bad_filter_is_a_422_problem_and_the_messenger_is_not_asked(
    client: httpx.AsyncClient, admin: Caller, messenger: Front, params: dict[str, str], field: str
) -> None:
    response = await client.get("/api/v1/conversations", params=params, headers=admin.headers)

    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == [field]  # type: ignore[attr-defined]
    assert messenger.calls == []


# --- one conversation --------------------------------------------------------------------------


async def test_a_conversation_comes_with_its_messages_oldest_first_and_pages_back(
    client: httpx.AsyncClient, admin: Caller, seed: Seeder
) -> None:
    conversation = await seed.conversation(unread_count=3)
    texts = [f"message {i}" for i in range(5)]
    for text in texts:
        await seed.message(conversation, text)
    path = f"/api/v1/conversations/{conversation}"

    latest = await client.get(path, params={"messages_limit": 3}, headers=admin.headers)
    assert latest.status_code == 200, latest.text
    older = await client.get(
        path, params={"messages_limit": 3, "before": latest.json()["next_cursor"]}, headers=admin.headers
    )

    assert latest.json()["conversation"]["id"] == conversation
    assert latest.json()["conversation"]["unread_count"] == 3
    assert [m["text"] for m in latest.json()["messages"]] == texts[2:]
    assert [m["text"] for m in older.json()["messages"]] == texts[:2]
    assert older.json()["next_cursor"] is None


async def test_an_unknown_conversation_is_a_404_problem(
    client: httpx.AsyncClient, admin: Caller, messenger: Front
) -> None:
    bodies = {"assign": {"staff_id": None}, "messages": {"text": "hi"}}  # unknown fields are refused
    for method, path in ROUTES[1:6]:
        body = bodies.get(path.rsplit("/", 1)[-1])
        response = await client.request(method, path, json=body, headers=admin.headers)
        problem = assert_problem(response, 404, "conversation-not-found")
        assert SOME_ID in str(problem["detail"])
    assert len(messenger.calls) == 5


async def test_a_malformed_conversation_id_is_a_422_problem(
    client: httpx.AsyncClient, admin: Caller, messenger: Front
) -> None:
    response = await client.get("/api/v1/conversations/not-a-uuid", headers=admin.headers)

    assert_problem(response, 422, "validation-error")
    assert messenger.calls == []


# --- actions -----------------------------------------------------------------------------------


async def test_assign_to_a_staff_user_and_unassign(
    client: httpx.AsyncClient, admin: Caller, agent: Caller, seed: Seeder
) -> None:
    conversation = await seed.conversation()
    path = f"/api/v1/conversations/{conversation}/assign"

    assigned = await client.post(path, json={"staff_id": agent.id}, headers=admin.headers)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assigned_staff_id"] == agent.id
    assert (await read(client, agent, conversation))["assigned_staff_id"] == agent.id
    unassigned = await client.post(path, json={"staff_id": None}, headers=admin.headers)
    assert unassigned.json()["assigned_staff_id"] is None
    assert (await read(client, agent, conversation))["assigned_staff_id"] is None


@pytest.mark.parametrize("body", [{"staff_id": str(uuid.uuid4())}, {"staff_id": "nobody"}, {}])
async def test_assign_to_someone_who_is_not_staff_is_a_422_problem(
    client: httpx.AsyncClient, admin: Caller, messenger: Front, seed: Seeder, body: dict[str, str]
) -> None:
    conversation = await seed.conversation()

    response = await client.post(
        f"/api/v1/conversations/{conversation}/assign", json=body, headers=admin.headers
    )

    body_ = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body_["errors"]] == ["staff_id"]  # type: ignore[attr-defined]
    assert messenger.calls == []
    assert (await read(client, admin, conversation))["assigned_staff_id"] is None


async def test_handback_tells_the_messenger_who_handed_back(
    client: httpx.AsyncClient, agent: Caller, messenger: Front, seed: Seeder
) -> None:
    conversation = await seed.conversation(mode="human", needs_human=True, handover_reason="ai_handover")

    response = await client.post(f"/api/v1/conversations/{conversation}/handback", headers=agent.headers)

    assert response.status_code == 200, response.text
    assert response.json()["mode"] == "ai"
    assert response.json()["needs_human"] is False
    assert messenger.calls[0].body == {"staff_id": agent.id, "acts_on_any": False}


async def test_read_sets_the_unread_count_back_to_zero(
    client: httpx.AsyncClient, agent: Caller, seed: Seeder
) -> None:
    conversation = await seed.conversation(unread_count=4)

    response = await client.post(f"/api/v1/conversations/{conversation}/read", headers=agent.headers)

    assert response.status_code == 200, response.text
    assert response.json()["unread_count"] == 0
    assert (await read(client, agent, conversation))["unread_count"] == 0


# --- replies -----------------------------------------------------------------------------------


async def test_a_staff_reply_is_accepted_as_the_caller_once_per_idempotency_key(
    client: httpx.AsyncClient, agent: Caller, messenger: Front, seed: Seeder
) -> None:
    conversation = await seed.conversation()
    path = f"/api/v1/conversations/{conversation}/messages"
    text = "ยังว่างค่ะ เรียนทุกวันเสาร์ค่ะ"
    headers = {**agent.headers, "Idempotency-Key": "reply-7f3a"}

    first = await client.post(path, json={"text": text}, headers=headers)
    again = await client.post(path, json={"text": text}, headers=headers)

    assert first.status_code == 202, first.text
    message = first.json()["message"]
    assert (message["text"], message["sent_by"], message["staff_id"]) == (text, "staff", agent.id)
    assert message["status"] == "pending"
    assert again.status_code == 202
    assert again.json()["message"]["id"] == message["id"]
    assert [c.body for c in messenger.calls] == 2 * [
        {"text": text, "staff_id": agent.id, "idempotency_key": "reply-7f3a", "acts_on_any": False}
    ]
    thread = await client.get(path.removesuffix("/messages"), headers=agent.headers)
    assert [m["text"] for m in thread.json()["messages"]] == [text]
    # The first to answer an unassigned conversation has it from now on; staff answer it now.
    assert (thread.json()["conversation"]["assigned_staff_id"], thread.json()["conversation"]["mode"]) == (
        agent.id,
        "human",
    )


async def test_a_reply_without_an_idempotency_key_sends_null(
    client: httpx.AsyncClient, agent: Caller, messenger: Front, seed: Seeder
) -> None:
    conversation = await seed.conversation()

    response = await client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "hi"}, headers=agent.headers
    )

    assert response.status_code == 202, response.text
    assert messenger.calls[0].body == {
        "text": "hi",
        "staff_id": agent.id,
        "idempotency_key": None,
        "acts_on_any": False,
    }


@pytest.mark.parametrize("body", [{"text": ""}, {"text": " \n\t "}, {"text": "x" * 8001}, {}])
async def test_an_empty_blank_or_too_long_reply_is_a_422_problem(
    client: httpx.AsyncClient, agent: Caller, messenger: Front, body: dict[str, str]
) -> None:
    response = await client.post(
        f"/api/v1/conversations/{SOME_ID}/messages", json=body, headers=agent.headers
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["text"]  # type: ignore[attr-defined]
    assert messenger.calls == []


async def test_a_reply_the_messenger_refuses_is_a_409_problem_with_its_reason(
    client: httpx.AsyncClient, agent: Caller, seed: Seeder
) -> None:
    conversation = await seed.conversation(customer_wrote=timedelta(days=8))

    response = await client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "hi"}, headers=agent.headers
    )

    body = assert_problem(response, 409, "conversation-conflict")
    assert str(body["detail"]).startswith("This reply cannot be sent: ")
    assert "7 days" in str(body["detail"])
    thread = await client.get(f"/api/v1/conversations/{conversation}", headers=agent.headers)
    assert thread.json()["messages"] == []


async def test_a_422_of_the_messenger_is_a_422_problem(
    client: httpx.AsyncClient, agent: Caller, messenger: Front, seed: Seeder
) -> None:
    conversation = await seed.conversation()
    messenger.answer_with.append((422, {"detail": "The text has characters Messenger cannot send."}))

    response = await client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "hi"}, headers=agent.headers
    )

    body = assert_problem(response, 422, "messenger-rejected")
    assert body["detail"] == "The text has characters Messenger cannot send."


# --- who may act on which conversation (ADR 10) -------------------------------------------------


ACTIONS: list[tuple[str, str, dict[str, object] | None]] = [
    ("reply", "messages", {"text": "สวัสดีค่ะ"}),
    ("hand back", "handback", None),
    ("take", "assign", {"staff_id": "{me}"}),
]


@pytest.mark.parametrize(("action", "route", "body"), ACTIONS, ids=[a[0] for a in ACTIONS])
async def test_an_agent_cannot_act_on_another_agents_conversation(
    client: httpx.AsyncClient,
    agent: Caller,
    other_agent: Caller,
    seed: Seeder,
    action: str,
    route: str,
    body: dict[str, object] | None,
) -> None:
    conversation = await seed.conversation(
        assigned_staff_id=other_agent.id, mode="human", needs_human=True, handover_reason="ai_handover"
    )
    json = {k: agent.id if v == "{me}" else v for k, v in body.items()} if body else None

    response = await client.post(
        f"/api/v1/conversations/{conversation}/{route}", json=json, headers=agent.headers
    )

    problem = assert_problem(response, 403, "conversation-forbidden")
    assert "assigned to another staff member" in str(problem["detail"])
    after = await client.get(f"/api/v1/conversations/{conversation}", headers=agent.headers)
    assert after.json()["messages"] == []
    assert after.json()["conversation"]["assigned_staff_id"] == other_agent.id
    assert after.json()["conversation"]["mode"] == "human"


async def test_an_agent_cannot_reassign_a_conversation_to_someone_else(
    client: httpx.AsyncClient, agent: Caller, other_agent: Caller, seed: Seeder
) -> None:
    mine = await seed.conversation(assigned_staff_id=agent.id)
    nobodys = await seed.conversation()

    for conversation in (mine, nobodys):
        response = await client.post(
            f"/api/v1/conversations/{conversation}/assign",
            json={"staff_id": other_agent.id},
            headers=agent.headers,
        )
        problem = assert_problem(response, 403, "conversation-forbidden")
        assert "Only a manager may assign a conversation to someone else" in str(problem["detail"])
    assert (await read(client, agent, mine))["assigned_staff_id"] == agent.id
    assert (await read(client, agent, nobodys))["assigned_staff_id"] is None


async def test_an_agent_takes_an_unassigned_conversation_and_releases_their_own(
    client: httpx.AsyncClient, agent: Caller, other_agent: Caller, seed: Seeder
) -> None:
    conversation = await seed.conversation()
    path = f"/api/v1/conversations/{conversation}/assign"

    taken = await client.post(path, json={"staff_id": agent.id}, headers=agent.headers)
    stolen = await client.post(path, json={"staff_id": other_agent.id}, headers=other_agent.headers)
    released = await client.post(path, json={"staff_id": None}, headers=agent.headers)

    assert taken.status_code == 200, taken.text
    assert taken.json()["assigned_staff_id"] == agent.id
    assert_problem(stolen, 403, "conversation-forbidden")
    assert released.status_code == 200, released.text
    assert (await read(client, agent, conversation))["assigned_staff_id"] is None


async def test_a_manager_acts_on_any_conversation_and_reassigns_it(
    client: httpx.AsyncClient, manager: Caller, agent: Caller, other_agent: Caller, seed: Seeder
) -> None:
    conversation = await seed.conversation(assigned_staff_id=other_agent.id, mode="human", needs_human=True)
    path = f"/api/v1/conversations/{conversation}"

    replied = await client.post(f"{path}/messages", json={"text": "ผู้จัดการตอบค่ะ"}, headers=manager.headers)
    handed_back = await client.post(f"{path}/handback", headers=manager.headers)
    reassigned = await client.post(f"{path}/assign", json={"staff_id": agent.id}, headers=manager.headers)

    assert replied.status_code == 202, replied.text
    assert replied.json()["message"]["staff_id"] == manager.id
    assert handed_back.status_code == 200, handed_back.text
    assert handed_back.json()["mode"] == "ai"
    assert handed_back.json()["assigned_staff_id"] == other_agent.id  # a manager stepping in keeps it theirs
    assert reassigned.status_code == 200, reassigned.text
    assert (await read(client, agent, conversation))["assigned_staff_id"] == agent.id
    # The new assignee acts on it now; the one it was taken from no longer does.
    mine = await client.post(f"{path}/messages", json={"text": "รับเรื่องค่ะ"}, headers=agent.headers)
    not_theirs = await client.post(f"{path}/messages", json={"text": "hi"}, headers=other_agent.headers)
    assert mine.status_code == 202, mine.text
    assert_problem(not_theirs, 403, "conversation-forbidden")


# --- the messenger failing ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_messenger_that_answers_with_an_error_is_a_502_problem(
    client: httpx.AsyncClient, agent: Caller, messenger: Front, status: int
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
    client: httpx.AsyncClient, agent: Caller, messenger: Front
) -> None:
    messenger.answer_with.append((503, {"detail": "no healthy upstream"}))

    response = await client.get("/api/v1/conversations", headers=agent.headers)

    body = assert_problem(response, 503, "messenger-unavailable")
    assert body["detail"] == "Messenger is unavailable, try again shortly."
    assert response.headers["retry-after"] == "5"


async def test_an_answer_the_gateway_cannot_read_is_a_502_problem(
    client: httpx.AsyncClient, agent: Caller, messenger: Front
) -> None:
    messenger.answer_with.append((200, {"items": [{"id": "not a conversation"}]}))

    response = await client.get("/api/v1/conversations", headers=agent.headers)

    assert_problem(response, 502, "service-failed")


async def test_a_token_the_messenger_refuses_is_a_502_problem_not_a_401(
    client: httpx.AsyncClient, agent: Caller, messenger: Front, seed: Seeder
) -> None:
    conversation = await seed.conversation()
    messenger.token_seen = "rotated-on-the-messenger-only"

    listed = await client.get("/api/v1/conversations", headers=agent.headers)
    replied = await client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "hi"}, headers=agent.headers
    )

    assert_problem(listed, 502, "service-failed")
    assert_problem(replied, 502, "service-failed")
    assert messenger.calls[0].token == INTERNAL_TOKEN


# --- quarantine ---------------------------------------------------------------------------------


async def test_the_quarantine_is_for_admins_only(
    client: httpx.AsyncClient, admin: Caller, agent: Caller, messenger: Front, seed: Seeder
) -> None:
    item_id = await seed.quarantined("unparseable", "not JSON", {"raw": "{oops"})

    forbidden = await client.get("/api/v1/messenger/quarantine", headers=agent.headers)
    allowed = await client.get("/api/v1/messenger/quarantine", params={"limit": 5}, headers=admin.headers)

    assert_problem(forbidden, 403, "forbidden")
    assert allowed.status_code == 200, allowed.text
    [item] = [i for i in allowed.json()["items"] if i["id"] == item_id]
    assert (item["kind"], item["reason"], item["payload"], item["page_id"]) == (
        "unparseable",
        "not JSON",
        {"raw": "{oops"},
        None,
    )
    assert [c.params for c in messenger.calls] == [{"limit": "5"}]


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
    assert "a-long-random-shared-token" not in repr(settings)


def test_the_development_internal_token_is_the_default_and_is_refused_outside_local_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CRM_INTERNAL_TOKEN", raising=False)
    monkeypatch.delenv("MESSENGER_INTERNAL_URL", raising=False)
    default = GatewaySettings(_env_file=None)

    assert default.messenger_internal_url == "http://127.0.0.1:8101"
    assert default.crm_internal_token.get_secret_value() == DEV_INTERNAL_TOKEN
    [problem] = [p for p in secrets_check.problems(default.secrets()) if "CRM_INTERNAL_TOKEN" in p]
    assert DEV_INTERNAL_TOKEN not in problem
