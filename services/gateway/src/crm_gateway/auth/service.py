"""Sign-in, refresh, sign-out, the per-request check and the first admin.

Argon2 runs in a thread: it would stall the event loop.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth.errors import InvalidCredentials, NotAuthenticated
from crm_gateway.config import GatewaySettings
from crm_gateway.reads import HotReads
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.runtime import Runtime
from crm_servicekit.unavailable import database_unavailable

from . import repository, security
from . import sessions_repository as sessions
from . import throttle_repository as throttle
from .domain import Role, SignedIn, Staff, normalise_email

log = get_logger(__name__)

WRONG_CREDENTIALS = "Incorrect email or password."
SESSION_ENDED = "This session has ended or the account no longer has access; sign in again."
BAD_REFRESH = "The refresh token is invalid, was already used, or its session has ended; sign in again."
# Ended sessions stay this long, for questions like "who was signed in last week?".
KEEP_ENDED = timedelta(days=30)
HOUSEKEEPING_SECONDS = 3600.0


@dataclass(frozen=True)
class Tokens:
    access: security.AccessToken
    refresh_token: str
    refresh_expires_in: int


async def login(
    uow: UnitOfWork, settings: GatewaySettings, email: str, password: str, *, address: str
) -> Tokens:
    """A new session for valid credentials.

    The attempt is counted (and committed) before anything else, so a client over a limit learns
    nothing, not even whether the password was right. Unknown e-mail and wrong password look
    alike, in words and time.
    """
    email = normalise_email(email)
    attempt = await throttle.count_attempt(uow.session, settings, email, address)
    staff = await repository.by_email(uow.session, email)
    if staff is None:
        await asyncio.to_thread(security.verify_nothing, password)
        raise InvalidCredentials(WRONG_CREDENTIALS)
    if not await asyncio.to_thread(security.verify_password, password, staff.password_hash):
        raise InvalidCredentials(WRONG_CREDENTIALS)
    if not staff.is_active:
        raise InvalidCredentials("This account is disabled.")
    await throttle.forgive(uow.session, attempt)
    session_id, ends, now = await sessions.start(
        uow.session, staff.id, lifetime=_refresh_lifetime(settings), max_lifetime=_max_lifetime(settings)
    )
    tokens = await _issue(uow.session, settings, staff, session_id, refresh_expires_in=_seconds(ends - now))
    await uow.commit()
    log.info("staff signed in", staff_id=str(staff.id), session_id=str(session_id))
    return tokens


async def refresh(uow: UnitOfWork, settings: GatewaySettings, refresh_token: str) -> Tokens:
    """Rotate: a new access and refresh token for an unused refresh token of a live session.

    A refresh token used a second time means two parties hold it (one of them stole it): the
    whole session is revoked, so neither can go on. Past the session's absolute lifetime
    (`crm_session_max_lifetime_seconds` after sign-in) refresh fails: the staff member signs in.
    """
    token_hash = security.hash_refresh_token(refresh_token)
    session_id = await sessions.use_refresh_token(uow.session, token_hash)
    if session_id is None:
        reused_in = await sessions.session_of_token(uow.session, token_hash)
        if reused_in is not None and await sessions.revoke(uow.session, reused_in, "refresh_token_reused"):
            await uow.commit()
            log.warning("refresh token used twice; session revoked", session_id=str(reused_in))
        raise NotAuthenticated(BAD_REFRESH)
    live = await sessions.extend_live(
        uow.session, session_id, lifetime=_refresh_lifetime(settings), max_lifetime=_max_lifetime(settings)
    )
    if live is None:
        raise NotAuthenticated(BAD_REFRESH)
    staff, ends, now = live
    tokens = await _issue(uow.session, settings, staff, session_id, refresh_expires_in=_seconds(ends - now))
    await uow.commit()
    return tokens


async def logout(uow: UnitOfWork, signed_in: SignedIn) -> None:
    """End the caller's session: its access and refresh tokens stop working at once."""
    await sessions.revoke(uow.session, signed_in.session_id, "logout")
    await uow.commit()
    log.info("staff signed out", staff_id=str(signed_in.staff.id), session_id=str(signed_in.session_id))


async def signed_in(
    reads: HotReads, settings: GatewaySettings, token: str | None, *, without_database: bool = False
) -> SignedIn:
    """The staff user and session a bearer token names, both still valid; `NotAuthenticated` otherwise.

    Session and staff row come from the database in one query on every request: a sign-out, a
    deactivation or a role change counts from the next request on, not when the token expires.
    With `without_database` (a route that answers from files), while the database cannot be
    reached, the token's signed claims stand in for it: its staff user, session and role as they
    were when it was issued, for at most the token's lifetime (`CRM_ACCESS_TOKEN_TTL_SECONDS`).
    """
    if not token:
        raise NotAuthenticated("Sign in: this request needs a bearer token.")
    try:
        claims = security.decode_token(
            token,
            secret=settings.crm_jwt_secret.get_secret_value(),
            issuer=settings.crm_jwt_issuer,
            audience=settings.crm_jwt_audience,
        )
    except security.InvalidToken as exc:
        raise NotAuthenticated("The access token is invalid or has expired; sign in again.") from exc
    try:
        staff = await repository.staff_in_session(reads, claims.staff_id, claims.session_id)
    except Exception as exc:
        if not without_database or database_unavailable(exc) is None:
            raise
        return _as_claimed(claims, exc)
    if staff is None:
        raise NotAuthenticated(SESSION_ENDED)
    return SignedIn(staff=staff, session_id=claims.session_id)


def _as_claimed(claims: security.TokenClaims, unavailable: Exception) -> SignedIn:
    """The signed-in staff user as the token says, for a route that answers without the database."""
    try:
        role = Role(claims.role or "")
    except ValueError:
        raise unavailable from None  # a token without a role we know: no way to decide
    log.warning(
        "session not checked: database unavailable",
        staff_id=str(claims.staff_id),
        session_id=str(claims.session_id),
    )
    staff = Staff(id=claims.staff_id, email="", role=role, is_active=True, password_hash="")
    return SignedIn(staff=staff, session_id=claims.session_id)


async def active_staff(session: AsyncSession, staff_id: uuid.UUID) -> Staff | None:
    """The staff user with this id if they exist and may sign in (e.g. to be assigned work)."""
    staff = await repository.by_id(session, staff_id)
    return staff if staff is not None and staff.is_active else None


async def _issue(
    session: AsyncSession,
    settings: GatewaySettings,
    staff: Staff,
    session_id: uuid.UUID,
    *,
    refresh_expires_in: int,
) -> Tokens:
    """An access token for the session, and its next refresh token (only the hash is stored)."""
    refresh_token, refresh_hash = security.new_refresh_token()
    await sessions.add_refresh_token(session, session_id, refresh_hash)
    access = security.issue_token(
        staff,
        session_id,
        secret=settings.crm_jwt_secret.get_secret_value(),
        ttl_seconds=settings.crm_access_token_ttl_seconds,
        now=datetime.now(UTC),
        issuer=settings.crm_jwt_issuer,
        audience=settings.crm_jwt_audience,
    )
    return Tokens(access, refresh_token, refresh_expires_in)


def _refresh_lifetime(settings: GatewaySettings) -> timedelta:
    return timedelta(seconds=settings.crm_refresh_token_ttl_seconds)


def _max_lifetime(settings: GatewaySettings) -> timedelta:
    return timedelta(seconds=settings.crm_session_max_lifetime_seconds)


def _seconds(left: timedelta) -> int:
    return max(0, int(left.total_seconds()))


async def purge(session: AsyncSession, settings: GatewaySettings) -> int:
    """Delete sign-in counters of past windows, long-ended sessions and old used refresh tokens."""
    done = await throttle.purge(session, window=timedelta(seconds=settings.crm_login_window_seconds))
    done += await sessions.purge(session, refresh_lifetime=_refresh_lifetime(settings), keep_ended=KEEP_ENDED)
    await session.commit()
    return done


def housekeeping(runtime: Runtime, settings: GatewaySettings) -> PeriodicTask:
    """`purge` every hour, on every replica (deleting twice is harmless)."""

    async def job() -> int:
        async with runtime.sessionmaker() as session:
            return await purge(session, settings)

    return PeriodicTask("auth-housekeeping", HOUSEKEEPING_SECONDS, job)


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
