"""`/api/v1/conversations` and `/api/v1/messenger`: Messenger chats for staff, through the
messenger's internal API (see `messenger_client`).

Each route declares its permission (`conversation:read`, `conversation:reply`, `staff:admin`
for the quarantine; see `auth.permissions`), also named in its docstring. Who may act on which
conversation (ADR 10) is the messenger's check, on the conversation's row: every action says who
acts and whether their role has `conversation:manage` (`_actor`); a refusal is a 403.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.domain import Staff
from crm_gateway.auth.permissions import Permission, allow, allows
from crm_gateway.clients.ai import Suggestion
from crm_gateway.clients.messenger import (
    Actor,
    Conversation,
    ConversationFilters,
    ConversationMode,
    ConversationPage,
    ConversationThread,
    QuarantinePage,
    SentMessage,
)
from crm_gateway.conversations import service as conversations
from crm_gateway.deps import AiDep, MessengerDep, SessionDep, idempotency_key_header
from crm_gateway.errors import problem_responses

MAX_PAGE_SIZE = 200
MAX_REPLY_CHARS = 8000


_DESCRIBED = {
    403: "The signed-in staff user's role does not allow this, or the conversation is not theirs to act "
    "on: it is assigned to someone else, or assigning to someone else needs `conversation:manage`.",
    404: "No conversation has this id.",
    409: "The messenger refused: e.g. the 7-day reply window is closed. `detail` says why.",
    502: "The messenger failed to answer (an error of its own); try again, and tell an administrator "
    "if it keeps failing.",
    503: "The messenger did not answer; try again shortly.",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem answers a route can give besides 401 and 422."""
    return problem_responses(_DESCRIBED, *statuses)


def _actor(staff: Staff) -> Actor:
    """Staff without `conversation:manage` act only on conversations assigned to them or to nobody."""
    return Actor(staff.id, allows(staff.role, Permission.CONVERSATION_MANAGE))


class AssignIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"staff_id": "7d2c9a4e-1b3f-4e8a-9c6d-2f1e0a9b8c7d"}, {"staff_id": None}]
        },
    )

    staff_id: uuid.UUID | None = Field(description="The staff user to assign; null unassigns.")


class ReplyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "ยังว่างค่ะ เรียนทุกวันเสาร์ 10:00-15:00 ค่ะ"}]}
    )

    text: str = Field(min_length=1, max_length=MAX_REPLY_CHARS, description="Sent to the customer as is.")

    @field_validator("text")
    @classmethod
    def not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the reply is blank")
        return text


router = APIRouter(prefix="/conversations", tags=["conversations"])
messenger_router = APIRouter(prefix="/messenger", tags=["messenger"])


@router.get(
    "",
    summary="Conversations, most recent activity first",
    responses=_problems(502, 503),
    dependencies=[allow(Permission.CONVERSATION_READ)],
)
async def list_conversations(
    staff: CurrentStaff,
    messenger: MessengerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    mode: Annotated[ConversationMode | None, Query(description="Who answers now.")] = None,
    assigned: Annotated[str | None, Query(description=conversations.ASSIGNED_HELP)] = None,
    unread: Annotated[bool | None, Query(description="Only with (true) or without (false) unread.")] = None,
    needs_human: Annotated[bool | None, Query(description="Only those waiting for staff, or not.")] = None,
) -> ConversationPage:
    """Permission: `conversation:read`."""
    filters = ConversationFilters(
        mode=mode,
        assigned_staff_id=conversations.assigned_filter(assigned, staff),
        unread=unread,
        needs_human=needs_human,
    )
    return await messenger.conversations(filters, limit=limit, cursor=cursor)


@router.get(
    "/{conversation_id}",
    summary="One conversation and its latest messages",
    responses=_problems(404, 502, 503),
    dependencies=[allow(Permission.CONVERSATION_READ)],
)
async def get_conversation(
    conversation_id: uuid.UUID,
    messenger: MessengerDep,
    messages_limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    before: Annotated[str | None, Query(description="`next_cursor` of the previous answer.")] = None,
) -> ConversationThread:
    """Messages come oldest first; `next_cursor` pages to older ones. Permission: `conversation:read`."""
    return await messenger.conversation(conversation_id, messages_limit=messages_limit, before=before)


@router.post(
    "/{conversation_id}/assign",
    summary="Assign to a staff user, or unassign",
    responses=_problems(403, 404, 502, 503),
    dependencies=[allow(Permission.CONVERSATION_REPLY)],
)
async def assign_conversation(
    conversation_id: uuid.UUID,
    body: AssignIn,
    staff: CurrentStaff,
    session: SessionDep,
    messenger: MessengerDep,
) -> Conversation:
    """Permission: `conversation:reply`. Without `conversation:manage` only taking an unassigned
    conversation (assigning it to yourself) or releasing your own (null); assigning to someone
    else, or anything on a conversation someone else has, is a manager's (403)."""
    await conversations.check_assignee(session, body.staff_id)
    return await messenger.assign(conversation_id, body.staff_id, _actor(staff))


@router.post(
    "/{conversation_id}/handback",
    summary="Let the AI answer again",
    responses=_problems(403, 404, 409, 502, 503),
    dependencies=[allow(Permission.CONVERSATION_REPLY)],
)
async def hand_back_conversation(
    conversation_id: uuid.UUID, staff: CurrentStaff, messenger: MessengerDep
) -> Conversation:
    """Permission: `conversation:reply`, on a conversation assigned to you or to nobody
    (`conversation:manage`: any; 403 otherwise)."""
    return await messenger.hand_back(conversation_id, _actor(staff))


@router.post(
    "/{conversation_id}/read",
    summary="Mark as read (staff opened it)",
    responses=_problems(404, 502, 503),
    dependencies=[allow(Permission.CONVERSATION_READ)],
)
async def mark_conversation_read(conversation_id: uuid.UUID, messenger: MessengerDep) -> Conversation:
    """Sets the unread count back to 0. Permission: `conversation:read`."""
    return await messenger.mark_read(conversation_id)


@router.post(
    "/{conversation_id}/messages",
    dependencies=[allow(Permission.CONVERSATION_REPLY)],
    status_code=202,
    summary="Reply to the customer as the signed-in staff user",
    responses=_problems(403, 404, 409, 502, 503),
)
async def reply(
    conversation_id: uuid.UUID,
    body: ReplyIn,
    staff: CurrentStaff,
    messenger: MessengerDep,
    idempotency_key: Annotated[
        str | None, idempotency_key_header("Repeat it when retrying the same reply: it is sent once.")
    ] = None,
) -> SentMessage:
    """Accepted, not yet sent: the messenger sends it to Meta next, and the message's `status`
    follows. 409 when Messenger refuses (outside the 7-day window). Permission: `conversation:reply`,
    on a conversation assigned to you or to nobody (replying to an unassigned one assigns it to you);
    `conversation:manage` replies to any (403 otherwise)."""
    return await messenger.send_reply(
        conversation_id, text=body.text, actor=_actor(staff), idempotency_key=idempotency_key
    )


@router.get(
    "/{conversation_id}/suggestion",
    summary="The reply the AI drafted for staff",
    responses=problem_responses(
        {
            **_DESCRIBED,
            404: "The AI has drafted no reply for this conversation.",
            502: "The ai service failed to answer; try again, and tell an administrator if it keeps failing.",
            503: "The ai service did not answer; try again shortly.",
        },
        404,
        502,
        503,
    ),
    dependencies=[allow(Permission.CONVERSATION_REPLY)],
)
async def get_suggestion(conversation_id: uuid.UUID, ai: AiDep) -> Suggestion:
    """While staff answer a conversation themselves, the AI drafts a reply to the customer's latest
    message, with the knowledge-base passages it used and what to check before sending (e.g. an
    amount it could not confirm). Nothing is sent. Permission: `conversation:reply`."""
    return await ai.suggestion(conversation_id)


@messenger_router.get(
    "/quarantine",
    summary="Webhook items the messenger could not handle",
    responses=_problems(403, 502, 503),
    dependencies=[allow(Permission.STAFF_ADMIN)],
)
async def quarantine(
    messenger: MessengerDep, limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100
) -> QuarantinePage:
    """Permission: `staff:admin`. Payloads are raw webhook items and may hold personal data."""
    return await messenger.quarantine(limit=limit)
