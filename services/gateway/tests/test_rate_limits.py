"""Rate limits per staff member and per client address, shared by every replica: two gateway apps
on one database count together; a burst past a limit gets 429 with `Retry-After`; another staff
member, or another address, is not held by someone else's burst. Small limits here (the module's
settings); each test signs in its own staff from its own address."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from crm_gateway.app import create_app
from crm_gateway.auth.domain import Role
from crm_gateway.config import GatewaySettings
from crm_servicekit.runtime import Runtime

from .test_auth import add_staff, login
from .test_login_throttle import an_address, client_at

pytestmark = pytest.mark.integration

PASSWORD = "a passphrase for rate limits"
SEARCHES_PER_STAFF = 4
SEARCHES_PER_ADDRESS = 7


@pytest.fixture(scope="module")
def settings(settings: GatewaySettings) -> GatewaySettings:
    return settings.model_copy(
        update={
            "crm_rate_limit_search_per_staff": f"{SEARCHES_PER_STAFF}/minute",
            "crm_rate_limit_search_per_address": f"{SEARCHES_PER_ADDRESS}/minute",
            "crm_rate_limit_export_per_staff": "2/hour",
            "crm_rate_limit_reply_per_staff": "2/minute",
            "crm_rate_limit_sync_per_staff": "3/hour",
            "crm_rate_limit_backfill_per_staff": "1/hour",
        }
    )


@pytest.fixture(scope="module")
async def other_replica(settings: GatewaySettings) -> AsyncIterator[FastAPI]:
    """A second gateway on the same database, as a second replica would be."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def signed_in(runtime: Runtime, client: httpx.AsyncClient, role: Role = Role.ADMIN) -> dict[str, str]:
    email = f"limited-{uuid.uuid4().hex[:8]}@vschool.example"
    await add_staff(runtime, email, PASSWORD, role=role)
    response = await login(client, email, PASSWORD)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_limited(response: httpx.Response, what: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= 3600
    body = response.json()
    assert body["title"] == "Too many requests"
    assert what in body["detail"]


async def search(client: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    return await client.get("/api/v1/customers", params={"q": "Somchai"}, headers=auth)


async def test_a_search_burst_is_limited_across_two_replicas_and_not_for_another_staff_member(
    app: FastAPI, other_replica: FastAPI, runtime: Runtime
) -> None:
    address = an_address()
    async with client_at(app, address) as one, client_at(other_replica, address) as two:
        first, second = await signed_in(runtime, one), await signed_in(runtime, one)
        answers = [await search(replica, first) for replica in (one, two) * (SEARCHES_PER_STAFF // 2)]
        assert [a.status_code for a in answers] == [200] * SEARCHES_PER_STAFF

        assert_limited(await search(one, first), "customer searches")
        assert_limited(await search(two, first), "customer searches")  # the other replica knows
        assert (await search(two, second)).status_code == 200  # same office, another person
        assert (await one.get("/api/v1/auth/me", headers=first)).status_code == 200  # only searches


async def test_one_address_is_limited_whoever_signs_in_from_it(
    app: FastAPI, other_replica: FastAPI, runtime: Runtime
) -> None:
    async with client_at(app, an_address()) as office, client_at(other_replica, an_address()) as elsewhere:
        people = [await signed_in(runtime, office) for _ in range(3)]
        statuses = [(await search(office, auth)).status_code for auth in people for _ in range(2)]
        statuses.append((await search(office, people[0])).status_code)
        assert statuses == [200] * SEARCHES_PER_ADDRESS

        assert_limited(await search(office, people[1]), "customer searches")
        assert (await search(elsewhere, people[1])).status_code == 200  # from another address


async def test_exports_are_limited_before_they_fan_out(app: FastAPI, runtime: Runtime) -> None:
    async with client_at(app, an_address()) as client:
        auth = await signed_in(runtime, client)
        url = "/api/v1/customers/TVS-CUS-FB-26-9999/export"
        answers = [await client.get(url, headers=auth) for _ in range(2)]
        assert all(a.status_code != 429 for a in answers)

        assert_limited(await client.get(url, headers=auth), "PDPA exports")


async def test_staff_replies_are_limited(app: FastAPI, runtime: Runtime) -> None:
    async with client_at(app, an_address()) as client:
        auth = await signed_in(runtime, client, Role.AGENT)
        url = f"/api/v1/conversations/{uuid.uuid4()}/messages"
        answers = [await client.post(url, json={"text": "สวัสดีค่ะ"}, headers=auth) for _ in range(2)]
        assert all(a.status_code != 429 for a in answers)

        assert_limited(await client.post(url, json={"text": "สวัสดีค่ะ"}, headers=auth), "replies")


async def test_backfills_have_a_lower_limit_than_other_syncs(app: FastAPI, runtime: Runtime) -> None:
    backfill = {"kind": "backfill", "since": "2026-01-01", "until": "2026-01-31"}
    async with client_at(app, an_address()) as client:
        auth = await signed_in(runtime, client)
        assert (await client.post("/api/v1/marketing/syncs", json=backfill, headers=auth)).status_code != 429

        assert_limited(
            await client.post("/api/v1/marketing/syncs", json=backfill, headers=auth), "marketing backfills"
        )
        hourly = await client.post("/api/v1/marketing/syncs", json={"kind": "hourly"}, headers=auth)
        assert hourly.status_code != 429
        assert_limited(
            await client.post("/api/v1/marketing/syncs", json={"kind": "hourly"}, headers=auth),
            "marketing syncs",
        )


@pytest.mark.parametrize("enabled", [True, False], ids=["on", "off"])
async def test_the_ceiling_holds_every_staff_route_unless_limits_are_off(
    settings: GatewaySettings, runtime: Runtime, enabled: bool
) -> None:
    tight = settings.model_copy(
        update={"crm_rate_limit_per_staff": "5/minute", "crm_rate_limits_enabled": enabled}
    )
    app = create_app(tight)
    async with app.router.lifespan_context(app), client_at(app, an_address()) as client:
        auth = await signed_in(runtime, client)
        answers = [await client.get("/api/v1/auth/me", headers=auth) for _ in range(7)]
    if enabled:
        assert [a.status_code for a in answers[:5]] == [200] * 5
        assert_limited(answers[5], "requests")
    else:
        assert [a.status_code for a in answers] == [200] * 7
