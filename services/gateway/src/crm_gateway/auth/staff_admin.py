"""The rules of staff administration: accounts, roles, deactivation and passwords set by an admin.

Every write is audited in its own transaction (email and name masked, passwords never). A
deactivation or a new password ends every session of that staff user; a role change needs
nothing of the kind, since the role is read from the database on every request. The CRM always
keeps one active admin, and an admin cannot lock themself out.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.audit import service as audit
from crm_gateway.auth.errors import StaffConflict, StaffNotFound
from crm_gateway.etags import check_if_match
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import repository, security
from . import sessions_repository as sessions
from . import throttle_repository as throttle
from .domain import Role, Staff, StaffAccount, normalise_email

log = get_logger(__name__)


async def create(
    uow: UnitOfWork, actor: Staff, *, email: str, name: str, role: Role, password: str
) -> StaffAccount:
    email = normalise_email(email)
    password_hash = await asyncio.to_thread(security.hash_password, password)
    staff_id = await repository.insert_if_absent(
        uow.session, email=email, password_hash=password_hash, role=role, name=name
    )
    if staff_id is None:
        raise StaffConflict("A staff user with this e-mail address exists already.")
    account = await get(uow.session, staff_id)
    await audit.record(
        uow.session, actor=actor, action="staff.create", entity=_entity(staff_id), after=account.audited()
    )
    await uow.commit()
    return account


async def update(
    uow: UnitOfWork, actor: Staff, staff_id: uuid.UUID, changes: dict[str, Any], if_match: str | None
) -> StaffAccount:
    """Apply `changes` (name, role, is_active) to the version `if_match` names."""
    await repository.lock_admin_changes(uow.session)
    before = await get(uow.session, staff_id, for_update=True)
    check_if_match(if_match, before.version)
    changes = {k: v for k, v in changes.items() if getattr(before, k) != v}
    if not changes:
        return before
    _check_not_self_deactivation(actor, before, changes)
    await _check_an_admin_remains(uow, before, changes)
    values = {k: v.value if isinstance(v, Role) else v for k, v in changes.items()}
    after = await repository.update_account(uow.session, staff_id, values)
    ended = 0
    if before.is_active and not after.is_active:
        ended = await sessions.revoke_all(uow.session, staff_id, "deactivated")
    await audit.record(
        uow.session,
        actor=actor,
        action=_update_action(before, after),
        entity=_entity(staff_id),
        before=before.audited(),
        after=after.audited(),
    )
    await uow.commit()
    if ended:
        log.info("staff deactivated; sessions ended", staff_id=str(staff_id), sessions=ended)
    return after


async def set_password(uow: UnitOfWork, actor: Staff, staff_id: uuid.UUID, password: str) -> None:
    """A new password from an admin: every session of its owner ends, and a sign-in lockout of
    the account is lifted so the new password works at once."""
    account = await get(uow.session, staff_id, for_update=True)
    password_hash = await asyncio.to_thread(security.hash_password, password)
    await repository.set_password_hash(uow.session, staff_id, password_hash)
    ended = await sessions.revoke_all(uow.session, staff_id, "password_reset")
    await throttle.clear_account(uow.session, account.email)
    await audit.record(uow.session, actor=actor, action="staff.password_reset", entity=_entity(staff_id))
    await uow.commit()
    log.info("staff password reset by an admin", staff_id=str(staff_id), sessions=ended)


async def list_accounts(
    session: AsyncSession, *, role: Role | None, active: bool | None
) -> list[StaffAccount]:
    return await repository.accounts(session, role=role, active=active)


async def get(session: AsyncSession, staff_id: uuid.UUID, *, for_update: bool = False) -> StaffAccount:
    account = await repository.account(session, staff_id, for_update=for_update)
    if account is None:
        raise StaffNotFound(staff_id)
    return account


def _check_not_self_deactivation(actor: Staff, before: StaffAccount, changes: dict[str, Any]) -> None:
    if before.id == actor.id and changes.get("is_active") is False:
        raise StaffConflict("You cannot deactivate your own account; ask another admin.")


async def _check_an_admin_remains(uow: UnitOfWork, before: StaffAccount, changes: dict[str, Any]) -> None:
    """Refuse to demote or deactivate the last active admin (callers hold the admin-changes lock)."""
    was_active_admin = before.role is Role.ADMIN and before.is_active
    stays = changes.get("role", before.role) == Role.ADMIN and changes.get("is_active", before.is_active)
    if (
        was_active_admin
        and not stays
        and not await repository.count_active_admins(uow.session, besides=before.id)
    ):
        raise StaffConflict("This is the last active admin; make another staff user an admin first.")


def _update_action(before: StaffAccount, after: StaffAccount) -> str:
    if before.is_active != after.is_active:
        return "staff.deactivate" if not after.is_active else "staff.reactivate"
    return "staff.update"


def _entity(staff_id: uuid.UUID) -> tuple[str, str]:
    return ("staff", str(staff_id))
