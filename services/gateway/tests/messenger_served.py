"""The messenger's REAL internal API (`/internal/v1`: conversations, staff replies, the quarantine)
served over HTTP on loopback for the gateway's tests, on the gateway's test database with the
messenger's own schema migrated, as `test_marketing_api.py` serves marketing.

Conversations are seeded as rows of the messenger's own tables (its webhook intake is tested in
the messenger). `Front`, in front of the real app, only records what the gateway asked and can
answer instead of it as a failing messenger would (a 5xx, an unreadable body) or see another
token (one rotated on the messenger only). Replies stay `pending`: nothing calls Meta here."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import parse_qsl

from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from starlette.types import Message, Receive, Scope, Send

from crm_fakes import FakeServer
from crm_messenger.app import EMITS
from crm_messenger.config import MessengerSettings
from crm_messenger.conversations import api as conversations_api
from crm_messenger.conversations.models import conversations, messages
from crm_messenger.outbound import api as outbound_api
from crm_messenger.outbound.sender import Sender
from crm_messenger.tables import metadata
from crm_messenger.webhooks import api as webhooks_api
from crm_messenger.webhooks.models import quarantined_events
from crm_servicekit.db import create_sessionmaker
from crm_servicekit.runtime import build_runtime

PAGE_ID = "1029384756"


class NoSending:
    """The messenger's sender, woken after a reply is stored: Meta is not called in these tests."""

    def send_soon(self, conversation_id: uuid.UUID) -> None:
        return None


def messenger_app(database_url: str, token: str) -> FastAPI:
    """The messenger's internal routers as it serves them, for a server in its own thread."""
    settings = MessengerSettings(database_url=database_url, crm_internal_token=SecretStr(token))
    runtime = build_runtime(settings, metadata, emits=EMITS)
    # The server's event loop lives in its thread: each request opens and closes its connection.
    engine = create_async_engine(settings.async_database_url, poolclass=NullPool)
    runtime = dataclasses.replace(runtime, engine=engine, sessionmaker=create_sessionmaker(engine))
    app = FastAPI()
    app.include_router(conversations_api.router(runtime, settings))
    app.include_router(outbound_api.router(runtime, settings, cast(Sender, NoSending())))
    app.include_router(webhooks_api.quarantine_router(runtime, settings))
    return app


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    token: str | None


@dataclass
class Front:
    """ASGI in front of the real messenger: records every call; `answer_with` answers the next
    calls instead (status, JSON body); `token_seen` replaces the token the messenger is shown."""

    app: FastAPI
    calls: list[Call] = field(default_factory=list)
    answer_with: list[tuple[int, Any]] = field(default_factory=list)
    token_seen: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.calls.append(
            Call(
                scope["method"],
                scope["path"].removeprefix("/internal/v1"),
                dict(parse_qsl(scope["query_string"].decode())),
                json.loads(raw) if raw else None,
                headers.get("x-internal-token"),
            )
        )
        if self.answer_with:
            status, payload = self.answer_with.pop(0)
            body = json.dumps(payload).encode()
            await send({"type": "http.response.start", "status": status, "headers": _json_headers(body)})
            await send({"type": "http.response.body", "body": body})
            return
        if self.token_seen is not None:
            rest = [(k, v) for k, v in scope["headers"] if k != b"x-internal-token"]
            scope = {**scope, "headers": [*rest, (b"x-internal-token", self.token_seen.encode())]}

        async def replay() -> Message:
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)

    def reset(self) -> None:
        self.calls.clear()
        self.answer_with.clear()
        self.token_seen = None


def _json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


@contextmanager
def served_messenger(database_url: str, token: str) -> Iterator[tuple[str, Front]]:
    front = Front(messenger_app(database_url, token))
    with FakeServer(front) as server:
        yield server.url, front


@dataclass
class Seeder:
    """Rows in the messenger's tables, as its intake would have left them."""

    engine: AsyncEngine
    _clock: int = 0

    async def conversation(
        self,
        *,
        assigned_staff_id: str | None = None,
        mode: str = "ai",
        needs_human: bool = False,
        handover_reason: str | None = None,
        unread_count: int = 0,
        customer_wrote: timedelta = timedelta(minutes=5),
    ) -> str:
        """A new conversation (its own PSID); the customer last wrote `customer_wrote` ago. Each
        one seeded is the most recent activity of the inbox."""
        self._clock += 1
        now = datetime.now(UTC)
        row = {
            "id": uuid.uuid4(),
            "page_id": PAGE_ID,
            "psid": uuid.uuid4().hex[:16],
            "mode": mode,
            "needs_human": needs_human,
            "handover_reason": handover_reason,
            "assigned_staff_id": uuid.UUID(assigned_staff_id) if assigned_staff_id else None,
            "unread_count": unread_count,
            "last_customer_message_at": now - customer_wrote,
            "last_message_at": now + timedelta(days=1, seconds=self._clock),
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(conversations).values(row))
        return str(row["id"])

    async def message(self, conversation_id: str, text: str) -> None:
        """The customer's message, newer than every one seeded before."""
        self._clock += 1
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(messages).values(
                    id=uuid.uuid4(),
                    conversation_id=uuid.UUID(conversation_id),
                    page_id=PAGE_ID,
                    direction="in",
                    mid=f"m_{uuid.uuid4().hex}",
                    text=text,
                    status="received",
                    sent_by="customer",
                    created_at=datetime.now(UTC) + timedelta(seconds=self._clock),
                )
            )

    async def quarantined(self, kind: str, reason: str, payload: Any) -> int:
        async with self.engine.begin() as conn:
            found = await conn.execute(
                insert(quarantined_events)
                .values(kind=kind, reason=reason, payload=payload)
                .returning(quarantined_events.c.id)
            )
            return int(found.scalar_one())
