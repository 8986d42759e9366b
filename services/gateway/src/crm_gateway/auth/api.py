"""`/api/v1/auth`: sign-in and refresh (open), sign-out and `me` (any signed-in staff user)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from crm_gateway.deps import ReadsDep, SettingsDep, UowDep
from crm_gateway.errors import problem_responses

from . import service
from .domain import ROLE_PERMISSIONS, Role, SignedIn, Staff

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a URL, not a password)

# auto_error=False: a missing token goes through `service.signed_in`, for the same problem shape.
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)

_DESCRIBED = {
    401: "Wrong e-mail or password, a disabled account, or a token that is invalid, expired, "
    "already used or of an ended session. Sign in again.",
    422: "A field is missing or invalid; `errors` names it.",
    429: "Too many sign-in attempts for this account or from this address; `Retry-After` says "
    "how many seconds to wait. The password was not checked.",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_DESCRIBED, *statuses)


E = TypeVar("E", bound=Callable[..., Any])
_WITHOUT_DATABASE = "crm_answers_without_database"


def without_database(endpoint: E) -> E:
    """Marks a route that answers from files (the dashboards): while the database cannot be
    reached, its caller is who their signed access token says (`service.signed_in`) and the
    request is not counted against the rate limits, instead of a 503."""
    setattr(endpoint, _WITHOUT_DATABASE, True)
    return endpoint


def answers_without_database(request: Request) -> bool:
    """Whether the route this request matched is marked `without_database`."""
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    return bool(getattr(endpoint, _WITHOUT_DATABASE, False))


async def current_login(
    request: Request, token: Annotated[str | None, Depends(bearer)], reads: ReadsDep, settings: SettingsDep
) -> SignedIn:
    """The signed-in staff user and their session; 401 with `WWW-Authenticate: Bearer` otherwise.

    One statement on the hot-read pool (`hot_reads`): cheap on every request, and the connection
    is back in its pool before the route's own work starts. FastAPI runs it once per request
    however many dependencies ask for it.
    """
    return await service.signed_in(reads, settings, token, without_database=answers_without_database(request))


CurrentLogin = Annotated[SignedIn, Depends(current_login)]


async def current_staff(login: CurrentLogin) -> Staff:
    """The signed-in staff user, with the role and activity the database holds right now."""
    return login.staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


class TokenOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "q3Yv0m8f1k2...",
                    "refresh_expires_in": 43200,
                }
            ]
        }
    )

    access_token: str = Field(description="Send as `Authorization: Bearer ...`; lives `expires_in` seconds.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type)
    expires_in: int
    refresh_token: str = Field(
        description="Exchange once at `/auth/refresh` for new tokens; keep it secret (it is the session)."
    )
    refresh_expires_in: int = Field(
        description="Seconds the session lasts without a refresh; never past its absolute lifetime "
        "(`CRM_SESSION_MAX_LIFETIME_SECONDS` after sign-in), when staff sign in again."
    )


class RefreshIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"refresh_token": "q3Yv0m8f1k2..."}]}
    )

    refresh_token: str = Field(min_length=1, max_length=2048)


class StaffOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    permissions: list[str] = Field(
        description="What this role may do (e.g. `conversation:reply`): the web app offers only these."
    )


token_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(prefix="/auth", tags=["auth"])

_FORM_EXAMPLE = {
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {
                "example": {"username": "somchai@vschool.example", "password": "correct horse battery staple"}
            }
        }
    }
}


def client_address(request: Request) -> str:
    """The caller's IP as uvicorn saw it (behind a proxy listed in `FORWARDED_ALLOW_IPS`, the
    address the proxy forwarded); never a header a client could set to dodge the limit."""
    return request.client.host if request.client else "unknown"


def _tokens_out(tokens: service.Tokens, response: Response) -> TokenOut:
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(
        access_token=tokens.access.token,
        expires_in=tokens.access.expires_in,
        refresh_token=tokens.refresh_token,
        refresh_expires_in=tokens.refresh_expires_in,
    )


@token_router.post(
    "/token",
    summary="Sign in: e-mail and password for an access and a refresh token",
    responses=_problems(401, 422, 429),
    openapi_extra=_FORM_EXAMPLE,
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    uow: UowDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> TokenOut:
    """Starts a session. At most `CRM_LOGIN_MAX_FAILURES_PER_ACCOUNT` attempts per account and
    `CRM_LOGIN_MAX_FAILURES_PER_ADDRESS` per client address in `CRM_LOGIN_WINDOW_SECONDS`; a
    success clears the account's count. Open to everyone."""
    async with uow:
        tokens = await service.login(
            uow, settings, form.username, form.password, address=client_address(request)
        )
    return _tokens_out(tokens, response)


@token_router.post(
    "/refresh",
    summary="Swap a refresh token for new tokens (each refresh token works once)",
    responses=_problems(401, 422),
)
async def refresh(body: RefreshIn, uow: UowDep, settings: SettingsDep, response: Response) -> TokenOut:
    """The old refresh token is used up; presenting it again revokes the whole session (someone
    else has a copy). Open: it is how a client with an expired access token goes on."""
    async with uow:
        tokens = await service.refresh(uow, settings, body.refresh_token)
    return _tokens_out(tokens, response)


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out: end this session",
    responses=_problems(401),
)
async def logout(login: CurrentLogin, uow: UowDep) -> None:
    """The access token and the refresh token of this session stop working at once. Any
    signed-in staff user."""
    async with uow:
        await service.logout(uow, login)


@router.get("/me", summary="The signed-in staff user", responses=_problems(401))
async def me(staff: CurrentStaff) -> StaffOut:
    return StaffOut(
        id=staff.id,
        email=staff.email,
        role=staff.role,
        permissions=sorted(ROLE_PERMISSIONS[staff.role]),
    )
