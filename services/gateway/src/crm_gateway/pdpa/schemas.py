"""The PDPA API's response models: the export document (`CustomerExport`) and an erasure request
with each service's step."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_gateway.clients.ai import REPLY_EXAMPLE, AiExport
from crm_gateway.clients.messenger import CONVERSATION_EXAMPLE, MESSAGE_EXAMPLE, MessengerExport

Row = dict[str, Any]

# --- the export --------------------------------------------------------------------------------

_PROFILE_EXAMPLE: Row = {
    "id": "TVS-CUS-FB-26-0001",
    "channel": "FB",
    "display_name": "Somchai Jaidee",
    "name_th": "สมชาย ใจดี",
    "phone": "+66812345678",
    "email": "somchai@example.com",
    "state": "active",
    "identities": [{"channel": "messenger", "page_id": "1029384756", "external_id": "6543210987654321"}],
}


class CustomerExport(BaseModel):
    """Everything the system holds on one customer. Every row is exported with all its columns."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "exported_at": "2026-05-02T08:00:00Z",
                    "customer_id": "TVS-CUS-FB-26-0001",
                    "profile": _PROFILE_EXAMPLE,
                    "merged_customers": [],
                    "stage_history": [
                        {"from_stage": None, "to_stage": "lead", "changed_at": "2026-04-28T09:00:00Z"}
                    ],
                    "notes": [{"body": "Prefers weekend classes.", "created_at": "2026-04-29T10:00:00Z"}],
                    "timeline": [{"kind": "order_created", "detail": {"total": "12500.00"}}],
                    "orders": [{"total": "12500.00", "lines": [], "payments": []}],
                    "audit": [
                        {
                            "action": "customer.update",
                            "changes": {"phone": {"before": None, "after": "+66***678"}},
                        }
                    ],
                    "messenger": {
                        "service": "messenger",
                        "conversations": [{**CONVERSATION_EXAMPLE, "messages": [MESSAGE_EXAMPLE]}],
                    },
                    "ai": {"service": "ai", "replies": [REPLY_EXAMPLE]},
                }
            ]
        }
    )

    exported_at: datetime
    customer_id: str
    profile: Row = Field(description="Every field of the customer, with its channel `identities`.")
    merged_customers: list[Row] = Field(description="Customers merged into this one (the same person).")
    stage_history: list[Row]
    notes: list[Row]
    timeline: list[Row]
    orders: list[Row] = Field(description="Each with its `lines` and `payments`.")
    audit: list[Row] = Field(description="Audit entries about the customer and their orders.")
    messenger: MessengerExport
    ai: AiExport


# --- erasure requests --------------------------------------------------------------------------

_REQUEST_ID = "3f1c2b7a-9d4e-4c1b-8a6f-0e2d5c7b9a18"
_REQUEST_EXAMPLE: dict[str, Any] = {
    "id": _REQUEST_ID,
    "customer_id": "TVS-CUS-FB-26-0001",
    "requested_at": "2026-05-02T08:00:00Z",
    "completed_at": None,
    "steps": [
        {
            "service": "ai",
            "status": "pending",
            "erased": {},
            "detail": None,
            "finished_at": None,
        },
        {
            "service": "cache-writer",
            "status": "pending",
            "erased": {},
            "detail": None,
            "finished_at": None,
        },
        {
            "service": "gateway",
            "status": "completed",
            "erased": {"customers": 1, "identities": 1, "notes": 2, "orders_anonymised": 1},
            "detail": None,
            "finished_at": "2026-05-02T08:00:00Z",
        },
        {
            "service": "messenger",
            "status": "failed",
            "erased": {},
            "detail": "database unavailable; retried",
            "finished_at": "2026-05-02T08:00:01Z",
        },
    ],
}


class ErasureStepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    service: str = Field(description="The service that holds (held) a copy: gateway, messenger, ai, ...")
    status: Literal["pending", "completed", "failed"]
    erased: dict[str, int] = Field(description="What it deleted or anonymised, counted by kind.")
    detail: str | None = Field(description="Why it failed (never personal data).")
    finished_at: datetime | None


class ErasureRequestOut(BaseModel):
    """One erasure of a customer, with each service's progress; complete when `completed_at` is set."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_REQUEST_EXAMPLE]})

    id: uuid.UUID
    customer_id: str
    requested_at: datetime
    completed_at: datetime | None = Field(description="When every service had completed its step.")
    steps: list[ErasureStepOut]


class ErasureRequestList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_REQUEST_EXAMPLE]}]})

    items: list[ErasureRequestOut] = Field(description="Newest first.")
