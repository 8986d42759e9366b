"""The audit API's response models: an entry as staff see it (personal data masked), a page of
them, and the two customers a merge's undo leaves."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from crm_contracts.snapshots import CustomerSnapshot


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
