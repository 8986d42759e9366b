"""Every SQL statement about staff users (sessions: `sessions.py`; sign-in attempts: `throttle.py`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth.models import staff_users as t
from crm_gateway.reads import HotReads

from .domain import Role, Staff, StaffAccount

# Taken by every change that could leave the CRM without an active admin, so two admins
# demoting each other at once cannot both pass the "another admin remains" check.
_ADMIN_CHANGES_LOCK = "gateway.staff_users.admins"


def staff_from_row(row: Any) -> Staff:
    return Staff(
        id=row.id,
        email=row.email,
        role=Role(row.role),
        is_active=row.is_active,
        password_hash=row.password_hash,
    )


def _account(row: Any) -> StaffAccount:
    return StaffAccount(
        id=row.id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        is_active=row.is_active,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_ACCOUNT_COLUMNS = (
    t.c.id,
    t.c.email,
    t.c.name,
    t.c.role,
    t.c.is_active,
    t.c.version,
    t.c.created_at,
    t.c.updated_at,
)


async def by_email(session: AsyncSession, email: str) -> Staff | None:
    row = (await session.execute(select(t).where(t.c.email == email))).first()
    return staff_from_row(row) if row else None


async def by_id(session: AsyncSession, staff_id: uuid.UUID) -> Staff | None:
    row = (await session.execute(select(t).where(t.c.id == staff_id))).first()
    return staff_from_row(row) if row else None


async def exists(session: AsyncSession, email: str) -> bool:
    return (await session.execute(select(t.c.id).where(t.c.email == email))).first() is not None


async def insert_if_absent(
    session: AsyncSession, *, email: str, password_hash: str, role: Role, name: str | None = None
) -> uuid.UUID | None:
    """Insert unless the e-mail is taken (also by a concurrent replica). The new id, or None."""
    stmt = (
        insert(t)
        .values(email=email, password_hash=password_hash, role=role.value, name=name)
        .on_conflict_do_nothing(index_elements=[t.c.email])
        .returning(t.c.id)
    )
    row = (await session.execute(stmt)).first()
    return row.id if row else None


async def account(
    session: AsyncSession, staff_id: uuid.UUID, *, for_update: bool = False
) -> StaffAccount | None:
    stmt = select(*_ACCOUNT_COLUMNS).where(t.c.id == staff_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).first()
    return _account(row) if row else None


async def accounts(session: AsyncSession, *, role: Role | None, active: bool | None) -> list[StaffAccount]:
    stmt = select(*_ACCOUNT_COLUMNS).order_by(t.c.email)
    if role is not None:
        stmt = stmt.where(t.c.role == role.value)
    if active is not None:
        stmt = stmt.where(t.c.is_active.is_(active))
    return [_account(row) for row in await session.execute(stmt)]


async def update_account(session: AsyncSession, staff_id: uuid.UUID, values: dict[str, Any]) -> StaffAccount:
    """Apply an admin's change; the version grows by one (the ETag changes)."""
    stmt = (
        update(t)
        .where(t.c.id == staff_id)
        .values(**values, version=t.c.version + 1, updated_at=func.now())
        .returning(*_ACCOUNT_COLUMNS)
    )
    return _account((await session.execute(stmt)).one())


async def set_password_hash(session: AsyncSession, staff_id: uuid.UUID, password_hash: str) -> None:
    """A new password. The version stays: nothing the admin screens show has changed."""
    await session.execute(
        update(t).where(t.c.id == staff_id).values(password_hash=password_hash, updated_at=func.now())
    )


async def lock_admin_changes(session: AsyncSession) -> None:
    """Serialise changes of roles and activity until this transaction ends (they are rare)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": _ADMIN_CHANGES_LOCK}
    )


async def count_active_admins(session: AsyncSession, *, besides: uuid.UUID) -> int:
    stmt = select(func.count()).where(t.c.role == Role.ADMIN.value, t.c.is_active, t.c.id != besides)
    return int((await session.execute(stmt)).scalar_one())


STAFF_IN_SESSION = """
SELECT u.id, u.email, u.role, u.is_active, u.password_hash
FROM gateway.staff_sessions s JOIN gateway.staff_users u ON u.id = s.staff_id
WHERE s.id = $1 AND s.staff_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active
"""


async def staff_in_session(reads: HotReads, staff_id: uuid.UUID, session_id: uuid.UUID) -> Staff | None:
    """The staff user if the session is theirs, live, and they are active (on the hot-read pool:
    this runs on every request)."""
    row = await reads.pool.fetchrow(STAFF_IN_SESSION, session_id, staff_id)
    if row is None:
        return None
    return Staff(
        id=row["id"],
        email=row["email"],
        role=Role(row["role"]),
        is_active=row["is_active"],
        password_hash=row["password_hash"],
    )
