"""Internal routes of the replies (ADR 7/17): the draft suggested to staff for a conversation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException

from crm_ai.config import AiSettings
from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime

from . import suggestions


def router(runtime: Runtime, settings: AiSettings) -> APIRouter:
    api = internal_router(settings.crm_internal_token)

    @api.get(
        "/conversations/{conversation_id}/suggestion",
        response_model=suggestions.Suggestion,
        responses={404: {"description": "No draft for this conversation."}},
    )
    async def suggestion(conversation_id: uuid.UUID) -> suggestions.Suggestion:
        """The latest answer drafted for staff in a conversation they handle, with its sources and
        the guards' warnings."""
        found = await suggestions.latest(runtime.uow, conversation_id)
        if found is None:
            raise HTTPException(404, "no suggestion for this conversation")
        return found

    return api
