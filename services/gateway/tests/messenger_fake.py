"""A fake of the messenger's internal API (`/internal/v1`), served on loopback by `FakeServer`.

It answers in the messenger's JSON shapes, written out here by hand (never through the gateway's
models, so a drift between the two shows), keeps conversations in memory and records every
request, so a test can assert what the gateway sent. Knobs for the unhappy paths:
`answer_with` forces the next answers (e.g. a 500), and a conversation whose reply window is
closed refuses replies with 409 like the messenger does.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse

PREFIX = "/internal/v1"
WINDOW_CLOSED = "The 7-day window to reply closed; the customer has to write first."
NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    token: str | None


@dataclass
class MessengerState:
    token: str
    conversations: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    # (status, JSON body) answered instead of the real thing, first in first out.
    answer_with: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    replies_by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            for collection in (
                self.conversations,
                self.messages,
                self.quarantined,
                self.requests,
                self.answer_with,
                self.replies_by_key,
            ):
                collection.clear()

    def add_conversation(self, n: int = 0, **overrides: Any) -> dict[str, Any]:
        """A conversation as the messenger shows it; the n-th is n minutes older than NOW."""
        at = (NOW - timedelta(minutes=n)).isoformat()
        conversation: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "page_id": "1029384756",
            "psid": f"psid-{n}",
            "status": "open",
            "mode": "ai",
            "needs_human": False,
            "handover_reason": None,
            "assigned_staff_id": None,
            "first_name": "Somchai",
            "last_name": f"Number {n}",
            "profile_pic": None,
            "last_customer_message_at": at,
            "last_message_at": at,
            "unread_count": 0,
            "reply_window": {
                "can_reply": True,
                "messaging_type": "RESPONSE",
                "tag": None,
                "closes_at": (NOW + timedelta(hours=24)).isoformat(),
            },
            "created_at": at,
            "some_future_field": "ignored by the gateway",
        }
        conversation.update(overrides)
        with self.lock:
            self.conversations.append(conversation)
            self.messages[conversation["id"]] = []
        return conversation

    def add_message(self, conversation_id: str, text: str, **overrides: Any) -> dict[str, Any]:
        message = _message(text=text, direction="in", sent_by="customer", status="received", **overrides)
        with self.lock:
            self.messages[conversation_id].append(message)
        return message

    def calls(self, path: str = "") -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith(PREFIX + path)]


def _message(**fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "direction": "in",
        "kind": "text",
        "text": None,
        "attachments": [],
        "quick_reply_payload": None,
        "postback_payload": None,
        "sent_by": "customer",
        "staff_id": None,
        "status": "received",
        "error_reason": None,
        "sent_at": NOW.isoformat(),
        "delivered_at": None,
        "read_at": None,
        "created_at": datetime.now(UTC).isoformat(),
        "reactions": [],
    }
    message.update(fields)
    return message


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _page(
    items: list[dict[str, Any]], limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Offset paging; the cursor is opaque to the gateway, so any string will do."""
    start = int(cursor.removeprefix("offset-")) if cursor else 0
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, f"offset-{start + limit}" if more else None


def create_messenger_app(state: MessengerState) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def record_and_guard(request: Request, call_next: Any) -> Any:
        raw = await request.body()
        token = request.headers.get("x-internal-token")
        with state.lock:
            state.requests.append(
                Recorded(
                    request.method,
                    request.url.path,
                    dict(request.query_params),
                    json.loads(raw) if raw else None,
                    token,
                )
            )
            forced = state.answer_with.pop(0) if state.answer_with and token == state.token else None
        if token != state.token:
            return _problem(401, "Unauthorized", "X-Internal-Token is missing or wrong.")
        if forced is not None:
            status, body = forced
            return JSONResponse(body, status_code=status)
        return await call_next(request)

    def find(conversation_id: str) -> dict[str, Any] | None:
        return next((c for c in state.conversations if c["id"] == conversation_id), None)

    def not_found() -> JSONResponse:
        return _problem(404, "Conversation not found", "No such conversation.")

    @app.get(f"{PREFIX}/conversations", response_model=None)
    async def conversations(
        limit: int = 50,
        cursor: str | None = None,
        mode: str | None = None,
        assigned_staff_id: str | None = None,
        unread: bool | None = None,
        needs_human: bool | None = None,
    ) -> dict[str, Any]:
        def keep(c: dict[str, Any]) -> bool:
            assignee = c["assigned_staff_id"]
            return (
                (mode is None or c["mode"] == mode)
                and (
                    assigned_staff_id is None
                    or (assigned_staff_id == "unassigned" and assignee is None)
                    or assignee == assigned_staff_id
                )
                and (unread is None or (c["unread_count"] > 0) == unread)
                and (needs_human is None or c["needs_human"] == needs_human)
            )

        matching = sorted(
            (c for c in state.conversations if keep(c)), key=lambda c: c["last_message_at"], reverse=True
        )
        items, next_cursor = _page(matching, limit, cursor)
        return {"items": items, "next_cursor": next_cursor}

    @app.get(f"{PREFIX}/conversations/{{conversation_id}}", response_model=None)
    async def conversation(
        conversation_id: str, messages_limit: int = 50, before: str | None = None
    ) -> dict[str, Any] | JSONResponse:
        found = find(conversation_id)
        if found is None:
            return not_found()
        messages = state.messages[conversation_id]
        end = int(before.removeprefix("before-")) if before else len(messages)
        start = max(0, end - messages_limit)
        return {
            "conversation": found,
            "messages": messages[start:end],
            "next_cursor": f"before-{start}" if start > 0 else None,
        }

    @app.post(f"{PREFIX}/conversations/{{conversation_id}}/assign", response_model=None)
    async def assign(
        conversation_id: str, staff_id: Annotated[str | None, Body(embed=True)]
    ) -> dict[str, Any] | JSONResponse:
        found = find(conversation_id)
        if found is None:
            return not_found()
        found["assigned_staff_id"] = staff_id
        return found

    @app.post(f"{PREFIX}/conversations/{{conversation_id}}/handback", response_model=None)
    async def handback(
        conversation_id: str, staff_id: Annotated[str, Body(embed=True)]
    ) -> dict[str, Any] | JSONResponse:
        found = find(conversation_id)
        if found is None:
            return not_found()
        found.update(mode="ai", needs_human=False, handover_reason=None)
        return found

    @app.post(f"{PREFIX}/conversations/{{conversation_id}}/read", response_model=None)
    async def read(conversation_id: str) -> dict[str, Any] | JSONResponse:
        found = find(conversation_id)
        if found is None:
            return not_found()
        found["unread_count"] = 0
        return found

    @app.post(f"{PREFIX}/conversations/{{conversation_id}}/messages", response_model=None)
    async def reply(conversation_id: str, body: Annotated[dict[str, Any], Body()]) -> JSONResponse:
        found = find(conversation_id)
        if found is None:
            return not_found()
        if not found["reply_window"]["can_reply"]:
            return _problem(409, "Reply window closed", WINDOW_CLOSED)
        key = body.get("idempotency_key")
        with state.lock:
            message = state.replies_by_key.get(key) if key else None
            if message is None:
                message = _message(
                    direction="out",
                    text=body["text"],
                    sent_by="staff",
                    staff_id=body["staff_id"],
                    status="pending",
                    sent_at=None,
                )
                state.messages[conversation_id].append(message)
                if key:
                    state.replies_by_key[key] = message
        found.update(mode="human", assigned_staff_id=found["assigned_staff_id"] or body["staff_id"])
        return JSONResponse({"message": message}, status_code=202)

    @app.get(f"{PREFIX}/quarantine", response_model=None)
    async def quarantine(limit: int = 100) -> dict[str, Any]:
        return {"items": state.quarantined[:limit]}

    return app
