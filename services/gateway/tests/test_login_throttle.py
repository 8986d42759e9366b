"""Sign-in limits: 5 attempts per account and 20 per client address in 15 minutes (the default
settings), answered with 429 and `Retry-After` before any password check, the same for unknown
e-mail addresses; a success starts the account afresh. Each test signs in from its own address."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from crm_gateway.auth.models import login_throttle
from crm_gateway.auth.throttle_repository import account_key, address_key
from crm_servicekit.runtime import Runtime

from .test_auth import add_staff, assert_unauthorized, login

pytestmark = pytest.mark.integration

PASSWORD = "the right passphrase"
WRONG = "a wrong passphrase"


@asynccontextmanager
async def client_at(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address`, as uvicorn would report it."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


def an_address() -> str:
    """An address of the documentation range, new to every test."""
    h = uuid.uuid4().hex
    return f"2001:db8::{h[:4]}:{h[4:8]}"


async def an_account(runtime: Runtime) -> str:
    email = f"throttled-{uuid.uuid4().hex[:8]}@vschool.example"
    await add_staff(runtime, email, PASSWORD)
    return email


def assert_too_many(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= 15 * 60
    body: dict[str, object] = response.json()
    assert body["title"] == "Too many sign-in attempts"
    return body


async def fail(client: httpx.AsyncClient, email: str, times: int) -> None:
    for _ in range(times):
        assert_unauthorized(await login(client, email, WRONG))


async def test_the_sixth_attempt_on_an_account_is_refused_even_with_the_right_password(
    app: FastAPI, runtime: Runtime
) -> None:
    email, other = await an_account(runtime), await an_account(runtime)
    async with client_at(app, an_address()) as client:
        await fail(client, email, 5)

        refused = await login(client, email, PASSWORD)

        body = assert_too_many(refused)
        assert "try again in 15 minutes" in str(body["detail"])
        assert (await login(client, other, PASSWORD)).status_code == 200  # other accounts sign in
    async with client_at(app, an_address()) as elsewhere:
        assert_too_many(await login(elsewhere, email, PASSWORD))  # the account is held, not the address


async def test_an_unknown_address_is_limited_exactly_like_a_real_account(
    app: FastAPI, runtime: Runtime
) -> None:
    real = await an_account(runtime)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@vschool.example"
    answers = []
    for email in (real, unknown):
        async with client_at(app, an_address()) as client:
            await fail(client, email, 5)
            answers.append(await login(client, email, WRONG))

    real_answer, unknown_answer = (assert_too_many(a) for a in answers)
    assert real_answer == unknown_answer


async def test_a_success_starts_the_account_afresh(app: FastAPI, runtime: Runtime) -> None:
    email = await an_account(runtime)
    async with client_at(app, an_address()) as client:
        await fail(client, email, 4)
        assert (await login(client, email, PASSWORD)).status_code == 200

        await fail(client, email, 5)  # five more, not one

        assert_too_many(await login(client, email, PASSWORD))


async def test_the_twenty_first_attempt_from_one_address_is_refused(app: FastAPI, runtime: Runtime) -> None:
    email = await an_account(runtime)
    address = an_address()
    async with client_at(app, address) as client:
        for n in range(20):  # four attempts each on five addresses nobody has
            await fail(client, f"guess-{n // 4}-{uuid.uuid4().hex[:6]}@vschool.example", 1)

        assert_too_many(await login(client, email, PASSWORD))
    async with client_at(app, an_address()) as elsewhere:
        assert (await login(elsewhere, email, PASSWORD)).status_code == 200


async def test_successes_do_not_use_up_an_addresss_attempts(app: FastAPI, runtime: Runtime) -> None:
    email = await an_account(runtime)
    async with client_at(app, an_address()) as office:
        for _ in range(21):  # one more than the address may fail
            assert (await login(office, email, PASSWORD)).status_code == 200


async def test_the_limit_lifts_when_the_window_has_passed(app: FastAPI, runtime: Runtime) -> None:
    email, address = await an_account(runtime), an_address()
    async with client_at(app, address) as client:
        await fail(client, email, 5)
        assert_too_many(await login(client, email, PASSWORD))
        async with runtime.sessionmaker() as session:
            await session.execute(
                update(login_throttle)
                .where(login_throttle.c.key.in_([account_key(email), address_key(address)]))
                .values(window_started_at=login_throttle.c.window_started_at - timedelta(minutes=15))
            )
            await session.commit()

        assert (await login(client, email, PASSWORD)).status_code == 200


async def test_the_counters_hold_no_email_or_ip_address(app: FastAPI, runtime: Runtime) -> None:
    email, address = await an_account(runtime), an_address()
    async with client_at(app, address) as client:
        await fail(client, email, 1)

    async with runtime.sessionmaker() as session:
        keys = (await session.scalars(select(login_throttle.c.key))).all()
    assert keys
    assert not [k for k in keys if email in k or address in k or "@" in k]
