"""Login, token checks and the first admin. Argon2 runs in a thread: it would stall the loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.config import GatewaySettings
from crm_gateway.errors import InvalidCredentials, NotAuthenticated
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import repository, security
from .domain import Role, Staff, normalise_email

log = get_logger(__name__)

WRONG_CREDENTIALS = "Incorrect email or password."


async def login(
    session: AsyncSession, settings: GatewaySettings, email: str, password: str
) -> security.AccessToken:
    """A token for valid credentials. Unknown e-mail and wrong password look alike, in words and time."""
    staff = await repository.by_email(session, normalise_email(email))
    if staff is None:
        await asyncio.to_thread(security.verify_nothing, password)
        raise InvalidCredentials(WRONG_CREDENTIALS)
    if not await asyncio.to_thread(security.verify_password, password, staff.password_hash):
        raise InvalidCredentials(WRONG_CREDENTIALS)
    if not staff.is_active:
        raise InvalidCredentials("This account is disabled.")
    return security.issue_token(
        staff,
        secret=settings.crm_jwt_secret.get_secret_value(),
        ttl_seconds=settings.crm_access_token_ttl_seconds,
        now=datetime.now(UTC),
    )


async def staff_for_token(session: AsyncSession, settings: GatewaySettings, token: str | None) -> Staff:
    """The active staff user a bearer token names; `NotAuthenticated` otherwise."""
    if not token:
        raise NotAuthenticated("Sign in: this request needs a bearer token.")
    try:
        claims = security.decode_token(token, secret=settings.crm_jwt_secret.get_secret_value())
    except security.InvalidToken as exc:
        raise NotAuthenticated("The access token is invalid or has expired; sign in again.") from exc
    staff = await repository.by_id(session, claims.staff_id)
    if staff is None or not staff.is_active:
        raise NotAuthenticated("This account no longer has access; sign in again.")
    return staff


async def ensure_admin(uow: UnitOfWork, email: str, password: str) -> None:
    """Create the first admin unless a staff user with this e-mail exists (idempotent)."""
    email = normalise_email(email)
    if await repository.exists(uow.session, email):
        return
    password_hash = await asyncio.to_thread(security.hash_password, password)
    staff_id = await repository.insert_if_absent(
        uow.session, email=email, password_hash=password_hash, role=Role.ADMIN
    )
    await uow.commit()
    if staff_id is not None:
        log.info("admin user created", staff_id=str(staff_id))


def check_secret(settings: GatewaySettings) -> None:
    if settings.uses_dev_jwt_secret:
        log.warning(
            "CRM_JWT_SECRET is not set: tokens are signed with the public development secret. "
            "Set a long random CRM_JWT_SECRET outside local development."
        )
    elif len(settings.crm_jwt_secret.get_secret_value().encode()) < 32:
        log.warning("CRM_JWT_SECRET is shorter than 32 bytes; use a longer random secret.")
