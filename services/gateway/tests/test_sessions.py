"""Sessions: a sign-in starts one; refresh tokens rotate and a reused one ends the session;
sign-out and expiry end it at once, for the access token and the refresh token alike."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import func, insert, select, update

from crm_gateway.auth import service as auth_service
from crm_gateway.auth.models import login_throttle, staff_refresh_tokens, staff_sessions
from crm_gateway.config import GatewaySettings
from crm_servicekit.runtime import Runtime

from .test_auth import JWT_SECRET, add_staff, assert_unauthorized, login

pytestmark = pytest.mark.integration

PASSWORD = "a passphrase for sessions"
REFRESH_URL = "/api/v1/auth/refresh"


async def signed_in_agent(client: httpx.AsyncClient, runtime: Runtime) -> tuple[uuid.UUID, str]:
    email = f"session-{uuid.uuid4().hex[:8]}@vschool.example"
    staff_id = await add_staff(runtime, email, PASSWORD)
    return staff_id, email


async def sign_in(client: httpx.AsyncClient, email: str) -> dict[str, object]:
    response = await login(client, email, PASSWORD)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def bearer(tokens: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def me(client: httpx.AsyncClient, tokens: dict[str, object]) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers=bearer(tokens))


async def refresh(client: httpx.AsyncClient, tokens: dict[str, object]) -> httpx.Response:
    return await client.post(REFRESH_URL, json={"refresh_token": tokens["refresh_token"]})


def session_id_of(tokens: dict[str, object]) -> uuid.UUID:
    claims = jwt.decode(
        str(tokens["access_token"]), JWT_SECRET, algorithms=["HS256"], audience="vschool-crm-staff-api"
    )
    return uuid.UUID(claims["sid"])


async def test_sign_in_starts_a_session_and_stores_only_the_refresh_tokens_hash(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff_id, email = await signed_in_agent(client, runtime)

    tokens = await sign_in(client, email)

    assert tokens["refresh_expires_in"] == 12 * 3600  # the absolute lifetime, shorter than 14 idle days
    sid = session_id_of(tokens)
    async with runtime.sessionmaker() as session:
        row = (await session.execute(select(staff_sessions).where(staff_sessions.c.id == sid))).one()
        hashes = (
            await session.scalars(
                select(staff_refresh_tokens.c.token_hash).where(staff_refresh_tokens.c.session_id == sid)
            )
        ).all()
    assert row.staff_id == staff_id
    assert row.revoked_at is None
    assert hashes == [hashlib.sha256(str(tokens["refresh_token"]).encode()).hexdigest()]
    assert (await me(client, tokens)).status_code == 200


async def test_refresh_rotates_and_the_new_tokens_work(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, email = await signed_in_agent(client, runtime)
    first = await sign_in(client, email)

    response = await refresh(client, first)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert session_id_of(second) == session_id_of(first)
    assert (await me(client, second)).json()["email"] == email
    third = await refresh(client, second)
    assert third.status_code == 200, third.text


async def test_a_reused_refresh_token_ends_the_whole_session(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, email = await signed_in_agent(client, runtime)
    stolen = await sign_in(client, email)
    rotated = (await refresh(client, stolen)).json()  # the rightful client refreshed first

    reuse = await refresh(client, stolen)  # then the thief's copy is presented

    body = assert_unauthorized(reuse)
    assert "already used" in str(body["detail"])
    assert_unauthorized(await me(client, rotated))  # the session is over for both of them
    assert_unauthorized(await refresh(client, rotated))
    async with runtime.sessionmaker() as session:
        reason = await session.scalar(
            select(staff_sessions.c.revoked_reason).where(staff_sessions.c.id == session_id_of(stolen))
        )
    assert reason == "refresh_token_reused"


async def test_two_refreshes_with_one_token_at_once_get_one_answer_and_end_the_session(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, email = await signed_in_agent(client, runtime)
    tokens = await sign_in(client, email)

    answers = await asyncio.gather(refresh(client, tokens), refresh(client, tokens))

    assert sorted(a.status_code for a in answers) == [200, 401]
    [winner] = [a.json() for a in answers if a.status_code == 200]
    assert_unauthorized(await me(client, winner))


async def test_sign_out_ends_the_access_and_refresh_token_at_once_but_not_other_sessions(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, email = await signed_in_agent(client, runtime)
    laptop, phone = await sign_in(client, email), await sign_in(client, email)

    response = await client.post("/api/v1/auth/logout", headers=bearer(laptop))

    assert response.status_code == 204
    body = assert_unauthorized(await me(client, laptop))
    assert "session has ended" in str(body["detail"])
    assert_unauthorized(await refresh(client, laptop))
    assert_unauthorized(await client.post("/api/v1/auth/logout", headers=bearer(laptop)))
    assert (await me(client, phone)).status_code == 200
    assert (await refresh(client, phone)).status_code == 200


async def test_an_expired_session_refuses_its_access_and_refresh_tokens(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, email = await signed_in_agent(client, runtime)
    tokens = await sign_in(client, email)
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(staff_sessions)
            .where(staff_sessions.c.id == session_id_of(tokens))
            .values(expires_at=staff_sessions.c.created_at)
        )
        await session.commit()

    assert_unauthorized(await me(client, tokens))
    assert_unauthorized(await refresh(client, tokens))


@pytest.mark.parametrize("payload", [{"refresh_token": "made-up"}, {"refresh_token": "x" * 43}])
async def test_an_unknown_refresh_token_is_refused(
    client: httpx.AsyncClient, payload: dict[str, str]
) -> None:
    assert_unauthorized(await client.post(REFRESH_URL, json=payload))


async def test_a_refresh_without_a_token_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(REFRESH_URL, json={})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["refresh_token"]


async def test_an_access_token_is_not_a_refresh_token(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, email = await signed_in_agent(client, runtime)
    tokens = await sign_in(client, email)

    assert_unauthorized(await client.post(REFRESH_URL, json={"refresh_token": tokens["access_token"]}))
    assert (await me(client, tokens)).status_code == 200


async def test_housekeeping_deletes_long_ended_sessions_and_past_counters_only(
    client: httpx.AsyncClient, runtime: Runtime, settings: GatewaySettings
) -> None:
    _, email = await signed_in_agent(client, runtime)
    old, live = await sign_in(client, email), await sign_in(client, email)
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(staff_sessions)
            .where(staff_sessions.c.id == session_id_of(old))
            .values(revoked_at=func.now() - timedelta(days=31), revoked_reason="logout")
        )
        await session.execute(
            insert(login_throttle).values(
                [
                    {
                        "key": "account:past",
                        "failures": 3,
                        "window_started_at": func.now() - timedelta(hours=1),
                    },
                    {"key": "account:current", "failures": 3, "window_started_at": func.now()},
                ]
            )
        )
        await session.commit()

        assert await auth_service.purge(session, settings) >= 2

        sessions_left = set(
            (
                await session.scalars(
                    select(staff_sessions.c.id).where(
                        staff_sessions.c.id.in_([session_id_of(old), session_id_of(live)])
                    )
                )
            ).all()
        )
        counters_left = set(
            (
                await session.scalars(
                    select(login_throttle.c.key).where(
                        login_throttle.c.key.in_(["account:past", "account:current"])
                    )
                )
            ).all()
        )
    assert sessions_left == {session_id_of(live)}
    assert counters_left == {"account:current"}
    assert (await refresh(client, live)).status_code == 200
