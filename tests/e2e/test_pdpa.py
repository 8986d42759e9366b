"""A customer's PDPA rights across the whole system, every service a process.

The customer writes to the Page with their name in the text and gets an AI reply; staff keep
their phone, e-mail, names, a note and a paid order. The export holds all of it (the message text
included); after an erasure every service reports its part done within a minute, and a scan of
every service's schema and of every cache file finds none of the personal values, while the
school's order and its total stay.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from crm_fakes.webhooks import meta_json, page_webhook, text_message_event
from crm_servicekit.pdpa import find_mentions, needle_forms
from crm_servicekit.testing import eventually

from .conftest import PAGE_ID, System, customer_for, post_webhook, replies_to, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

PSID = "7300400500600700"
NAME_TH = "พิมพ์ชนกลบข้อมูล"
NAME_LATIN = "Pimchanok Forgetme"
NICKNAME = "Pimforget"
MESSAGE = f"สวัสดีค่ะ ดิฉันชื่อ {NAME_TH} ({NAME_LATIN}) สนใจคอร์สซูชิค่ะ"
REPLY = f"ยินดีต้อนรับค่ะ คุณ{NAME_TH} คอร์สซูชิเปิดรับสมัครอยู่ค่ะ"
PHONE, PHONE_E164 = "081-234-7788", "+66812347788"
EMAIL = "pimchanok.forgetme@example.com"
NOTE = "Forgetme note: allergic to shellfish, prefers Saturday classes"
PAY_REFERENCE = "SCB-FORGETME-4411"
# What must be gone everywhere after the erasure. The Meta fake names every customer
# "Customer <last 4 of the PSID>": too common to search for, but its PSID is in the list.
PERSONAL = [
    PSID,
    NAME_TH,
    NAME_LATIN,
    NICKNAME,
    MESSAGE,
    REPLY,
    PHONE_E164,
    "812347788",
    EMAIL,
    NOTE,
    PAY_REFERENCE,
]
SCHEMAS = ("gateway", "messenger", "ai", "cache_writer", "marketing")


@pytest.fixture
async def http(system: System) -> AsyncIterator[httpx.AsyncClient]:
    headers = await staff_token(system)
    async with httpx.AsyncClient(base_url=system.stack.url("gateway"), headers=headers, timeout=30) as client:
        yield client


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    body: dict[str, Any] = response.json()
    return body


async def schema_mentions(system: System) -> dict[str, dict[str, int]]:
    url = "postgresql+asyncpg://" + system.stack.env["DATABASE_URL"].split("://", 1)[1]
    engine = create_async_engine(url, pool_size=1)
    try:
        async with AsyncSession(engine) as session:
            found = {s: await find_mentions(session, s, PERSONAL) for s in SCHEMAS}
    finally:
        await engine.dispose()
    return {s: f for s, f in found.items() if f}


def cache_mentions(cache_dir: Path) -> dict[str, list[str]]:
    """Every file under the cache directory that holds a personal value, and which."""
    forms = [(needle, form.encode()) for needle in PERSONAL for form in needle_forms([needle])]
    found: dict[str, list[str]] = {}
    for path in cache_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = sorted({needle for needle, form in forms if form in data})
            if hits:
                found[str(path.relative_to(cache_dir))] = hits
    return found


async def test_an_export_holds_everything_and_an_erasure_leaves_nothing_anywhere(
    system: System, http: httpx.AsyncClient
) -> None:
    # 1. the customer writes, with their name; the AI answers
    system.gemini.queue_reply(REPLY, field="answer")
    event = text_message_event(PAGE_ID, PSID, MESSAGE)
    assert (await post_webhook(system, meta_json(page_webhook(PAGE_ID, [event])))).status_code == 200
    assert await eventually(lambda: replies_to(system, PSID), timeout=30) == [REPLY]
    customer = await eventually(lambda: customer_for(system, PSID), timeout=20)
    customer_id = customer["customer_id"]

    # 2. staff keep their details, a note and a paid order
    read = await http.get(f"/api/v1/customers/{customer_id}")
    profile = {
        "name_th": NAME_TH,
        "name_latin": NAME_LATIN,
        "nickname": NICKNAME,
        "phone": PHONE,
        "email": EMAIL,
    }
    await ok(
        await http.patch(
            f"/api/v1/customers/{customer_id}", json=profile, headers={"If-Match": read.headers["etag"]}
        )
    )
    await ok(await http.post(f"/api/v1/customers/{customer_id}/notes", json={"body": NOTE}), 201)
    product = await ok(
        await http.post(
            "/api/v1/products", json={"kind": "equipment", "name_th": "มีดซูชิ", "price": "2450.00"}
        ),
        201,
    )
    order = await ok(
        await http.post(
            "/api/v1/orders",
            json={"customer_id": customer_id, "lines": [{"product_id": product["id"], "quantity": 2}]},
        ),
        201,
    )
    payment = {
        "method": "transfer",
        "amount": "4900.00",
        "received_at": datetime.now(UTC).isoformat(),
        "reference": PAY_REFERENCE,
    }
    await ok(await http.post(f"/api/v1/orders/{order['id']}/payments", json=payment), 201)
    # the cache-writer holds the details too, before the erasure
    snapshot = system.cache_dir / "customer" / f"{customer_id}.json"
    await eventually(
        lambda: asyncio.sleep(0, snapshot.exists() and EMAIL in snapshot.read_text()), timeout=20
    )

    # 3. the export holds all of it, the messenger's and the AI's parts included
    exported = await http.get(f"/api/v1/customers/{customer_id}/export")
    doc = await ok(exported)
    assert exported.headers["content-disposition"] == f'attachment; filename="{customer_id}.json"'
    assert {k: doc["profile"][k] for k in ("name_th", "name_latin", "nickname", "phone", "email")} == {
        **profile,
        "phone": PHONE_E164,
    }
    assert doc["profile"]["identities"] == [{"channel": "messenger", "page_id": PAGE_ID, "external_id": PSID}]
    assert [n["body"] for n in doc["notes"]] == [NOTE]
    [exported_order] = doc["orders"]
    assert exported_order["total"] == "4900.00"
    assert [p["reference"] for p in exported_order["payments"]] == [PAY_REFERENCE]
    texts = [m["text"] for c in doc["messenger"]["conversations"] for m in c["messages"]]
    assert MESSAGE in texts
    assert REPLY in [r["text"] for r in doc["ai"]["replies"]]
    text = json.dumps(doc, ensure_ascii=False)
    assert all(
        value in text for value in (PSID, NAME_TH, PHONE_E164, EMAIL, NOTE, MESSAGE, REPLY, PAY_REFERENCE)
    )
    # ...so the scans below can see these values where they are
    before = await schema_mentions(system)
    assert {"gateway", "messenger", "ai", "cache_writer"} <= set(before), before
    assert cache_mentions(system.cache_dir)

    # 4. the erasure: every service reports its part done within a minute
    requested = await ok(await http.post(f"/api/v1/customers/{customer_id}/erasure"), 202)

    async def completed() -> dict[str, Any] | None:
        got = await ok(await http.get(f"/api/v1/erasure-requests/{requested['id']}"))
        return got if got["completed_at"] else None

    done = await eventually(completed, timeout=60, interval=0.5)
    steps = {s["service"]: s for s in done["steps"]}
    assert set(steps) == {"gateway", "messenger", "ai", "cache-writer"}
    assert {s["status"] for s in steps.values()} == {"completed"}, steps
    assert steps["messenger"]["erased"], "the messenger erased something"
    assert steps["ai"]["erased"], "the ai service erased something"

    # 5. nothing names the person in any schema or any cache file
    assert await schema_mentions(system) == {}
    assert cache_mentions(system.cache_dir) == {}

    # 6. the school's accounts stay: the order and its total, tied to the anonymous stub
    kept = await ok(await http.get(f"/api/v1/orders/{order['id']}"))
    assert (kept["customer_id"], kept["total"]) == (customer_id, "4900.00")
    stub = await ok(await http.get(f"/api/v1/customers/{customer_id}"))
    assert (stub["name_th"], stub["phone"], stub["email"], stub["identities"]) == (None, None, None, [])
    again = await http.post(f"/api/v1/customers/{customer_id}/erasure")
    assert again.status_code == 409
