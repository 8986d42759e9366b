"""Headers an attacker controls, non-ASCII (UTF-8 and raw Latin-1 bytes) or oversized, on the
routes that read them: always a 4xx, never a 5xx, signed in or not."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.integration

HOSTILE = {
    "thai": "สวัสดี".encode(),
    "latin1": b"caf\xe9\xff",
    "nul-like": b"\x7f\x01abc",
    "oversized": b"A" * 64_000,
    "oversized-thai": "ก".encode() * 20_000,
}
CUSTOMER_URL = "/api/v1/customers/TVS-CUS-FB-26-0001"


def raw(auth: dict[str, str], name: str, value: bytes) -> list[tuple[bytes, bytes]]:
    """The signed-in caller's headers and one hostile header, as the bytes sent on the wire."""
    return [*((k.encode(), v.encode()) for k, v in auth.items()), (name.encode(), value)]


def assert_refused(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_bearer_token_is_a_401(client: httpx.AsyncClient, value: bytes) -> None:
    for header in (b"Bearer " + value, value):
        response = await client.get("/api/v1/auth/me", headers=raw({}, "Authorization", header))

        assert response.status_code == 401, response.text


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_if_match_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], value: bytes
) -> None:
    response = await client.patch(
        CUSTOMER_URL, json={"first_name": "Somchai"}, headers=raw(auth, "If-Match", value)
    )

    assert_refused(response)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_idempotency_key_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], value: bytes
) -> None:
    response = await client.post(
        f"/api/v1/conversations/{uuid.uuid4()}/messages",
        json={"text": "hello"},
        headers=raw(auth, "Idempotency-Key", value),
    )

    assert_refused(response)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("name", ["X-Request-Id", "Traceparent", "X-Forwarded-For", "Content-Type", "Accept"])
async def test_other_hostile_headers_change_nothing_or_are_refused(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, value: bytes
) -> None:
    response = await client.get("/api/v1/auth/me", headers=raw(auth, name, value))

    assert response.status_code < 500, response.text


async def test_a_hostile_form_content_type_on_sign_in_is_refused(client: httpx.AsyncClient) -> None:
    for value in HOSTILE.values():
        response = await client.post(
            "/api/v1/auth/token", content=b"username=a&password=b", headers=raw({}, "Content-Type", value)
        )

        assert_refused(response)
