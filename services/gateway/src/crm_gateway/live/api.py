"""`GET /api/v1/live`: the changes a signed-in staff member may see, as Server-Sent Events.

    event: ready                 (first: the cursor to resume from)
    id: 3f9a0c1b2d4e:41
    data: {}

    event: change
    id: 3f9a0c1b2d4e:42
    data: {"topic":"conversations","type":"message.received","conversation_id":"…","needs_human":false}

    event: reset                 (what happened meanwhile cannot be replayed: refetch)
    id: 7a2b…:0
    data: {}

The browser sends its last `id` back as `Last-Event-ID` when it reconnects and gets what it
missed (ADR 22). A comment line every `KEEPALIVE_SECONDS` keeps proxies from closing a quiet
stream; the stream ends after `crm_live_max_seconds`, so the browser reconnects with a fresh
token and a deactivated account or a changed role takes effect within that time at the latest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.domain import ROLE_PERMISSIONS

from .feed import READS
from .hub import RESET, Change, Hub

router = APIRouter(prefix="/live", tags=["live"])
KEEPALIVE_SECONDS = 15.0
# The browser waits this long before reconnecting after the stream ends.
RETRY_MILLISECONDS = 1000


def frame(hub: Hub, change: Change) -> bytes:
    if change is RESET:
        return b"event: reset\nid: " + hub.head().encode() + b"\ndata: {}\n\n"
    return b"event: change\nid: " + hub.cursor(change).encode() + b"\ndata: " + change.data + b"\n\n"


async def stream(hub: Hub, topics: list[str], cursor: str | None, max_seconds: float) -> AsyncIterator[bytes]:
    listener, first = hub.listen(topics, cursor)
    try:
        yield f"retry: {RETRY_MILLISECONDS}\nevent: ready\nid: {hub.head()}\ndata: {{}}\n\n".encode()
        for change in first:
            yield frame(hub, change)
        deadline = time.monotonic() + max_seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                change = await asyncio.wait_for(
                    listener.queue.get(), timeout=min(KEEPALIVE_SECONDS, remaining)
                )
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            yield frame(hub, change)
    finally:
        hub.leave(listener)


@router.get(
    "",
    summary="What staff must see at once, as Server-Sent Events (resumable)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream."}},
)
async def live(
    request: Request,
    staff: CurrentStaff,
    last_event_id: Annotated[
        str | None, Header(max_length=64, description="The last `id` received, to resume after it.")
    ] = None,
) -> StreamingResponse:
    """Changes to conversations (`conversation:read`), customers, orders and the catalog
    (`customer:read`), each as ids and flags: fetch what they point to through the API. Any
    signed-in staff member; each hears only the topics their role may read."""
    allowed = ROLE_PERMISSIONS[staff.role]
    topics = [topic for topic, permission in READS.items() if permission in allowed]
    hub: Hub = request.app.state.live_hub
    max_seconds: float = request.app.state.live_max_seconds
    return StreamingResponse(
        stream(hub, topics, last_event_id, max_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
