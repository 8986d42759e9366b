"""What a PDPA export shows of a customer's lead and insights (the ai's copy, as stored)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ExportedLead(BaseModel):
    page_id: str
    psid: str
    conversation_id: uuid.UUID | None
    score: int
    temperature: str
    signals: dict[str, Any]
    product_ids: list[uuid.UUID]
    message_count: int
    language: str | None
    last_message_at: datetime | None
    scored_at: datetime


class ExportedInsights(BaseModel):
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    intent: str | None
    interested_product_ids: list[uuid.UUID]
    preferred_schedule: str | None
    budget: str | None
    objections: list[str]
    language: str | None
    next_best_action: str | None
    summary: str
    source: str
    generated_at: datetime
