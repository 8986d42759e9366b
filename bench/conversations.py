"""Traffic for the chat-to-reply bench: signed first messages from new PSIDs at a steady rate to
the messenger's webhook, and when the Meta fake received each one's reply."""

from __future__ import annotations

import asyncio
import time

import httpx

from crm_fakes.webhooks import meta_json, page_webhook, sign, text_message_event

PAGE_ID = "100000000000001"  # the Meta fake's page
APP_SECRET = "5d0c9e2a7b4f18e3c6a1d9b7e2f4a8c1"  # noqa: S105 (the bench's messenger only)
QUESTIONS = [
    "สวัสดีค่ะ คอร์สราเมงราคาเท่าไหร่คะ",
    "มีรอบเรียนซูชิวันเสาร์ไหมครับ",
    "Hello, how long is the Japanese cooking course?",
    "สมัครเรียนต้องโอนมัดจำไหมคะ",
    "โรงเรียนอยู่ที่ไหนครับ จอดรถได้ไหม",
]


def webhook(psid: str, text: str) -> tuple[bytes, dict[str, str]]:
    body = meta_json(page_webhook(PAGE_ID, [text_message_event(PAGE_ID, psid, text)]))
    return body, {"content-type": "application/json", "x-hub-signature-256": sign(APP_SECRET, body)}


async def first_replies(meta_url: str, psids: set[str]) -> dict[str, float]:
    """When the Meta fake received the first text sent to each of `psids` (epoch seconds)."""
    async with httpx.AsyncClient(trust_env=False, timeout=30.0) as client:
        sends = (await client.get(f"{meta_url}/_fake/messages")).json()
    seen: dict[str, float] = {}
    for send in sends:
        psid = send.get("recipient_id")
        if send.get("text") and psid in psids and psid not in seen:
            seen[psid] = float(send["received_at"])
    return seen


async def offer(messenger_url: str, rate: float, count: int, prefix: str) -> tuple[dict[str, float], int]:
    """Send `count` first messages from new PSIDs at `rate`/s; each PSID's planned send time."""
    planned: dict[str, float] = {}
    failed = 0
    tasks: list[asyncio.Task[None]] = []
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(trust_env=False, timeout=30.0, limits=limits) as c:

        async def one(psid: str, index: int) -> None:
            nonlocal failed
            body, headers = webhook(psid, QUESTIONS[index % len(QUESTIONS)])
            response = await c.post(f"{messenger_url}/webhooks/meta", content=body, headers=headers)
            if response.status_code != 200:
                failed += 1

        start = time.time() + 0.05
        for index in range(count):
            at = start + index / rate
            await asyncio.sleep(max(0.0, at - time.time()))
            psid = f"{prefix}{index:05d}"
            planned[psid] = at
            tasks.append(asyncio.create_task(one(psid, index)))
        await asyncio.gather(*tasks)
    return planned, failed


async def wait_replies(meta_url: str, planned: dict[str, float], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    replies: dict[str, float] = {}
    while time.monotonic() < deadline:
        replies = await first_replies(meta_url, set(planned))
        if len(replies) == len(planned):
            break
        await asyncio.sleep(0.25)
    return replies
