"""Issue 14's rebuild from nothing across real processes: what the live path (events) wrote
under `analytics/`, `ads/` and `products/` is written again by `python -m crm_cache_writer
rebuild`, which empties the cache-writer's read model and files and asks the gateway, marketing
and the messenger for their facts through their internal APIs.

The dataset goes in as staff and Meta put it in: a backfill of Meta's day and hour rows through
the gateway (marketing syncs the fake, structure too), customers who wrote to the Page from ads
and one who did not, orders of a course (one with a kit beside it: its payments are split across
the two lines), payments across a Bangkok midnight, a part payment, a partial and a full refund.
Once the cache-writer has handled every event and rendered every marked day, the files are
copied; then the rebuild runs twice.

The files are compared byte for byte after removing exactly two top-level keys, `generated_at`
and `last_event_at`: they record when a file was written and the newest event time it
reflects, which a rebuild cannot reproduce. Every figure must be equal. `analytics/state.json`
(the renderer's heartbeat: only times) and `analytics/integrity.json` (the integrity checker's
output, written on its own schedule) are no snapshots of figures and are left out.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from crm_contracts.analytics import PRODUCTS_ALL_PATH, PeriodSnapshot, ProductsSnapshot, daily_path
from crm_fakes.webhooks import meta_json, page_webhook, referral, text_message_event
from crm_servicekit.settings import libpq_database_url
from crm_servicekit.testing import EventRecorder, eventually

from .conftest import PAGE_ID, System, customer_for, post_webhook, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

BANGKOK = ZoneInfo("Asia/Bangkok")
ANALYTICS_EVENTS = {
    "customer.created",
    "order.created",
    "order.status_changed",
    "marketing.insights_changed",
    "marketing.structure_changed",
}
NOT_SNAPSHOTS = {"analytics/state.json", "analytics/integrity.json"}
WHEN = ("generated_at", "last_event_at")
PROGRESS = re.compile(
    r"^(structure|insights \(day\)|insights \(hour\)|customers|orders|payments|ad referrals)"
    r" ([\d,]+)/([\d,]+)$"
)


def snapshots(cache_dir: Path) -> dict[str, bytes]:
    """Every snapshot file under analytics/, ads/ and products/, by its path under the cache
    directory."""
    found = {}
    for folder in ("analytics", "ads", "products"):
        for path in sorted((cache_dir / folder).rglob("*.json")):
            relative = path.relative_to(cache_dir).as_posix()
            if relative not in NOT_SNAPSHOTS:
                found[relative] = path.read_bytes()
    return found


def without_when(content: bytes) -> bytes:
    """The file as written, minus exactly the two top-level keys that say when (see above)."""
    data = json.loads(content)
    assert "generated_at" in data, "every snapshot says when it was written"
    for key in WHEN:
        data.pop(key, None)
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


def comparable(files: dict[str, bytes]) -> dict[str, bytes]:
    return {path: without_when(content) for path, content in files.items()}


async def write(system: System, psid: str, **extra: Any) -> None:
    event = text_message_event(PAGE_ID, psid, "สนใจคอร์สค่ะ", **extra)
    assert (await post_webhook(system, meta_json(page_webhook(PAGE_ID, [event])))).status_code == 200


def bangkok(day: Any, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), BANGKOK).isoformat()


async def make_dataset(system: System, http: httpx.AsyncClient) -> dict[str, Any]:
    since = system.marketing.since
    run = (
        await http.post(
            "/api/v1/marketing/syncs",
            json={
                "kind": "backfill",
                # The fake's first day only: test_marketing_sync.py's backfill of the three days
                # after it must be the first to store their rows (it counts the events they cause).
                "since": since.isoformat(),
                "until": since.isoformat(),
                "granularities": ["day", "hour"],
            },
        )
    ).json()["items"][0]

    async def finished() -> dict[str, Any] | None:
        found: dict[str, Any] = (await http.get(f"/api/v1/marketing/syncs/{run['id']}")).json()
        return found if found["status"] in ("succeeded", "failed", "stopped") else None

    assert (await eventually(finished, timeout=90, interval=0.2))["status"] == "succeeded"

    # Ads the fake does not have (no structure: campaign `unknown`): the truth test
    # (test_dashboards_truth.py) shares this stack and expects the CRM side of the fake's ads to be
    # its own customer's alone, whichever module runs first.
    ads = [f"1209990000000000{n:02d}" for n in range(1, 4)]
    psids = {"rb-1": ads[0], "rb-2": ads[1], "rb-3": ads[2], "rb-4": None}
    for psid, ad in psids.items():
        await write(system, psid, **({"referral": referral(ad)} if ad else {}))

    async def all_customers() -> dict[str, str] | None:
        found = {psid: await customer_for(system, psid) for psid in psids}
        if all(found.values()):
            return {psid: c["customer_id"] for psid, c in found.items() if c}
        return None

    customers = await eventually(all_customers, timeout=60, interval=0.3)
    # A returning customer clicks another ad: a conversation that ad opened, not a new lead.
    await write(system, "rb-1", referral=referral(ads[1]))
    product = await http.post(
        "/api/v1/products", json={"kind": "course", "name_th": "คอร์สราเมง", "price": "5000.00"}
    )
    assert product.status_code == 201, product.text
    course = product.json()["id"]
    product = await http.post(
        "/api/v1/products", json={"kind": "equipment", "name_th": "ชุดมีด", "price": "333.33"}
    )
    assert product.status_code == 201, product.text
    kit = product.json()["id"]

    async def order(psid: str, quantity: int, *, with_kit: bool = False) -> str:
        lines = [{"product_id": course, "quantity": quantity}]
        if with_kit:
            lines.append({"product_id": kit, "quantity": 1})
        response = await http.post("/api/v1/orders", json={"customer_id": customers[psid], "lines": lines})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def pay(order_id: str, amount: str, received_at: str) -> None:
        body = {"method": "transfer", "amount": amount, "received_at": received_at}
        response = await http.post(f"/api/v1/orders/{order_id}/payments", json=body)
        assert response.status_code == 201, response.text

    async def refund(order_id: str, amount: str) -> None:
        body = {"method": "transfer", "amount": amount, "reason": "changed intake"}
        response = await http.post(f"/api/v1/orders/{order_id}/refunds", json=body)
        assert response.status_code == 201, response.text

    o1, o2, o3, o4 = (
        await order("rb-1", 2),
        await order("rb-2", 1),
        await order("rb-3", 1),
        await order("rb-4", 1, with_kit=True),  # 5,000.00 + 333.33
    )
    # Across a Bangkok midnight: 23:30 and 00:30 are two days (16:30Z and 17:30Z the same UTC day).
    await pay(o1, "6000.00", bangkok(since, 23, 30))
    await pay(o1, "4000.00", bangkok(since + timedelta(days=1), 0, 30))
    await refund(o1, "2000.00")
    await pay(o2, "2500.00", bangkok(since + timedelta(days=1), 10))  # half paid: still pending
    await pay(o3, "5000.00", bangkok(since + timedelta(days=2), 9))
    await refund(o3, "5000.00")  # all of it: refunded
    # No ad touch: unattributed. 2,000.00 split 5,000 : 333.33 is 1,875.0011... : 124.9988..., in
    # satang 1,875.00 : 125.00 (the kit's larger remainder takes the left-over satang); 3,333.33 is
    # 3,125.00 : 208.33. The kit's 333.33 in all.
    await pay(o4, "2000.00", bangkok(since + timedelta(days=2), 15))
    await pay(o4, "3333.33", bangkok(since + timedelta(days=2), 16))
    return {"since": since, "ads": ads, "course": course, "kit": kit}


def counted(event: dict[str, Any]) -> bool:
    """An event the analytics consumer stores (a contact only when an ad brought it)."""
    if event.get("type") == "contact.seen":
        return bool((event["data"].get("referral") or {}).get("ad_id"))
    return event.get("type") in ANALYTICS_EVENTS


async def settled(system: System, recorder: EventRecorder) -> None:
    """Every analytics event seen is handled by the cache-writer, nothing is left to render."""
    connection = await asyncpg.connect(libpq_database_url(system.stack.env["DATABASE_URL"]))
    try:

        async def done() -> bool:
            ids = [e["event_id"] for e in recorder.events if counted(e)]
            handled = await connection.fetchval(
                "SELECT count(*) FROM cache_writer.inbox WHERE consumer = 'cache-writer.analytics'"
                " AND event_id = ANY($1::uuid[])",
                ids,
            )
            marked = await connection.fetchval("SELECT count(*) FROM cache_writer.dirty_days")
            structure = await connection.fetchval(
                "SELECT count(*) FROM cache_writer.analytics_state WHERE structure_dirty_at IS NOT NULL"
            )
            return bool(ids) and handled == len(ids) and marked == 0 and structure == 0

        await eventually(done, timeout=60, interval=0.2)
    finally:
        await connection.close()


async def rebuild(system: System) -> list[str]:
    env = {
        **system.stack.service_env("cache-writer"),
        "GATEWAY_INTERNAL_URL": system.stack.internal_url("gateway"),
        "MARKETING_INTERNAL_URL": system.stack.internal_url("marketing"),
        "MESSENGER_INTERNAL_URL": system.stack.internal_url("messenger"),
        "REBUILD_PAGE_SIZE": "2",  # several pages of everything
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crm_cache_writer",
        "rebuild",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()[-3000:]
    return stdout.decode().splitlines()


async def test_a_rebuild_from_nothing_writes_the_files_the_events_wrote(system: System) -> None:
    cache_dir = system.cache_dir
    async with EventRecorder(system.rabbitmq_url) as recorder:
        async with httpx.AsyncClient(
            base_url=system.stack.url("gateway"), headers=await staff_token(system), timeout=30
        ) as http:
            dataset = await make_dataset(system, http)
        await settled(system, recorder)
    live = snapshots(cache_dir)
    since = dataset["since"]

    # The live files hold the dataset (a comparison of two empty folders would prove nothing).
    first_day = PeriodSnapshot.model_validate_json(live[daily_path(since)])
    assert first_day.total.revenue["last_28d"] >= Decimal("6000.00")
    assert first_day.total.spend > 0
    next_day = PeriodSnapshot.model_validate_json(live[daily_path(since + timedelta(days=1))])
    assert next_day.total.revenue["last_28d"] >= Decimal("6500.00")  # 4,000 (o1) + 2,500 (o2, part)
    today = PeriodSnapshot.model_validate_json(live[daily_path(datetime.now(BANGKOK).date())])
    assert today.total.leads >= 3
    assert today.total.conversations_started >= 4
    assert "ads/structure.json" in live
    assert "analytics/summary.json" in live
    third_day = PeriodSnapshot.model_validate_json(live[daily_path(since + timedelta(days=2))])
    assert dataset["kit"] in third_day.products  # the split is in the files being compared
    assert sum(p.revenue for p in third_day.products.values()) == third_day.total.revenue["last_28d"]
    ever = ProductsSnapshot.model_validate_json(live[PRODUCTS_ALL_PATH])
    assert ever.products[dataset["kit"]].revenue == Decimal("333.33")
    assert ever.products[dataset["course"]].kind == "course"

    output = await rebuild(system)
    rebuilt = snapshots(cache_dir)
    assert sorted(rebuilt) == sorted(live)
    assert comparable(rebuilt) == comparable(live)

    progress = [m for line in output if (m := PROGRESS.match(line))]
    sources = {m.group(1) for m in progress}
    assert sources == {
        "structure",
        "insights (day)",
        "insights (hour)",
        "customers",
        "orders",
        "payments",
        "ad referrals",
    }
    for source in sources:
        last = [m for m in progress if m.group(1) == source][-1]
        assert last.group(2) == last.group(3), f"{source}: every item counted ({last.group(0)})"
    payments = [m.group(0) for m in progress if m.group(1) == "payments"]
    assert len(payments) > 1, "pages of two orders: progress after each"
    assert any(line.startswith("render ") for line in output)

    again = await rebuild(system)
    assert any(PROGRESS.match(line) for line in again)
    assert comparable(snapshots(cache_dir)) == comparable(live)
    assert sorted(snapshots(cache_dir)) == sorted(live)
