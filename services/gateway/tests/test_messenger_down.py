"""With nothing listening at MESSENGER_INTERNAL_URL (conftest's default), conversations are a
503 problem the UI can show, and the rest of the gateway keeps working."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/conversations", None),
        ("POST", "/api/v1/conversations/0b8f5a52-2c1e-4c55-9a3e-5d8f0e7b2a10/messages", {"text": "hi"}),
        ("GET", "/api/v1/messenger/quarantine", None),
    ],
)
async def test_an_unreachable_messenger_is_a_503_problem(
    client: httpx.AsyncClient, auth: dict[str, str], method: str, path: str, body: dict[str, str] | None
) -> None:
    response = await client.request(method, path, json=body, headers=auth)

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:vschool-crm:problem:messenger-unavailable"
    assert problem["detail"] == "Messenger is unavailable, try again shortly."
    assert problem["instance"] == path


async def test_the_rest_of_the_gateway_does_not_need_the_messenger(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/customers", headers=auth)).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
