"""Staff administration by admins: accounts, roles, deactivation and new passwords, each with
its audit entry; a role change or a deactivation counts from the staff user's next request."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select, update

from crm_gateway.audit.models import audit_log
from crm_gateway.auth.models import staff_users
from crm_servicekit.runtime import Runtime

from .test_auth import ADMIN_EMAIL, assert_unauthorized, login

pytestmark = pytest.mark.integration

STAFF = "/api/v1/staff"
FIRST_PASSWORD = "a first passphrase to change"


def new_email(prefix: str = "staff") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@vschool.example"


async def create(
    client: httpx.AsyncClient, auth: dict[str, str], *, role: str = "agent", email: str | None = None
) -> httpx.Response:
    body = {
        "email": email or new_email(),
        "name": "Somchai Prasert",
        "role": role,
        "password": FIRST_PASSWORD,
    }
    return await client.post(STAFF, json=body, headers=auth)


async def created(client: httpx.AsyncClient, auth: dict[str, str], **kwargs: str) -> dict[str, str]:
    response = await create(client, auth, **kwargs)
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def bearer_of(client: httpx.AsyncClient, email: str, password: str = FIRST_PASSWORD) -> dict[str, str]:
    response = await login(client, email, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def patch(
    client: httpx.AsyncClient, auth: dict[str, str], staff_id: str, body: dict[str, object], etag: str | None
) -> httpx.Response:
    headers = {**auth, **({"If-Match": etag} if etag else {})}
    return await client.patch(f"{STAFF}/{staff_id}", json=body, headers=headers)


async def current_etag(client: httpx.AsyncClient, auth: dict[str, str], staff_id: str) -> str:
    response = await client.get(f"{STAFF}/{staff_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def audit_entries(runtime: Runtime, staff_id: str) -> list[dict[str, object]]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            select(audit_log.c.action, audit_log.c.actor_role, audit_log.c.changes)
            .where(audit_log.c.entity_type == "staff", audit_log.c.entity_id == staff_id)
            .order_by(audit_log.c.at)
        )
    return [dict(row._mapping) for row in rows]


@pytest.fixture
async def only_admin(runtime: Runtime, auth: dict[str, str]) -> AsyncIterator[None]:
    """The suite's admin is the only active admin during the test; the others come back after."""
    async with runtime.sessionmaker() as session:
        others = (
            await session.scalars(
                update(staff_users)
                .where(
                    staff_users.c.role == "admin",
                    staff_users.c.is_active,
                    staff_users.c.email != ADMIN_EMAIL.lower(),
                )
                .values(is_active=False)
                .returning(staff_users.c.id)
            )
        ).all()
        await session.commit()
    yield
    async with runtime.sessionmaker() as session:
        await session.execute(update(staff_users).where(staff_users.c.id.in_(others)).values(is_active=True))
        await session.execute(
            update(staff_users)
            .where(staff_users.c.email == ADMIN_EMAIL.lower())
            .values(role="admin", is_active=True)
        )
        await session.commit()


async def admin_id(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    me: str = (await client.get("/api/v1/auth/me", headers=auth)).json()["id"]
    return me


async def test_an_admin_adds_a_staff_user_who_can_then_sign_in(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    email = new_email("New.Agent")

    response = await create(client, auth, email=email)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == email.lower()
    assert body["name"] == "Somchai Prasert"
    assert body["role"] == "agent"
    assert body["is_active"] is True
    assert "password" not in json.dumps(body)
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"{STAFF}/{body['id']}"
    assert (await client.get("/api/v1/auth/me", headers=await bearer_of(client, email))).json()[
        "role"
    ] == "agent"


async def test_an_email_address_has_one_account_whatever_its_case(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    email = new_email()
    await created(client, auth, email=email)

    response = await create(client, auth, email=email.upper())

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "exists already" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "too short"}, "password"),
        ({"email": "not an address"}, "email"),
        ({"role": "owner"}, "role"),
        ({"name": ""}, "name"),
    ],
)
async def test_an_invalid_new_staff_user_names_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], change: dict[str, str], field: str
) -> None:
    body = {"email": new_email(), "name": "Nok", "role": "agent", "password": FIRST_PASSWORD, **change}

    response = await client.post(STAFF, json=body, headers=auth)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert "too short" not in response.text


async def test_the_list_is_sorted_by_email_and_filters_by_role_and_activity(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    viewer = await created(client, auth, role="viewer", email=f"b-{tag}@vschool.example")
    marketer = await created(client, auth, role="marketer", email=f"a-{tag}@vschool.example")
    await patch(client, auth, viewer["id"], {"is_active": False}, '"1"')

    everyone = (await client.get(STAFF, headers=auth)).json()["items"]
    viewers = (await client.get(STAFF, params={"role": "viewer"}, headers=auth)).json()["items"]
    inactive = (await client.get(STAFF, params={"active": "false"}, headers=auth)).json()["items"]

    emails = [s["email"] for s in everyone]
    assert emails == sorted(emails)
    assert emails.index(marketer["email"]) < emails.index(viewer["email"])
    assert {s["role"] for s in viewers} == {"viewer"}
    assert viewer["id"] in [s["id"] for s in viewers]
    assert {s["is_active"] for s in inactive} == {False}
    assert viewer["id"] in [s["id"] for s in inactive]
    assert marketer["id"] not in [s["id"] for s in inactive]


async def test_one_staff_user_has_an_etag_and_an_unknown_id_is_404(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    staff = await created(client, auth)

    response = await client.get(f"{STAFF}/{staff['id']}", headers=auth)
    missing = await client.get(f"{STAFF}/{uuid.uuid4()}", headers=auth)

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == staff
    assert missing.status_code == 404
    assert missing.json()["title"] == "Staff user not found"


async def test_a_change_needs_the_current_etag(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    staff = await created(client, auth)
    renamed = await patch(client, auth, staff["id"], {"name": "Nok Saetang"}, '"1"')
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["etag"] == '"2"'
    assert renamed.json()["name"] == "Nok Saetang"

    stale = await patch(client, auth, staff["id"], {"role": "manager"}, '"1"')
    missing = await patch(client, auth, staff["id"], {"role": "manager"}, None)

    assert stale.status_code == 412
    assert stale.json()["title"] == "Changed since you read it"
    assert missing.status_code == 428
    assert (await client.get(f"{STAFF}/{staff['id']}", headers=auth)).json()["role"] == "agent"


async def test_a_null_in_a_change_is_refused(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    staff = await created(client, auth)

    response = await patch(client, auth, staff["id"], {"role": None}, '"1"')

    assert response.status_code == 422
    assert "role cannot be null" in response.text


async def test_a_new_role_applies_from_the_next_request(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    staff = await created(client, auth, role="agent")
    theirs = await bearer_of(client, staff["email"])
    assert (await client.get(STAFF, headers=theirs)).status_code == 403

    promoted = await patch(client, auth, staff["id"], {"role": "admin"}, '"1"')
    assert promoted.status_code == 200, promoted.text
    assert (await client.get(STAFF, headers=theirs)).status_code == 200  # the same token

    await patch(client, auth, staff["id"], {"role": "viewer"}, '"2"')
    assert (await client.get(STAFF, headers=theirs)).status_code == 403
    assert (await client.get("/api/v1/auth/me", headers=theirs)).json()["role"] == "viewer"


async def test_deactivation_ends_every_session_at_once(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    staff = await created(client, auth)
    laptop, phone = await bearer_of(client, staff["email"]), await bearer_of(client, staff["email"])
    refresh_token = (await login(client, staff["email"], FIRST_PASSWORD)).json()["refresh_token"]

    response = await patch(client, auth, staff["id"], {"is_active": False}, '"1"')

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert_unauthorized(await client.get("/api/v1/auth/me", headers=laptop))
    assert_unauthorized(await client.get("/api/v1/auth/me", headers=phone))
    assert_unauthorized(await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token}))
    assert_unauthorized(await login(client, staff["email"], FIRST_PASSWORD))

    reactivated = await patch(client, auth, staff["id"], {"is_active": True}, '"2"')
    assert reactivated.status_code == 200
    assert_unauthorized(await client.get("/api/v1/auth/me", headers=laptop))  # ended sessions stay ended
    assert (await login(client, staff["email"], FIRST_PASSWORD)).status_code == 200


async def test_an_admin_cannot_deactivate_themself(
    client: httpx.AsyncClient, auth: dict[str, str], only_admin: None
) -> None:
    await created(client, auth, role="admin")  # not the last admin: only the self rule refuses
    own_id = await admin_id(client, auth)

    response = await patch(
        client, auth, own_id, {"is_active": False}, await current_etag(client, auth, own_id)
    )

    assert response.status_code == 409
    assert "your own account" in response.json()["detail"]
    assert (await client.get(f"{STAFF}/{own_id}", headers=auth)).json()["is_active"] is True


async def test_the_last_active_admin_cannot_be_demoted(
    client: httpx.AsyncClient, auth: dict[str, str], only_admin: None
) -> None:
    own_id = await admin_id(client, auth)

    response = await patch(
        client, auth, own_id, {"role": "manager"}, await current_etag(client, auth, own_id)
    )

    assert response.status_code == 409
    assert "last active admin" in response.json()["detail"]
    assert (await client.get(STAFF, headers=auth)).status_code == 200


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, only_admin: None
) -> None:
    other = await created(client, auth, role="admin")
    theirs = await bearer_of(client, other["email"])
    own_id = await admin_id(client, auth)
    own_etag = await current_etag(client, auth, own_id)

    answers = await asyncio.gather(
        patch(client, auth, other["id"], {"role": "manager"}, '"1"'),
        patch(client, theirs, own_id, {"role": "manager"}, own_etag),
    )

    assert sorted(a.status_code for a in answers) in ([200, 403], [200, 409])
    async with runtime.sessionmaker() as session:
        admins = await session.scalar(
            select(func.count()).where(
                staff_users.c.id.in_([own_id, other["id"]]),
                staff_users.c.role == "admin",
                staff_users.c.is_active,
            )
        )
    assert admins == 1


async def test_an_admin_sets_a_new_password_which_ends_the_sessions_and_a_lockout(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    staff = await created(client, auth)
    theirs = await bearer_of(client, staff["email"])
    for _ in range(5):
        await login(client, staff["email"], "forgotten passphrase")
    assert (await login(client, staff["email"], FIRST_PASSWORD)).status_code == 429

    response = await client.post(
        f"{STAFF}/{staff['id']}/password", json={"password": "a brand new passphrase"}, headers=auth
    )

    assert response.status_code == 204
    assert_unauthorized(await client.get("/api/v1/auth/me", headers=theirs))
    assert_unauthorized(await login(client, staff["email"], FIRST_PASSWORD))
    assert (await login(client, staff["email"], "a brand new passphrase")).status_code == 200
    short = await client.post(f"{STAFF}/{staff['id']}/password", json={"password": "short"}, headers=auth)
    assert short.status_code == 422
    assert (await current_etag(client, auth, staff["id"])) == '"1"'


async def test_every_change_is_audited_with_masked_values_and_no_password(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    staff = await created(client, auth, email=new_email("somchai"))
    await patch(client, auth, staff["id"], {"role": "manager", "name": "Somchai P."}, '"1"')
    await patch(client, auth, staff["id"], {"is_active": False}, '"2"')
    await client.post(
        f"{STAFF}/{staff['id']}/password", json={"password": "another long passphrase"}, headers=auth
    )

    entries = await audit_entries(runtime, staff["id"])

    assert [e["action"] for e in entries] == [
        "staff.create",
        "staff.update",
        "staff.deactivate",
        "staff.password_reset",
    ]
    assert {e["actor_role"] for e in entries} == {"admin"}
    create, rename, deactivate, password = (e["changes"] for e in entries)
    assert create == {
        "email": {"before": None, "after": "s***@vschool.example"},
        "name": {"before": None, "after": "S***"},
        "role": {"before": None, "after": "agent"},
        "is_active": {"before": None, "after": True},
    }
    assert rename == {
        "name": {"before": "S***", "after": "S***"},
        "role": {"before": "agent", "after": "manager"},
    }
    assert deactivate == {"is_active": {"before": True, "after": False}}
    assert password == {}
    everything = json.dumps(entries, default=str)
    assert FIRST_PASSWORD not in everything
    assert "another long passphrase" not in everything
    assert "argon2" not in everything
    assert staff["email"] not in everything


async def test_an_agent_sees_colleagues_names_but_not_the_staff_admin_list(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    agent = await created(client, auth, role="agent")
    colleague = await created(client, auth, role="manager")
    await patch(client, auth, colleague["id"], {"is_active": False}, '"1"')
    as_agent = await bearer_of(client, agent["email"])

    directory = await client.get(f"{STAFF}/directory", headers=as_agent)
    admin_list = await client.get(STAFF, headers=as_agent)

    assert directory.status_code == 200, directory.text
    listed = {c["id"]: c for c in directory.json()["items"]}
    assert listed[colleague["id"]]["name"] == "Somchai Prasert"
    assert listed[colleague["id"]]["is_active"] is False, "a past reply keeps its author's name"
    assert set(listed[agent["id"]]) == {"id", "name", "email", "role", "is_active"}
    assert admin_list.status_code == 403
