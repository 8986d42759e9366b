"""Every SQL statement about staff sessions and their refresh tokens.

A session starts at sign-in and ends when it is revoked (sign-out, a reused refresh token, a
deactivation or a new password), when nobody refreshed it for the refresh lifetime, or when its
absolute lifetime since sign-in has passed, refreshed or not (`expires_at` never goes past
`created_at` + that). Each refresh token is used once: using it marks it used and a new one
takes its place.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth.models import staff_refresh_tokens as tokens
from crm_gateway.auth.models import staff_sessions as s
from crm_gateway.auth.models import staff_users as u

from .domain import Staff
from .repository import staff_from_row


async def start(
    session: AsyncSession, staff_id: uuid.UUID, *, lifetime: timedelta, max_lifetime: timedelta
) -> tuple[uuid.UUID, datetime, datetime]:
    """A new session: its id, when it ends unless refreshed, and the database's now."""
    stmt = (
        insert(s)
        .values(staff_id=staff_id, expires_at=func.now() + min(lifetime, max_lifetime))
        .returning(s.c.id, s.c.expires_at, func.now())
    )
    session_id, expires_at, now = (await session.execute(stmt)).one()
    return session_id, expires_at, now


async def add_refresh_token(session: AsyncSession, session_id: uuid.UUID, token_hash: str) -> None:
    await session.execute(insert(tokens).values(session_id=session_id, token_hash=token_hash))


async def use_refresh_token(session: AsyncSession, token_hash: str) -> uuid.UUID | None:
    """Mark the token used; its session's id, or None if it is unknown or was used before.

    The `used_at IS NULL` condition makes this the one place two concurrent refreshes with the
    same token are told apart: the second waits for the first's row lock, then matches nothing.
    """
    stmt = (
        update(tokens)
        .where(tokens.c.token_hash == token_hash, tokens.c.used_at.is_(None))
        .values(used_at=func.now())
        .returning(tokens.c.session_id)
    )
    session_id: uuid.UUID | None = (await session.execute(stmt)).scalar_one_or_none()
    return session_id


async def session_of_token(session: AsyncSession, token_hash: str) -> uuid.UUID | None:
    stmt = select(tokens.c.session_id).where(tokens.c.token_hash == token_hash)
    session_id: uuid.UUID | None = (await session.execute(stmt)).scalar_one_or_none()
    return session_id


async def extend_live(
    session: AsyncSession, session_id: uuid.UUID, *, lifetime: timedelta, max_lifetime: timedelta
) -> tuple[Staff, datetime, datetime] | None:
    """Give a live session of an active staff user another `lifetime`, never past `max_lifetime`
    after it started: that user, when the session now ends, and the database's now; else None."""
    ends = func.least(func.now() + lifetime, s.c.created_at + max_lifetime)
    stmt = (
        update(s)
        .where(
            s.c.id == session_id,
            s.c.revoked_at.is_(None),
            s.c.expires_at > func.now(),
            s.c.created_at + max_lifetime > func.now(),
            s.c.staff_id == u.c.id,
            u.c.is_active,
        )
        .values(expires_at=ends)
        .returning(*u.c, s.c.expires_at.label("session_expires_at"), func.now().label("db_now"))
    )
    row = (await session.execute(stmt)).first()
    return (staff_from_row(row), row.session_expires_at, row.db_now) if row else None


async def revoke(session: AsyncSession, session_id: uuid.UUID, reason: str) -> bool:
    """End one session; False if it had already ended."""
    stmt = (
        update(s)
        .where(s.c.id == session_id, s.c.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_reason=reason)
        .returning(s.c.id)
    )
    return (await session.execute(stmt)).first() is not None


async def revoke_all(session: AsyncSession, staff_id: uuid.UUID, reason: str) -> int:
    """End every session of a staff user; how many were still open."""
    stmt = (
        update(s)
        .where(s.c.staff_id == staff_id, s.c.revoked_at.is_(None), s.c.expires_at > func.now())
        .values(revoked_at=func.now(), revoked_reason=reason)
        .returning(s.c.id)
    )
    return len((await session.execute(stmt)).all())


async def purge(session: AsyncSession, *, refresh_lifetime: timedelta, keep_ended: timedelta) -> int:
    """Delete sessions ended longer than `keep_ended` ago (their tokens go with them) and used
    refresh tokens older than a refresh lifetime (past it, reuse would be refused as unknown)."""
    ended = await session.execute(
        delete(s)
        .where(or_(s.c.expires_at < func.now() - keep_ended, s.c.revoked_at < func.now() - keep_ended))
        .returning(s.c.id)
    )
    used = await session.execute(
        delete(tokens).where(tokens.c.used_at < func.now() - refresh_lifetime).returning(tokens.c.id)
    )
    return len(ended.all()) + len(used.all())
