"""The service token of the internal API (`/internal/v1`): compared as bytes, so a token with
characters outside ASCII is a 401 like any wrong token, never a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from crm_servicekit.internal import internal_router, secret_matches

TOKEN = "s3cret-internal-token"


def app(token: str = TOKEN) -> FastAPI:
    api = internal_router(SecretStr(token))

    @api.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    application = FastAPI()
    application.include_router(api)
    return application


async def call(application: FastAPI, token: bytes | None) -> int:
    headers = {} if token is None else {b"X-Internal-Token": token}
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        return (await http.get("/internal/v1/ping", headers=headers)).status_code


async def test_the_right_token_passes_and_a_missing_or_wrong_one_is_401() -> None:
    assert await call(app(), TOKEN.encode()) == 200
    assert await call(app(), None) == 401
    assert await call(app(), b"wrong") == 401


@pytest.mark.parametrize(
    "token",
    [
        "s3cret-internal-tokén".encode("latin-1"),
        "โทเค็นลับ".encode(),  # UTF-8 bytes: the server reads them as Latin-1
        ("é" * len(TOKEN)).encode("latin-1"),
    ],
)
async def test_a_non_ascii_token_is_401_not_500(token: bytes) -> None:
    assert await call(app(), token) == 401


def test_secret_matches_compares_any_text_and_nothing_matches_an_empty_secret() -> None:
    assert secret_matches("é", "é")
    assert not secret_matches("é", "e")
    assert not secret_matches("\udc80", "x")  # a lone surrogate: still only a mismatch
    assert not secret_matches("", "")
    assert not secret_matches(None, TOKEN)
    assert not secret_matches("anything", "")
