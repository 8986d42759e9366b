"""Message echoes: what the Page sends comes back to the app's webhook, as Meta does for an app
subscribed to `message_echoes`.

Each accepted text send is delivered once more as a signed `page` webhook whose `messaging` item
has `sender` = the Page, `recipient` = the customer and a `message` with `is_echo: true`, the
app's `app_id`, the `metadata` the sender passed and the `mid` the Send API answered. Meta
delivers webhooks at least once and retries one that was not answered 200; so does this fake,
with backoff, for up to `retry_for` seconds (Meta keeps trying for hours), so an echo survives a
messenger that is down for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from crm_fakes.webhooks import signed_request

APP_ID = 1517776481860111


class NotAccepted(Exception):
    """The webhook answered something other than 200."""


class Echoes:
    """Delivers the echo of each accepted send to `url`, signed with `app_secret`."""

    def __init__(self, url: str, app_secret: str, *, app_id: int = APP_ID, retry_for: float = 120.0) -> None:
        self.url = url
        self.app_secret = app_secret
        self.app_id = app_id
        self.retry_for = retry_for
        self.delivered = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def echo(self, page_id: str, psid: str, mid: str, message: dict[str, Any]) -> None:
        """Deliver the echo of `message` (the Send API's `message` object) in the background."""
        echoed: dict[str, Any] = {"is_echo": True, "app_id": self.app_id}
        if message.get("metadata") is not None:
            echoed["metadata"] = message["metadata"]
        echoed["mid"] = mid
        if message.get("text") is not None:
            echoed["text"] = message["text"]
        now = time.time_ns() // 1_000_000
        payload = {
            "object": "page",
            "entry": [
                {
                    "id": page_id,
                    "time": now,
                    "messaging": [
                        {
                            "sender": {"id": page_id},
                            "recipient": {"id": psid},
                            "timestamp": now,
                            "message": echoed,
                        }
                    ],
                }
            ],
        }
        task = asyncio.get_running_loop().create_task(self._deliver(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, payload: dict[str, Any]) -> None:
        body, headers = signed_request(self.app_secret, payload)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((httpx.HTTPError, NotAccepted)),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_delay(self.retry_for),
            reraise=True,
        )
        with contextlib.suppress(httpx.HTTPError, NotAccepted):  # given up, as Meta does at last
            async with httpx.AsyncClient(timeout=10) as http:
                async for attempt in retrying:
                    with attempt:
                        response = await http.post(self.url, content=body, headers=headers)
                        if response.status_code != 200:
                            raise NotAccepted(response.status_code)
                        self.delivered += 1

    @property
    def in_flight(self) -> int:
        return len(self._tasks)
