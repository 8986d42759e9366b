"""The internal API's staff reply, for the gateway (ADR 7): accepted under Messenger's rules
(409 with the reason when no reply is allowed now; 403 when the staff member may not act on the
conversation, ADR 10; the first to answer an unassigned one has it from then on), answered with
202 at once and sent in the background. Needs the shared service token in `X-Internal-Token`."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse

from crm_messenger.config import MessengerSettings
from crm_messenger.conversations import messages
from crm_messenger.conversations import service as conversations
from crm_messenger.conversations.schemas import message_view
from crm_messenger.outbound import service
from crm_messenger.outbound.schemas import StaffReplyAccepted, StaffReplyRequest
from crm_messenger.outbound.sender import Sender
from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime


def router(runtime: Runtime, settings: MessengerSettings, sender: Sender) -> APIRouter:
    api = internal_router(settings.crm_internal_token)

    @api.post("/conversations/{conversation_id}/messages", status_code=202, response_model=StaffReplyAccepted)
    async def staff_reply(conversation_id: uuid.UUID, body: StaffReplyRequest) -> Any:
        message_id: uuid.UUID | None = None
        try:
            async with runtime.uow() as uow:
                message_id = await service.staff_reply(
                    uow,
                    conversation_id,
                    actor=body.actor(),
                    text=body.text,
                    idempotency_key=body.idempotency_key,
                )
        except service.ConversationNotFound as exc:
            raise HTTPException(404, "no such conversation") from exc
        except conversations.NotYours as exc:
            raise HTTPException(403, str(exc)) from exc
        except service.WindowClosed as exc:
            return JSONResponse(
                {"title": "Messenger does not allow a reply now", "status": 409, "detail": str(exc)},
                status_code=409,
                media_type="application/problem+json",
            )
        finally:
            # Committed, even if the request is cancelled while its session closes: wake the sender.
            if message_id is not None:
                sender.send_soon(conversation_id)
        async with runtime.sessionmaker() as session:
            row = await messages.get(session, message_id)
        return StaffReplyAccepted(message=message_view(row))

    return api
