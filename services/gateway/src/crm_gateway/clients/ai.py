"""The ai service's internal HTTP API (`/internal/v1`), as the gateway calls it: the PDPA export of
the replies it generated for a customer, the reply it drafted for staff in a conversation they
answer themselves, and the knowledge base (`clients/knowledge.py`, whose uploads carry what staff
chose and keep the ai's refusals). Otherwise no call carries anything a user typed that it could
refuse, so a refusal is a failure like its other errors (`ServiceFailed`, 502); `AiUnavailable`
(503) when it cannot be reached.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from crm_contracts import ChannelIdentity
from crm_gateway.clients.knowledge import KnowledgeCalls
from crm_gateway.errors import RETRY_SOON, Problem
from crm_servicekit.logging import get_logger

log = get_logger(__name__)

REPLY_EXAMPLE: dict[str, Any] = {
    "message_id": "5e1d7c3b-8a2f-4b6e-9d0c-1a2b3c4d5e6f",
    "psid": "6543210987654321",
    "text": "คอร์สซูชิรอบเดือนพฤษภาคมยังว่างค่ะ",
    "language": "th",
    "generated_by": "gemini",
    "created_at": "2026-05-01T03:15:04Z",
}


class AiUnavailable(Problem):
    status = 503
    slug = "ai-unavailable"
    title = "AI service unavailable"
    headers = RETRY_SOON

    def __init__(self) -> None:
        super().__init__("The AI service is unavailable, try again shortly.")


class AiExport(BaseModel):
    """Everything the ai service holds on some identities (PDPA access), as it answers: kept
    whole, sections the gateway does not know included."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra={"examples": [{"service": "ai", "replies": [REPLY_EXAMPLE]}]}
    )

    service: str = "ai"
    replies: list[dict[str, JsonValue]] = Field(description="The replies it generated for the customer.")


SUGGESTION_EXAMPLE: dict[str, Any] = {
    "conversation_id": "0b8f5a52-2c1e-4c55-9a3e-5d8f0e7b2a10",
    "text": "คอร์สซูชิพื้นฐานราคา 4,500 บาทค่ะ เรียนวันเสาร์ 10:00-15:00 ค่ะ",
    "language": "th",
    "sources": [
        {
            "chunk_id": "8e7d6c5b-4a3f-4e2d-9c1b-0a9f8e7d6c5b",
            "document_id": "3f6c1e2a-9b7d-4c5e-8a1f-2d3c4b5a6e7f",
            "title": "Sushi basics course",
            "heading_path": ["คอร์สซูชิพื้นฐาน", "ราคา"],
            "score": 0.82,
        }
    ],
    "warnings": [{"reason": "unsupported_amount", "detail": "THB 3,900 is in no passage or product"}],
    "created_at": "2026-05-01T03:15:04Z",
}


class SuggestionSource(BaseModel):
    """A knowledge-base passage the draft is based on."""

    chunk_id: uuid.UUID
    document_id: uuid.UUID
    title: str = Field(description="The document's title.")
    heading_path: list[str] = Field(description="The headings the passage sits under.")
    score: float


class SuggestionWarning(BaseModel):
    """What the ai's checks found, for staff to weigh before sending."""

    reason: str = Field(description="A check's code, e.g. `unsupported_amount`, `no_relevant_knowledge`.")
    detail: str | None = None


class Suggestion(BaseModel):
    """The reply the ai drafted for staff to send, edit or ignore, with what it was based on."""

    model_config = ConfigDict(json_schema_extra={"examples": [SUGGESTION_EXAMPLE]})

    conversation_id: uuid.UUID
    text: str = Field(description="The draft, in the customer's language.")
    language: str
    sources: list[SuggestionSource] = Field(description="The knowledge-base passages it is based on.")
    warnings: list[SuggestionWarning] = Field(description="What to check before sending it.")
    created_at: datetime


class SuggestionNotFound(Problem):
    status = 404
    slug = "suggestion-not-found"
    title = "No suggestion"

    def __init__(self, conversation_id: uuid.UUID) -> None:
        super().__init__(
            f"The AI has drafted no reply for the conversation {str(conversation_id)!r} "
            "(it drafts one when a customer writes while staff answer)."
        )


class AiClient(KnowledgeCalls):
    """Typed calls to the ai service's internal API."""

    service = "ai"

    def unavailable(self) -> Problem:
        return AiUnavailable()

    def conflict(self, detail: str | None) -> Problem:
        log.warning("ai internal api refused a call", status=409)
        return self.failed()

    def rejected(self, detail: str | None) -> Problem:
        log.warning("ai internal api rejected a call", status=422)
        return self.failed()

    async def export(self, identities: Sequence[ChannelIdentity]) -> AiExport:
        """What the ai service holds on these identities, for a customer's PDPA export."""
        body = {"identities": [i.model_dump(mode="json") for i in identities]}
        return await self._call("POST", "/pdpa/export", AiExport, json=body)

    async def suggestion(self, conversation_id: uuid.UUID) -> Suggestion:
        """The latest reply the ai drafted for staff in this conversation; 404 when there is none."""
        return await self._call(
            "GET",
            f"/conversations/{conversation_id}/suggestion",
            Suggestion,
            not_found=lambda: SuggestionNotFound(conversation_id),
        )
