"""The internal API's bodies for the quarantine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class QuarantinedView(BaseModel):
    id: int
    received_at: datetime
    page_id: str | None
    kind: str
    reason: str
    payload: dict[str, Any]


class QuarantineList(BaseModel):
    items: list[QuarantinedView]
