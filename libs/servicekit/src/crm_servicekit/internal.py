"""Internal HTTP APIs (`/internal/v1`): what one service serves to the gateway, the only door for
people (ADR 7). Every route needs the shared service token in `X-Internal-Token`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException
from pydantic import SecretStr


def internal_router(token: SecretStr) -> APIRouter:
    """An `/internal/v1` router whose every route refuses a call without the right token (401)."""

    def check_token(x_internal_token: Annotated[str | None, Header()] = None) -> None:
        expected = token.get_secret_value()
        if not x_internal_token or not hmac.compare_digest(x_internal_token, expected):
            raise HTTPException(401, "a valid X-Internal-Token is required")

    return APIRouter(prefix="/internal/v1", tags=["internal"], dependencies=[Depends(check_token)])
