"""Every SQL statement about staff users."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.models import staff_users as t

from .domain import Role, Staff


def _staff(row: Any) -> Staff:
    return Staff(
        id=row.id,
        email=row.email,
        role=Role(row.role),
        is_active=row.is_active,
        password_hash=row.password_hash,
    )


async def by_email(session: AsyncSession, email: str) -> Staff | None:
    row = (await session.execute(select(t).where(t.c.email == email))).first()
    return _staff(row) if row else None


async def by_id(session: AsyncSession, staff_id: uuid.UUID) -> Staff | None:
    row = (await session.execute(select(t).where(t.c.id == staff_id))).first()
    return _staff(row) if row else None


async def exists(session: AsyncSession, email: str) -> bool:
    return (await session.execute(select(t.c.id).where(t.c.email == email))).first() is not None


async def insert_if_absent(
    session: AsyncSession, *, email: str, password_hash: str, role: Role
) -> uuid.UUID | None:
    """Insert unless the e-mail is taken (also by a concurrent replica). The new id, or None."""
    stmt = (
        insert(t)
        .values(email=email, password_hash=password_hash, role=role.value)
        .on_conflict_do_nothing(index_elements=[t.c.email])
        .returning(t.c.id)
    )
    row = (await session.execute(stmt)).first()
    return row.id if row else None
