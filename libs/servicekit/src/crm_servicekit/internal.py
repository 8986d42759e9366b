"""Internal HTTP APIs (`/internal/v1`): what one service serves to the gateway, the only door for
people (ADR 7). Every route needs the shared service token in `X-Internal-Token`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException
from pydantic import SecretStr


def secret_matches(given: str | None, expected: str) -> bool:
    """Whether `given` (a header or parameter) is the secret `expected`, in constant time.

    Compared as UTF-8 bytes: `hmac.compare_digest` refuses `str` with non-ASCII characters (a
    TypeError, so a 500), and anyone can send those. An empty secret matches nothing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def internal_router(token: SecretStr) -> APIRouter:
    """An `/internal/v1` router whose every route refuses a call without the right token (401)."""

    def check_token(x_internal_token: Annotated[str | None, Header()] = None) -> None:
        if not secret_matches(x_internal_token, token.get_secret_value()):
            raise HTTPException(401, "a valid X-Internal-Token is required")

    return APIRouter(prefix="/internal/v1", tags=["internal"], dependencies=[Depends(check_token)])
