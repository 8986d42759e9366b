"""The Meta fake echoes what the Page sends to the app's webhook, signed, with the metadata the
sender gave, and retries an echo the webhook did not take, as Meta does."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

from crm_fakes import FakeServer, MetaState, create_meta_app
from crm_fakes.webhooks import sign

from .test_meta import PSID, send, text_body

SECRET = "app-secret"


class Webhook:
    """A webhook that refuses the first `refuse` deliveries (503), then takes them."""

    def __init__(self, refuse: int) -> None:
        self.refuse = refuse
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.app = FastAPI()

        @self.app.post("/webhooks/meta")
        async def webhook(request: Request) -> Response:
            body = await request.body()
            assert request.headers["x-hub-signature-256"] == sign(SECRET, body)
            with self.lock:
                if self.refuse > 0:
                    self.refuse -= 1
                    return Response(status_code=503)
                self.received.append(json.loads(body))
            return Response("EVENT_RECEIVED")


async def test_a_sent_text_comes_back_as_a_signed_echo_with_its_metadata_even_after_refusals() -> None:
    hook = Webhook(refuse=2)
    state = MetaState(page_id="111222333")
    with FakeServer(hook.app) as receiver, FakeServer(create_meta_app(state)) as meta:
        async with httpx.AsyncClient() as http:
            r = await http.post(
                f"{meta.url}/_fake/echoes",
                json={"url": f"{receiver.url}/webhooks/meta", "app_secret": SECRET},
            )
            assert r.status_code == 200
        body = text_body("สวัสดีค่ะ")
        body["message"]["metadata"] = "crm:part-1"
        answer = (await send(meta.url, body)).json()
        assert (await send(meta.url, {"recipient": {"id": PSID}, "sender_action": "typing_on"})).is_success

        for _ in range(100):
            if hook.received:
                break
            await asyncio.sleep(0.1)
    [delivery] = hook.received  # one echo: the typing indicator is not a message
    [entry] = delivery["entry"]
    [item] = entry["messaging"]
    assert (delivery["object"], entry["id"]) == ("page", "111222333")
    assert (item["sender"]["id"], item["recipient"]["id"]) == ("111222333", PSID)
    message = item["message"]
    assert message["is_echo"] is True
    assert message["metadata"] == "crm:part-1"
    assert message["mid"] == answer["message_id"]
    assert message["text"] == "สวัสดีค่ะ"
