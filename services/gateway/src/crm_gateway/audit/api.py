"""`/api/v1/audit`: who changed what and when (personal data masked), and an admin's undo of a merge."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import desc, literal, select, tuple_

from crm_contracts.snapshots import CustomerSnapshot
from crm_gateway.audit.models import audit_log as t
from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.customers import merges
from crm_gateway.deps import SessionDep, UowDep
from crm_gateway.errors import InvalidParameter, problem_responses

router = APIRouter(prefix="/audit", tags=["audit"])

PROBLEMS = {
    401: "Not signed in.",
    403: "Your role does not allow this.",
    404: "No such audit entry (or it is not a merge).",
    409: "The merge cannot be undone now; `detail` says why.",
    422: "A parameter is invalid; `errors` names it.",
}


class AuditEntryOut(BaseModel):
    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None = Field(description="Null: the system (an event, an import).")
    actor_role: str | None
    action: str = Field(examples=["customer.update"])
    entity_type: str = Field(examples=["customer"])
    entity_id: str = Field(examples=["TVS-CUS-FB-26-0001"])
    changes: dict[str, Any] = Field(
        description="`{field: {before, after}}` of the fields that changed; personal data masked.",
        examples=[{"phone": {"before": "+66******678", "after": "+66******321"}}],
    )
    undoable: bool = Field(description="A merge an admin can still undo.")
    undone_at: datetime | None


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


class UndoOut(BaseModel):
    survivor: CustomerSnapshot
    restored: CustomerSnapshot


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
    since: Annotated[datetime | None, Query(description="At or after.")] = None,
    until: Annotated[datetime | None, Query(description="Before.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="`next_cursor` of the previous page.")
    ] = None,
) -> AuditPageOut:
    query = select(t).order_by(desc(t.c.at), desc(t.c.id)).limit(limit + 1)
    for column, value in (
        (t.c.entity_type, entity_type),
        (t.c.entity_id, entity_id),
        (t.c.actor_id, actor_id),
        (t.c.action, action),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(t.c.at >= since)
    if until is not None:
        query = query.where(t.c.at < until)
    if cursor is not None:
        at, entry_id = _decode(cursor)
        query = query.where(
            tuple_(t.c.at, t.c.id) < tuple_(literal(at, t.c.at.type), literal(entry_id, t.c.id.type))
        )
    rows = (await session.execute(query)).all()
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
        for r in rows[:limit]
    ]
    next_cursor = _encode(items[-1].at, items[-1].id) if len(rows) > limit else None
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


def _encode(at: datetime, entry_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(entry_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at_text, entry_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError("naive time")
        return at, uuid.UUID(entry_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, AttributeError) as exc:
        raise InvalidParameter("cursor", "query", "Not a cursor this API returned.") from exc
