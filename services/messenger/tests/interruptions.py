"""What the interruption tests need: a fake Meta that holds text messages unanswered until told,
the broker dropping every connection (what clients see when RabbitMQ restarts), parts left behind
as a stopped process leaves them, and what staff and other services see of a message."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, insert, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_messenger.conversations.models import messages

from .conftest import Messenger
from .helpers import INTERNAL


class MetaGate:
    """Wraps the fake Meta: while closed, a Send API text message is held unanswered (Meta has it
    in hand) until the gate opens; the fake then records it as sent, as Meta would, even if the
    caller gave up waiting. Sender actions (typing_on) and profiles pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._held = 0

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    async def holding(self) -> int:
        """How many text messages are waiting at the gate now."""
        with self._lock:
            return self._held

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/messages"):
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if b'"message"' in body and not self._open.is_set():
            with self._lock:
                self._held += 1
            try:
                await asyncio.to_thread(self._open.wait, 120)
            finally:
                with self._lock:
                    self._held -= 1
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _rabbitmqctl(*args: str) -> str:
    exe = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    done = subprocess.run([exe, "-q", *args], check=True, capture_output=True, text=True, timeout=60)  # noqa: S603
    return done.stdout


def _vhost(rabbitmq_url: str) -> str:
    return unquote(urlsplit(rabbitmq_url).path.lstrip("/"))


def connections(rabbitmq_url: str) -> set[str]:
    """The names of the client connections open on the test's virtual host."""
    vhost = _vhost(rabbitmq_url)
    rows = (line.split("\t") for line in _rabbitmqctl("list_connections", "vhost", "name").splitlines())
    return {row[1] for row in rows if len(row) == 2 and row[0] == vhost}


def drop_connections(rabbitmq_url: str) -> None:
    """The broker closes every client connection of the virtual host, as it does when it restarts."""
    _rabbitmqctl("close_all_connections", "-p", _vhost(rabbitmq_url), "drill: broker restart")


def consumed_queues(rabbitmq_url: str) -> set[str]:
    """The queues of the virtual host that have a consumer now."""
    rows = (
        line.split("\t")
        for line in _rabbitmqctl("list_queues", "-p", _vhost(rabbitmq_url), "name", "consumers").splitlines()
    )
    return {row[0] for row in rows if len(row) == 2 and row[1].isdigit() and int(row[1]) > 0}


async def broker_back(rabbitmq_url: str, dropped: set[str]) -> bool:
    """Every client reconnected after `dropped` were closed: none of them is left, and the
    messenger's replies queue and a recorder's queue have their consumers again."""
    now = await asyncio.to_thread(connections, rabbitmq_url)
    consumed = await asyncio.to_thread(consumed_queues, rabbitmq_url)
    return (
        not (now & dropped)
        and "messenger.replies" in consumed
        and any(name.startswith("test.recorder.") for name in consumed)
    )


# Parts left on this Page are never passed by an echo of a later part (other tests' echoes are
# on PAGE_ID): without that proof of non-delivery, a part left `sending` fails as unknown.
UNECHOED_PAGE = "page-without-echoes"


async def leave_parts(
    m: Messenger,
    conversation_id: str,
    parts: Sequence[tuple[str, str]],
    *,
    age: timedelta,
    page_id: str = UNECHOED_PAGE,
    attempts: int = 1,
) -> list[uuid.UUID]:
    """One AI reply's parts as a process that stopped left them, `(status, text)` each, written
    and last touched `age` ago. Returns their ids."""
    source, ids = uuid.uuid4(), []
    async with m.app.state.runtime.sessionmaker() as session:
        for part, (status, text) in enumerate(parts):
            ids.append(uuid.uuid4())
            await session.execute(
                insert(messages).values(
                    id=ids[-1],
                    conversation_id=uuid.UUID(conversation_id),
                    page_id=page_id,
                    direction="out",
                    text=text,
                    status=status,
                    sent_by="ai",
                    messaging_type="RESPONSE",
                    source_event_id=source,
                    part=part,
                    attempts=attempts if status == "sending" else 0,
                    created_at=func.now() - age,
                    updated_at=func.now() - age,
                )
            )
        await session.commit()
    return ids


async def staff_view(m: Messenger, conversation_id: str) -> dict[str, dict[str, Any]]:
    """The conversation's messages as staff see them (the internal API), by id."""
    response = await m.http.get(f"/internal/v1/conversations/{conversation_id}", headers=INTERNAL)
    assert response.status_code == 200, response.text
    return {message["id"]: message for message in response.json()["messages"]}


async def status_of(m: Messenger, message_id: uuid.UUID) -> str:
    async with m.app.state.runtime.sessionmaker() as session:
        return str(
            (await session.execute(select(messages.c.status).where(messages.c.id == message_id))).scalar()
        )


def events_about(m: Messenger, event_type: str, message_id: uuid.UUID | str) -> list[dict[str, Any]]:
    return [e for e in m.events.of_type(event_type) if e["data"]["message_id"] == str(message_id)]


def texts_to(m: Messenger, psid: str) -> list[str]:
    """The text messages Meta accepted for this customer, oldest first."""
    return [s.text for s in m.meta.messages() if s.recipient_id == psid and s.text is not None]
