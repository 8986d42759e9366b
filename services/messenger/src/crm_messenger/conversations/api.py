"""The internal API's conversation routes, for the gateway (the only door for staff, ADR 7): the
inbox, a conversation with its thread, assign, hand back to the AI, mark read. Every route needs
the shared service token in `X-Internal-Token`. The gateway decides what a staff member's role
allows; the actions that change a conversation say who acts, and who may act on which
conversation is checked here, on the locked row (`rules.staff_refusal`, ADR 10): 403 otherwise.
(A staff reply is `outbound.api`.)"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from crm_messenger.config import MessengerSettings
from crm_messenger.conversations import messages, service
from crm_messenger.conversations.schemas import (
    AssignRequest,
    ConversationDetail,
    ConversationPage,
    ConversationView,
    HandbackRequest,
    conversation_view,
    message_view,
)
from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime


def _encode(at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, name: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise HTTPException(422, f"{name}: not a cursor this API returned") from exc


def router(runtime: Runtime, settings: MessengerSettings) -> APIRouter:
    api = internal_router(settings.crm_internal_token)

    async def load(session: Any, conversation_id: uuid.UUID) -> Any:
        row = await service.get(session, conversation_id)
        if row is None:
            raise HTTPException(404, "no such conversation")
        return row

    @api.get("/conversations", response_model=ConversationPage)
    async def list_conversations(
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: str | None = None,
        mode: Literal["ai", "human"] | None = None,
        assigned_staff_id: str | None = Query(None, description="a staff id, or `unassigned`"),
        unread: bool | None = None,
        needs_human: bool | None = None,
    ) -> ConversationPage:
        assigned: uuid.UUID | str | None = assigned_staff_id
        if assigned_staff_id not in (None, "unassigned"):
            try:
                assigned = uuid.UUID(assigned_staff_id)
            except ValueError as exc:
                raise HTTPException(422, "assigned_staff_id: a staff id or `unassigned`") from exc
        after = _decode(cursor, "cursor") if cursor else None
        async with runtime.sessionmaker() as session:
            rows = await service.page(
                session,
                limit=limit + 1,
                after=after,
                mode=mode,
                assigned=assigned,
                unread=unread,
                needs_human=needs_human,
            )
        items = rows[:limit]
        more = len(rows) > limit
        return ConversationPage(
            items=[conversation_view(r) for r in items],
            next_cursor=_encode(items[-1].activity, items[-1].id) if more else None,
        )

    @api.get("/conversations/{conversation_id}", response_model=ConversationDetail)
    async def get_conversation(
        conversation_id: uuid.UUID,
        messages_limit: Annotated[int, Query(ge=1, le=200)] = 50,
        before: str | None = None,
    ) -> ConversationDetail:
        async with runtime.sessionmaker() as session:
            row = await load(session, conversation_id)
            rows = await messages.page(
                session,
                conversation_id,
                limit=messages_limit + 1,
                before=_decode(before, "before") if before else None,
            )
            page = rows[:messages_limit]
            reactions = await messages.reactions_for(session, row.page_id, [r.mid for r in page if r.mid])
        older = _encode(page[-1].created_at, page[-1].id) if len(rows) > messages_limit else None
        return ConversationDetail(
            conversation=conversation_view(row),
            messages=[message_view(r, reactions.get(r.mid)) for r in reversed(page)],
            next_cursor=older,
        )

    @api.post("/conversations/{conversation_id}/assign", response_model=ConversationView)
    async def assign(conversation_id: uuid.UUID, body: AssignRequest) -> ConversationView:
        async with runtime.uow() as uow:
            try:
                row = await service.assign(uow.session, conversation_id, body.staff_id, body.actor())
            except service.NotYours as exc:
                raise HTTPException(403, str(exc)) from exc
            if row is None:
                raise HTTPException(404, "no such conversation")
            await uow.commit()
            return conversation_view(await load(uow.session, conversation_id))

    @api.post("/conversations/{conversation_id}/handback", response_model=ConversationView)
    async def handback(conversation_id: uuid.UUID, body: HandbackRequest) -> ConversationView:
        """Staff hand the conversation back to the AI."""
        now = datetime.now(UTC)
        async with runtime.uow() as uow:
            try:
                row = await service.hand_back(uow, conversation_id, body.actor(), now)
            except service.NotYours as exc:
                raise HTTPException(403, str(exc)) from exc
            if row is None:
                raise HTTPException(404, "no such conversation")
            await uow.commit()
            return conversation_view(await load(uow.session, conversation_id))

    @api.post("/conversations/{conversation_id}/read", response_model=ConversationView)
    async def mark_read(conversation_id: uuid.UUID) -> ConversationView:
        async with runtime.uow() as uow:
            await load(uow.session, conversation_id)
            await service.mark_read(uow.session, conversation_id)
            await uow.commit()
            return conversation_view(await load(uow.session, conversation_id))

    return api
