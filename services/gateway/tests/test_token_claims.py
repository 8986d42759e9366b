"""Access tokens name their issuer and audience and both are checked; a token forged with the
secret the compose file and `.env.example` once shipped is refused; a session ends at its
absolute lifetime (12 hours by default) however often it is refreshed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from crm_gateway.auth.models import staff_sessions
from crm_servicekit.runtime import Runtime

from .test_auth import JWT_SECRET, assert_unauthorized
from .test_sessions import bearer, me, refresh, session_id_of, sign_in, signed_in_agent

pytestmark = pytest.mark.integration

# The placeholder docker-compose.yml and .env.example shipped: anyone could sign with it.
OLD_PLACEHOLDER_SECRET = "change-me-to-a-long-random-string-at-least-32-bytes"
TWELVE_HOURS = 12 * 3600


def claims_of(tokens: dict[str, object]) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        str(tokens["access_token"]), JWT_SECRET, algorithms=["HS256"], options={"verify_aud": False}
    )
    return claims


def resigned(
    tokens: dict[str, object], *, secret: str = JWT_SECRET, changes: dict[str, object] | None = None
) -> dict[str, str]:
    """The caller's own live token with some claims changed (None drops one), signed with `secret`."""
    claims = claims_of(tokens)
    for name, value in (changes or {}).items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


async def test_an_access_token_names_the_gateway_as_issuer_and_the_staff_api_as_audience(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, email = await signed_in_agent(client, runtime)
    tokens = await sign_in(client, email)

    claims = claims_of(tokens)

    assert claims["iss"] == "vschool-crm-gateway"
    assert claims["aud"] == "vschool-crm-staff-api"
    assert (await client.get("/api/v1/auth/me", headers=resigned(tokens))).status_code == 200


async def test_an_outsider_forging_a_token_with_the_shipped_placeholder_secret_is_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # What an attacker who read compose/.env.example would try against a deployment. That no
    # gateway ever runs with the placeholder itself is tests/deploy/test_services_refuse_known_secrets.py.
    _, email = await signed_in_agent(client, runtime)
    tokens = await sign_in(client, email)  # a real, live session: only the signature is wrong

    forged = resigned(tokens, secret=OLD_PLACEHOLDER_SECRET, changes={"role": "admin"})

    assert_unauthorized(await client.get("/api/v1/auth/me", headers=forged))
    assert_unauthorized(await client.get("/api/v1/staff", headers=forged))


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://attacker.example"},
        {"aud": "vschool-crm-messenger"},
        {"aud": ["someone-else", "another"]},
        {"iss": None},
        {"aud": None},
    ],
    ids=["wrong-issuer", "wrong-audience", "audience-list-without-ours", "no-issuer", "no-audience"],
)
async def test_a_correctly_signed_token_with_a_wrong_or_missing_issuer_or_audience_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, changes: dict[str, object]
) -> None:
    _, email = await signed_in_agent(client, runtime)
    tokens = await sign_in(client, email)

    assert_unauthorized(await client.get("/api/v1/auth/me", headers=resigned(tokens, changes=changes)))
    assert (await me(client, tokens)).status_code == 200  # the token as issued still works


async def started(runtime: Runtime, tokens: dict[str, object], ago: timedelta) -> None:
    """Move the session's sign-in into the past (its idle expiry stays where refreshes put it)."""
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(staff_sessions)
            .where(staff_sessions.c.id == session_id_of(tokens))
            .values(created_at=datetime.now(UTC) - ago)
        )
        await session.commit()


async def test_a_session_lasts_twelve_hours_from_sign_in_at_most(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, email = await signed_in_agent(client, runtime)

    tokens = await sign_in(client, email)

    assert tokens["refresh_expires_in"] == TWELVE_HOURS
    await started(runtime, tokens, timedelta(hours=11))
    refreshed = await refresh(client, tokens)
    assert refreshed.status_code == 200, refreshed.text
    assert 3500 <= refreshed.json()["refresh_expires_in"] <= 3600  # the hour left, not 14 days


async def test_refresh_fails_past_the_absolute_lifetime_and_signing_in_again_works(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, email = await signed_in_agent(client, runtime)
    tokens = await sign_in(client, email)
    tokens = (await refresh(client, tokens)).json()  # refreshed: its idle expiry is 12 h away
    await started(runtime, tokens, timedelta(hours=12, seconds=1))

    body = assert_unauthorized(await refresh(client, tokens))

    assert "sign in again" in str(body["detail"])
    again = await sign_in(client, email)
    assert (await client.get("/api/v1/auth/me", headers=bearer(again))).status_code == 200
