"""The ai service under test: its own database, the real broker, the Gemini fake, and passages the
test chooses (the knowledge retriever's `search` replaced by `Passages`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from crm_ai.app import create_app
from crm_ai.catalog import service as catalog
from crm_ai.config import AiSettings
from crm_contracts import (
    Event,
    MessageReceived,
    MessageReceivedData,
    MessageSent,
    MessageSentData,
    PackageItemRef,
    ProductChanged,
    ProductChangedData,
)
from crm_fakes import FakeServer, GeminiState, RecordedRequest, create_gemini_app
from crm_servicekit.migrations import upgrade
from crm_servicekit.testing import EventRecorder, create_database, drop_database, eventually, publish_events

KEY = "test-gemini-key"
TOKEN = {"X-Internal-Token": "test-internal-token"}
PAGE = "111222333"


@dataclass(frozen=True)
class Passage:
    document_title: str
    heading_path: tuple[str, ...]
    text: str
    relevant: bool = True
    score: float = 0.032
    chunk_id: uuid.UUID = field(default_factory=uuid.uuid4)
    document_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class Passages:
    """What the knowledge base finds, whatever the question (set by each test)."""

    found: list[Passage] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    async def search(self, query: str, *, limit: int = 5) -> Sequence[Passage]:
        self.queries.append(query)
        return self.found[:limit]


@dataclass
class Ai:
    app: FastAPI
    http: httpx.AsyncClient
    events: EventRecorder
    gemini: GeminiState
    passages: Passages

    async def publish(self, event: Event) -> None:
        await publish_events(self.app.state.runtime.broker, event)

    async def product(
        self,
        name_th: str,
        price: str,
        *,
        name_en: str | None = None,
        product_id: uuid.UUID | None = None,
        changed_at: datetime | None = None,
        kind: str = "course",
        items: Sequence[PackageItemRef] = (),
    ) -> uuid.UUID:
        """The gateway publishes a product change; returns once the ai's copy has it (or a newer one)."""
        event = ProductChanged(
            correlation_id="catalog",
            data=ProductChangedData(
                product_id=product_id or uuid.uuid4(),
                kind=kind,  # type: ignore[arg-type]
                name_th=name_th,
                name_en=name_en,
                price=Decimal(price),
                active=True,
                changed_at=changed_at or datetime.now(UTC),
                items=list(items),
            ),
        )
        await self.publish(event)

        async def handled() -> bool:
            async with self.app.state.runtime.uow() as uow:
                return bool(await uow.handled(event.event_id, catalog.CONSUMER))

        await eventually(handled, timeout=10)
        return event.data.product_id

    async def ask(
        self, text: str, *, conversation_id: uuid.UUID | None = None, mode: str = "ai"
    ) -> MessageReceived:
        """The customer writes; each conversation is its own customer (so the leads' insights,
        which also ask the model, are never due in these tests and take no queued reply)."""
        mid = f"m_{uuid.uuid4().hex}"
        conversation_id = conversation_id or uuid.uuid4()
        psid = str(5_550_000_000_000 + conversation_id.int % 10**12)
        event = MessageReceived(
            correlation_id=mid,
            data=MessageReceivedData(
                message_id=uuid.uuid4(),
                conversation_id=conversation_id,
                page_id=PAGE,
                psid=psid,
                mid=mid,
                text=text,
                sent_at=datetime.now(UTC),
                conversation_mode=mode,  # type: ignore[arg-type]
            ),
        )
        await self.publish(event)
        return event

    async def reply_to(self, asked: MessageReceived) -> dict[str, Any]:
        """The `reply.generated` answering `asked` (its data)."""

        async def found() -> dict[str, Any] | None:
            for e in self.events.of_type("reply.generated"):
                if e["data"]["in_reply_to_mid"] == asked.data.mid:
                    return dict(e["data"])
            return None

        reply = await eventually(found, timeout=15)
        assert reply is not None
        return reply

    async def sent(self, asked: MessageReceived, text: str, by: str = "ai", *, later: float = 1) -> None:
        """The messenger sent `text` in the conversation (what the customer saw)."""
        d = asked.data
        event = MessageSent(
            correlation_id=d.mid,
            data=MessageSentData(
                message_id=uuid.uuid4(),
                conversation_id=d.conversation_id,
                page_id=d.page_id,
                psid=d.psid,
                meta_message_id=f"m_{uuid.uuid4().hex}",
                text=text,
                sent_by=by,  # type: ignore[arg-type]
                staff_id=uuid.uuid4() if by == "staff" else None,
                sent_at=d.sent_at + timedelta(seconds=later),
            ),
        )
        await self.publish(event)

    def request_for(self, asked: MessageReceived) -> RecordedRequest:
        """The Gemini request whose last user turn is `asked`'s text."""
        for request in reversed(self.gemini.requests()):
            last = request.body["contents"][-1]
            if last["role"] == "user" and last["parts"][-1]["text"] == asked.data.text:
                return request
        raise AssertionError("the model was not asked")


def system_of(request: RecordedRequest) -> str:
    return str(request.body["systemInstruction"]["parts"][0]["text"])


@pytest.fixture(scope="module")
def gemini() -> Iterator[tuple[str, GeminiState]]:
    state = GeminiState(api_key=KEY)
    with FakeServer(create_gemini_app(state)) as server:
        yield server.url, state


@pytest.fixture(scope="module")
async def replies_database_url() -> AsyncIterator[str]:
    """A database of this module's own: the catalog copy is shared by every conversation."""
    url = await create_database("crm_replies")
    await asyncio.to_thread(upgrade, "crm_ai", url.replace("postgresql://", "postgresql+asyncpg://", 1))
    yield url
    await drop_database(url)


@pytest.fixture(scope="module")
async def ai_module(
    replies_database_url: str, rabbitmq_url: str, gemini: tuple[str, GeminiState]
) -> AsyncIterator[Ai]:
    url, state = gemini
    settings = AiSettings(
        database_url=replies_database_url,
        rabbitmq_url=rabbitmq_url,
        gemini_api_key=SecretStr(KEY),
        google_gemini_base_url=url,
        crm_internal_token=SecretStr("test-internal-token"),
        gemini_retry_initial_delay_seconds=0.01,
        gemini_retry_max_delay_seconds=0.05,
    )
    app = create_app(settings)
    passages = Passages()
    # The handlers hold this retriever: its search now answers with the test's passages.
    app.state.runtime.extras["knowledge"].retriever.search = passages.search
    async with (
        EventRecorder(rabbitmq_url) as events,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ai") as http,
    ):
        yield Ai(app, http, events, state, passages)


@pytest.fixture
def ai(ai_module: Ai) -> Ai:
    ai_module.gemini.reset()
    ai_module.passages.found = []
    ai_module.passages.queries.clear()
    return ai_module
