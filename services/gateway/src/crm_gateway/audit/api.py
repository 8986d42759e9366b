"""`/api/v1/audit`: who changed what and when (personal data masked), and an admin's undo of a merge.

The log is read through `audit.service.list_entries`; the undo is the customers capability's
(`customers.merges.undo`), which marks the merge's entry undone in the same transaction.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from crm_gateway.audit import service
from crm_gateway.audit.schemas import AuditEntryOut, AuditPageOut, UndoOut
from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.customers import merges
from crm_gateway.deps import SessionDep, UowDep
from crm_gateway.errors import problem_responses
from crm_servicekit.storable import StorableMoment

router = APIRouter(prefix="/audit", tags=["audit"])

PROBLEMS = {
    401: "Not signed in.",
    403: "Your role does not allow this.",
    404: "No such audit entry (or it is not a merge).",
    409: "The merge cannot be undone now; `detail` says why.",
    422: "A parameter is invalid; `errors` names it.",
}


@router.get(
    "",
    summary="The audit log, newest first",
    dependencies=[allow(Permission.AUDIT_READ)],
    responses=problem_responses(PROBLEMS, 401, 403, 422),
)
async def list_entries(
    session: SessionDep,
    entity_type: Annotated[str | None, Query(max_length=50, examples=["customer"])] = None,
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=100, examples=["customer.merge"])] = None,
    since: Annotated[StorableMoment | None, Query(description="At or after.")] = None,
    until: Annotated[StorableMoment | None, Query(description="Before.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="`next_cursor` of the previous page.")
    ] = None,
) -> AuditPageOut:
    filters = service.Filters(entity_type, entity_id, actor_id, action, since, until)
    rows, next_cursor = await service.list_entries(session, filters, limit=limit, cursor=cursor)
    items = [
        AuditEntryOut(
            id=r.id,
            at=r.at,
            actor_id=r.actor_id,
            actor_role=r.actor_role,
            action=r.action,
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            changes=r.changes,
            undoable=r.action == merges.MERGE_ACTION and r.undo is not None and r.undone_at is None,
            undone_at=r.undone_at,
        )
        for r in rows
    ]
    return AuditPageOut(items=items, next_cursor=next_cursor)


@router.post(
    "/{entry_id}/undo",
    summary="Undo a merge (admins only)",
    dependencies=[allow(Permission.STAFF_ADMIN)],
    responses=problem_responses(PROBLEMS, 401, 403, 404, 409, 422),
)
async def undo_merge(
    entry_id: Annotated[uuid.UUID, Path(description="The audit entry of the merge (`merge_id`).")],
    staff: CurrentStaff,
    uow: UowDep,
) -> UndoOut:
    """The merged customer exists on its own again with what was moved from it; fields staff
    changed on the survivor since the merge keep their new values."""
    async with uow:
        survivor, restored = await merges.undo(uow, entry_id, staff=staff)
        await uow.commit()
    return UndoOut(survivor=survivor, restored=restored)
