"""Internal API for the gateway, the only door for staff (ADR 7). Every route needs the shared
service token in `X-Internal-Token`; the gateway decides which staff member may do what."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime

from . import outbound, repository
from .config import MessengerSettings
from .conversation_events import mode_changed
from .pdpa import export as pdpa_export
from .rules import reply_window


class ReplyWindowView(BaseModel):
    can_reply: bool
    messaging_type: Literal["RESPONSE", "MESSAGE_TAG"] | None
    tag: Literal["HUMAN_AGENT"] | None
    closes_at: datetime | None


class ConversationView(BaseModel):
    id: uuid.UUID
    page_id: str
    psid: str
    status: str
    mode: Literal["ai", "human"]
    needs_human: bool
    handover_reason: str | None
    assigned_staff_id: uuid.UUID | None
    first_name: str | None
    last_name: str | None
    profile_pic: str | None
    last_customer_message_at: datetime | None
    last_message_at: datetime | None
    unread_count: int
    reply_window: ReplyWindowView
    created_at: datetime


class ReactionView(BaseModel):
    reaction: str
    emoji: str | None


class MessageView(BaseModel):
    id: uuid.UUID
    direction: Literal["in", "out"]
    kind: str
    text: str | None
    attachments: list[dict[str, Any]]
    quick_reply_payload: str | None
    postback_payload: str | None
    sent_by: str | None
    staff_id: uuid.UUID | None
    status: str
    error_reason: str | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    created_at: datetime
    reactions: list[ReactionView] = Field(default_factory=list)


class ConversationPage(BaseModel):
    items: list[ConversationView]
    next_cursor: str | None


class ConversationDetail(BaseModel):
    conversation: ConversationView
    messages: list[MessageView]
    next_cursor: str | None


class AssignRequest(BaseModel):
    staff_id: uuid.UUID | None


class HandbackRequest(BaseModel):
    staff_id: uuid.UUID | None = None


class StaffReplyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=8000)
    staff_id: uuid.UUID
    idempotency_key: str | None = Field(default=None, max_length=200)


class StaffReplyAccepted(BaseModel):
    message: MessageView


class QuarantinedView(BaseModel):
    id: int
    received_at: datetime
    page_id: str | None
    kind: str
    reason: str
    payload: dict[str, Any]


class QuarantineList(BaseModel):
    items: list[QuarantinedView]


def conversation_view(row: Any, now: datetime | None = None) -> ConversationView:
    window = reply_window(row.last_customer_message_at, now or datetime.now(UTC), sender="staff")
    return ConversationView(
        **{k: getattr(row, k) for k in ConversationView.model_fields if k != "reply_window"},
        reply_window=ReplyWindowView(
            can_reply=window.can_reply,
            messaging_type=window.messaging_type,
            tag=window.tag,
            closes_at=window.closes_at,
        ),
    )


def message_view(row: Any, reactions: list[Any] | None = None) -> MessageView:
    return MessageView(
        **{k: getattr(row, k) for k in MessageView.model_fields if k != "reactions"},
        reactions=[ReactionView(reaction=r.reaction, emoji=r.emoji) for r in reactions or []],
    )


def _encode(at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, name: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise HTTPException(422, f"{name}: not a cursor this API returned") from exc


def router(runtime: Runtime, settings: MessengerSettings, sender: outbound.Sender) -> APIRouter:
    api = internal_router(settings.crm_internal_token)

    async def load(session: Any, conversation_id: uuid.UUID) -> Any:
        row = await repository.get_conversation(session, conversation_id)
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
            rows = await repository.conversations_page(
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
            rows = await repository.messages_page(
                session,
                conversation_id,
                limit=messages_limit + 1,
                before=_decode(before, "before") if before else None,
            )
            page = rows[:messages_limit]
            reactions = await repository.reactions_for(session, row.page_id, [r.mid for r in page if r.mid])
        older = _encode(page[-1].created_at, page[-1].id) if len(rows) > messages_limit else None
        return ConversationDetail(
            conversation=conversation_view(row),
            messages=[message_view(r, reactions.get(r.mid)) for r in reversed(page)],
            next_cursor=older,
        )

    @api.post("/conversations/{conversation_id}/assign", response_model=ConversationView)
    async def assign(conversation_id: uuid.UUID, body: AssignRequest) -> ConversationView:
        async with runtime.uow() as uow:
            await load(uow.session, conversation_id)
            await repository.assign(uow.session, conversation_id, body.staff_id)
            await uow.commit()
            return conversation_view(await load(uow.session, conversation_id))

    @api.post("/conversations/{conversation_id}/handback", response_model=ConversationView)
    async def handback(conversation_id: uuid.UUID, body: HandbackRequest | None = None) -> ConversationView:
        """Staff hand the conversation back to the AI."""
        now = datetime.now(UTC)
        async with runtime.uow() as uow:
            row = await repository.get_conversation(uow.session, conversation_id, for_update=True)
            if row is None:
                raise HTTPException(404, "no such conversation")
            if row.mode != "ai" or row.needs_human:
                await repository.set_mode(
                    uow.session, row.id, mode="ai", needs_human=False, reason=None, at=now
                )
                staff = body.staff_id if body else None
                uow.emit(mode_changed(row, "ai", False, "handed_back", f"handback:{row.id}", now, staff))
            await uow.commit()
            return conversation_view(await load(uow.session, conversation_id))

    @api.post("/conversations/{conversation_id}/read", response_model=ConversationView)
    async def mark_read(conversation_id: uuid.UUID) -> ConversationView:
        async with runtime.uow() as uow:
            await load(uow.session, conversation_id)
            await repository.mark_conversation_read(uow.session, conversation_id)
            await uow.commit()
            return conversation_view(await load(uow.session, conversation_id))

    @api.post("/conversations/{conversation_id}/messages", status_code=202, response_model=StaffReplyAccepted)
    async def staff_reply(conversation_id: uuid.UUID, body: StaffReplyRequest) -> Any:
        try:
            async with runtime.uow() as uow:
                message_id = await outbound.staff_reply(
                    uow,
                    conversation_id,
                    staff_id=body.staff_id,
                    text=body.text,
                    idempotency_key=body.idempotency_key,
                )
        except outbound.ConversationNotFound as exc:
            raise HTTPException(404, "no such conversation") from exc
        except outbound.WindowClosed as exc:
            return JSONResponse(
                {"title": "Messenger does not allow a reply now", "status": 409, "detail": str(exc)},
                status_code=409,
                media_type="application/problem+json",
            )
        sender.send_soon(conversation_id)
        async with runtime.sessionmaker() as session:
            row = await repository.message(session, message_id)
        return StaffReplyAccepted(message=message_view(row))

    @api.get("/quarantine", response_model=QuarantineList)
    async def quarantine(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> QuarantineList:
        async with runtime.sessionmaker() as session:
            rows = await repository.list_quarantined(session, limit)
        return QuarantineList(items=[QuarantinedView.model_validate(r, from_attributes=True) for r in rows])

    pdpa_export.register(api, runtime)
    return api
