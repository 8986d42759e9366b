"""The ai service's internal HTTP API (`/internal/v1`), as the gateway calls it: for now only the
PDPA export of the replies it generated for a customer. No call here carries anything a user typed
that it could refuse, so a refusal is a failure like its other errors (`ServiceFailed`, 502);
`AiUnavailable` (503) when it cannot be reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from crm_contracts import ChannelIdentity
from crm_gateway.clients.base import InternalApiClient
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


class AiClient(InternalApiClient):
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
