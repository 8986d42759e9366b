"""`/api/v1/auth`: the token endpoint (open) and `me` (behind `current_staff`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel

from crm_gateway.deps import RuntimeDep, SessionDep, SettingsDep

from . import service
from .domain import Role, Staff

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a URL, not a password)

# auto_error=False: a missing token goes through `staff_for_token`, for the same problem shape.
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


async def current_staff(
    token: Annotated[str | None, Depends(bearer)], runtime: RuntimeDep, settings: SettingsDep
) -> Staff:
    """The signed-in staff user; 401 with `WWW-Authenticate: Bearer` otherwise.

    Its own short session: the connection goes back to the pool at once instead of being held
    for the whole request next to the route's own (a burst would otherwise starve the pool).
    """
    async with runtime.sessionmaker() as session:
        return await service.staff_for_token(session, settings, token)


CurrentStaff = Annotated[Staff, Depends(current_staff)]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type)
    expires_in: int


class StaffOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role


token_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(prefix="/auth", tags=["auth"])


@token_router.post("/token", summary="Exchange e-mail and password for an access token")
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> TokenOut:
    access = await service.login(session, settings, form.username, form.password)
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(access_token=access.token, expires_in=access.expires_in)


@router.get("/me", summary="The signed-in staff user")
async def me(staff: CurrentStaff) -> StaffOut:
    return StaffOut(id=staff.id, email=staff.email, role=staff.role)
