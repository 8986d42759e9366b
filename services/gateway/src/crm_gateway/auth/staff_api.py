"""`/api/v1/staff`: staff accounts for admins (permission `staff:admin` on every route)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from crm_gateway.customers.contact_points import InvalidContactPoint, normalise_email
from crm_gateway.deps import SessionDep, UowDep
from crm_gateway.errors import problem_responses
from crm_gateway.etags import IF_MATCH_HELP, etag

from . import staff_admin
from .api import CurrentStaff
from .domain import Role, StaffAccount
from .permissions import Permission, allow

PASSWORD_MIN_LENGTH = 12
# argon2 takes any length; the cap only keeps a request from making it hash megabytes.
PASSWORD_MAX_LENGTH = 256

_DESCRIBED = {
    403: "Only admins (`staff:admin`) manage staff accounts.",
    404: "No staff user has this id.",
    409: "Refused: the e-mail address is taken, or the change would leave no active admin or "
    "deactivate your own account. `detail` says which.",
    412: "The staff user was changed since you read it; reload and try again.",
    422: "A field is missing or invalid (e.g. a password shorter than 12 characters); `errors` names it.",
    428: "Send `If-Match` with the ETag from GET.",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem answers a route can give besides 401."""
    return problem_responses(_DESCRIBED, *statuses)


Password = Annotated[
    SecretStr,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        description=f"At least {PASSWORD_MIN_LENGTH} characters; a passphrase is easiest to type.",
    ),
]


class StaffOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str | None
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, account: StaffAccount) -> Self:
        return cls(
            id=account.id,
            email=account.email,
            name=account.name,
            role=account.role,
            is_active=account.is_active,
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class StaffListOut(BaseModel):
    items: list[StaffOut]


class StaffIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "somchai@vschool.example",
                    "name": "Somchai P.",
                    "role": "agent",
                    "password": "a first passphrase to change",
                }
            ]
        },
    )

    email: str = Field(max_length=320, description="Stored lowercased; each address has one account.")
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: Password

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return normalise_email(value)
        except InvalidContactPoint as exc:
            raise ValueError(str(exc)) from exc


class StaffPatch(BaseModel):
    """Only the fields sent change; `null` is refused (none of them can be emptied)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"role": "manager"}, {"is_active": False}, {"name": "Somchai Prasert"}]
        },
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    is_active: bool | None = Field(
        default=None, description="`false` ends every session of this staff user at once."
    )

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave a field out to keep it")
        return self


class PasswordIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"password": "another long passphrase"}]}
    )

    password: Password


router = APIRouter(prefix="/staff", tags=["staff"])
STAFF_ADMIN = [allow(Permission.STAFF_ADMIN)]


@router.get(
    "", summary="Staff users, by e-mail address", responses=_problems(403, 422), dependencies=STAFF_ADMIN
)
async def list_staff(
    session: SessionDep,
    role: Annotated[Role | None, Query(description="Only staff with this role.")] = None,
    active: Annotated[
        bool | None, Query(description="Only active (`true`) or deactivated (`false`) staff.")
    ] = None,
) -> StaffListOut:
    """Permission: `staff:admin`."""
    accounts = await staff_admin.list_accounts(session, role=role, active=active)
    return StaffListOut(items=[StaffOut.of(a) for a in accounts])


class ColleagueOut(BaseModel):
    """A staff member as colleagues see them: who replied, whom to assign."""

    id: uuid.UUID
    name: str | None
    email: str
    role: Role
    is_active: bool


class DirectoryOut(BaseModel):
    items: list[ColleagueOut]


@router.get(
    "/directory",
    summary="Colleagues: names and roles of every staff user (who replied, whom to assign)",
    responses=_problems(403),
    dependencies=[allow(Permission.CONVERSATION_READ)],
)
async def directory(session: SessionDep) -> DirectoryOut:
    """Deactivated staff are listed too (their past replies keep a name). Permission:
    `conversation:read`."""
    accounts = await staff_admin.list_accounts(session, role=None, active=None)
    return DirectoryOut(
        items=[
            ColleagueOut(id=a.id, name=a.name, email=a.email, role=a.role, is_active=a.is_active)
            for a in accounts
        ]
    )


@router.post(
    "",
    status_code=201,
    summary="Add a staff user with a first password",
    responses=_problems(403, 409, 422),
    dependencies=STAFF_ADMIN,
)
async def create_staff(body: StaffIn, actor: CurrentStaff, uow: UowDep, response: Response) -> StaffOut:
    """Tell them the password by a channel of its own; an admin can set a new one any time.
    Permission: `staff:admin`."""
    async with uow:
        account = await staff_admin.create(
            uow,
            actor,
            email=body.email,
            name=body.name,
            role=body.role,
            password=body.password.get_secret_value(),
        )
    response.headers["Location"] = f"/api/v1/staff/{account.id}"
    response.headers["ETag"] = etag(account.version)
    return StaffOut.of(account)


@router.get(
    "/{staff_id}",
    summary="One staff user (with its ETag)",
    responses=_problems(403, 404, 422),
    dependencies=STAFF_ADMIN,
)
async def get_staff(staff_id: uuid.UUID, session: SessionDep, response: Response) -> StaffOut:
    """Permission: `staff:admin`."""
    account = await staff_admin.get(session, staff_id)
    response.headers["ETag"] = etag(account.version)
    return StaffOut.of(account)


@router.patch(
    "/{staff_id}",
    summary="Rename, change the role, deactivate or reactivate a staff user",
    responses=_problems(403, 404, 409, 412, 422, 428),
    dependencies=STAFF_ADMIN,
)
async def update_staff(
    staff_id: uuid.UUID,
    body: StaffPatch,
    actor: CurrentStaff,
    uow: UowDep,
    response: Response,
    if_match: Annotated[str | None, Header(description=IF_MATCH_HELP)] = None,
) -> StaffOut:
    """A new role applies from the staff user's next request; deactivation ends their sessions
    at once. The last active admin cannot be demoted or deactivated, nor can an admin deactivate
    themself. Permission: `staff:admin`."""
    async with uow:
        account = await staff_admin.update(
            uow, actor, staff_id, body.model_dump(exclude_unset=True), if_match
        )
    response.headers["ETag"] = etag(account.version)
    return StaffOut.of(account)


@router.post(
    "/{staff_id}/password",
    status_code=204,
    summary="Set a new password for a staff user (ends their sessions)",
    responses=_problems(403, 404, 422),
    dependencies=STAFF_ADMIN,
)
async def set_password(staff_id: uuid.UUID, body: PasswordIn, actor: CurrentStaff, uow: UowDep) -> None:
    """They sign in again with the new password; a sign-in lockout of the account is lifted.
    Permission: `staff:admin`."""
    async with uow:
        await staff_admin.set_password(uow, actor, staff_id, body.password.get_secret_value())
