"""Erased and merged customers leave the JSON files the gateway serves, and stay out of them."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from crm_cache_writer.app import create_app
from crm_cache_writer.config import CacheWriterSettings
from crm_cache_writer.models import customer_tombstones, inbox
from crm_contracts import (
    ChannelIdentity,
    CustomerCreated,
    CustomerCreatedData,
    CustomerErasureRequested,
    CustomerErasureRequestedData,
    CustomerMerged,
    CustomerMergedData,
    CustomerMergeUndone,
    CustomerMergeUndoneData,
    CustomerUpdated,
    CustomerUpdatedData,
    Event,
)
from crm_servicekit.migrations import upgrade
from crm_servicekit.parking import list_parked
from crm_servicekit.pdpa import find_mentions
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import EventRecorder, eventually

pytestmark = pytest.mark.integration

T0 = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass
class CacheWriter:
    app: FastAPI
    root: Path
    events: EventRecorder
    rabbitmq_url: str


@pytest.fixture
async def cache_writer(database_url: str, rabbitmq_url: str, tmp_path: Path) -> AsyncIterator[CacheWriter]:
    await asyncio.to_thread(
        upgrade, "crm_cache_writer", ServiceSettings(database_url=database_url).async_database_url
    )
    app = create_app(
        CacheWriterSettings(database_url=database_url, rabbitmq_url=rabbitmq_url, crm_cache_dir=tmp_path)
    )
    async with EventRecorder(rabbitmq_url) as events, app.router.lifespan_context(app):
        yield CacheWriter(app, tmp_path, events, rabbitmq_url)


def created(n: int, psid: str, at: datetime = T0, **profile: Any) -> CustomerCreated:
    return CustomerCreated(
        correlation_id=f"c_{n}",
        data=CustomerCreatedData(
            customer_id=f"TVS-CUS-FB-26-{n:04d}",
            channel="FB",
            lifecycle_stage="lead",
            identities=[ChannelIdentity(channel="messenger", page_id="p", external_id=psid)],
            created_at=at,
            **profile,
        ),
    )


def updated(base: CustomerCreated, at: datetime, **changes: Any) -> CustomerUpdated:
    data = {**base.data.model_dump(), **changes}
    return CustomerUpdated(
        correlation_id="u",
        data=CustomerUpdatedData(**data, updated_at=at, changed=sorted(changes) or ["tags"]),
    )


async def publish(cw: CacheWriter, *events: Event | dict[str, Any]) -> None:
    for event in events:
        if isinstance(event, Event):
            body: bytes | dict[str, Any] = event.model_dump_json().encode()
            key, message_id = event.type, str(event.event_id)
        else:
            body, key, message_id = event, str(event["type"]), str(uuid.uuid4())
        await cw.app.state.runtime.broker.publish(
            body, exchange="crm.events", routing_key=key, message_id=message_id
        )


def snapshot(cw: CacheWriter, customer_id: str) -> dict[str, Any] | None:
    path = cw.root / "customer" / f"{customer_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


def listed(cw: CacheWriter) -> list[str]:
    path = cw.root / "customers" / "latest.json"
    return [c["customer_id"] for c in json.loads(path.read_text())["items"]] if path.exists() else []


async def written(cw: CacheWriter, customer_id: str, check: Any = None) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        got = snapshot(cw, customer_id)
        return got if got is not None and (check is None or check(got)) else None

    return await eventually(found, timeout=15)


def files_mentioning(root: Path, *needles: str) -> list[str]:
    """Every file under the cache directory whose text holds any needle (raw or JSON-escaped)."""
    forms = {form for n in needles for form in (n, json.dumps(n)[1:-1])}
    return [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and any(f in p.read_text(errors="replace") for f in forms)
    ]


async def mentions(cw: CacheWriter, *needles: str) -> dict[str, int]:
    async with cw.app.state.runtime.sessionmaker() as session:
        return await find_mentions(session, "cache_writer", needles)


def erasure(
    customer_id: str, psid: str, at: datetime, request_id: uuid.UUID | None = None
) -> CustomerErasureRequested:
    return CustomerErasureRequested(
        correlation_id="erasure-test",
        data=CustomerErasureRequestedData(
            request_id=request_id or uuid.uuid4(),
            customer_id=customer_id,
            identities=[ChannelIdentity(channel="messenger", page_id="p", external_id=psid)],
            requested_at=at,
        ),
    )


async def reports(cw: CacheWriter, request_id: uuid.UUID) -> list[dict[str, Any]]:
    found = cw.events.of_type("customer.erasure_progress")
    return [e for e in found if e["data"]["request_id"] == str(request_id)]


async def test_erased_customer_leaves_every_file_and_late_events_never_bring_them_back(
    cache_writer: CacheWriter,
) -> None:
    cw = cache_writer
    psid, name, phone, email = "5550001112223334", "สมหญิง ใจดี", "+66812345678", "somying@example.com"
    erased = created(301, psid, name_th=name, name_latin="Somying Jaidee", phone=phone, email=email)
    nickname = updated(erased, T0 + DAY, nickname="นุ่น")
    other = created(302, "7770009998887776", T0 + timedelta(minutes=1), name_th="สมชาย ดีใจ")
    await publish(cw, erased, nickname, other)
    await written(cw, "TVS-CUS-FB-26-0301", lambda s: s["nickname"] == "นุ่น")
    await written(cw, "TVS-CUS-FB-26-0302")
    # Updates nobody could read are parked, with the customer in them.
    for n, person in ((301, name), (302, "สมชาย ดีใจ")):
        await publish(
            cw,
            {
                "type": "customer.updated",
                "data": {"customer_id": f"TVS-CUS-FB-26-{n:04d}", "name_th": person},
            },
        )

    async def parked() -> list[Any]:
        found = await list_parked(cw.rabbitmq_url, "cache-writer.customer-updates")
        return found if len(found) == 2 else []

    await eventually(parked, timeout=15)
    await cw.app.state.runtime.extras["latest"].drain()  # the list follows the files a moment later
    personal = (psid, name, "Somying Jaidee", phone, email, "นุ่น")
    assert files_mentioning(cw.root, *personal) == [
        "customer/TVS-CUS-FB-26-0301.json",
        "customers/latest.json",
    ]

    request = erasure("TVS-CUS-FB-26-0301", psid, T0 + 2 * DAY)
    await publish(cw, request)
    [report] = await eventually(lambda: reports(cw, request.data.request_id), timeout=15)

    assert report["producer"] == "cache-writer"
    assert (report["data"]["service"], report["data"]["status"]) == ("cache-writer", "completed")
    assert report["data"]["erased"] == {
        "snapshots": 1,
        "snapshot_files": 1,
        "outbox_events": 0,
        "parked_messages": 1,
    }
    assert files_mentioning(cw.root, *personal, "TVS-CUS-FB-26-0301") == []
    assert await mentions(cw, *personal) == {}
    assert listed(cw)[0] == "TVS-CUS-FB-26-0302", "the other customer stays listed"
    assert files_mentioning(cw.root, "สมชาย ดีใจ"), "the other customer's file stays"
    [left] = await list_parked(cw.rabbitmq_url, "cache-writer.customer-updates")
    assert left.event_type == "customer.updated"

    # Events from before the erasure arrive late (and one request twice): none writes the file.
    await publish(cw, updated(erased, T0 + DAY + timedelta(hours=1), nickname="นุ่นนุ่น"), erased)
    await publish(cw, request, CustomerErasureRequested(correlation_id="again", data=request.data))
    sentinel_request = erasure("TVS-CUS-FB-26-0399", "6660004445556667", T0 + 2 * DAY)
    await publish(cw, updated(other, T0 + 3 * DAY, nickname="ชาย"), created(303, "4440001112223338"))
    await publish(cw, sentinel_request)
    await written(cw, "TVS-CUS-FB-26-0302", lambda s: s["nickname"] == "ชาย")
    await written(cw, "TVS-CUS-FB-26-0303")
    [quiet] = await eventually(lambda: reports(cw, sentinel_request.data.request_id), timeout=15)
    assert quiet["data"]["erased"]["snapshots"] == 0
    assert snapshot(cw, "TVS-CUS-FB-26-0301") is None
    assert "TVS-CUS-FB-26-0301" not in listed(cw)
    assert len(await reports(cw, request.data.request_id)) == 1


def merge_events(merge_id: uuid.UUID, survivor: str, merged: str, psid: str) -> tuple[Event, Event]:
    identity = [ChannelIdentity(channel="messenger", page_id="p", external_id=psid)]
    merge = CustomerMerged(
        correlation_id="merge",
        data=CustomerMergedData(
            merge_id=merge_id, survivor_id=survivor, merged_id=merged, identities=identity, merged_at=T0 + DAY
        ),
    )
    undo = CustomerMergeUndone(
        correlation_id="undo",
        data=CustomerMergeUndoneData(
            merge_id=merge_id,
            survivor_id=survivor,
            restored_id=merged,
            identities=identity,
            undone_at=T0 + 2 * DAY,
        ),
    )
    return merge, undo


async def test_merged_customer_leaves_the_files_until_the_merge_is_undone(cache_writer: CacheWriter) -> None:
    cw = cache_writer
    survivor = created(401, "5550001110004011", name_th="มานี มีนา")
    gone = created(402, "5550001110004022", T0 + timedelta(minutes=1), nickname="Mani")
    await publish(cw, survivor, gone)
    await written(cw, "TVS-CUS-FB-26-0401")
    await written(cw, "TVS-CUS-FB-26-0402")
    merge, undo = merge_events(uuid.uuid4(), "TVS-CUS-FB-26-0401", "TVS-CUS-FB-26-0402", "5550001110004022")
    both = [*survivor.data.identities, *gone.data.identities]
    await publish(cw, merge, updated(survivor, T0 + DAY, identities=both))

    await written(cw, "TVS-CUS-FB-26-0401", lambda s: len(s["identities"]) == 2)

    def merged_away() -> bool:
        return snapshot(cw, "TVS-CUS-FB-26-0402") is None and "TVS-CUS-FB-26-0402" not in listed(cw)

    await eventually(lambda: asyncio.sleep(0, merged_away()), timeout=15)
    # A late update of the merged customer from before the merge is ignored.
    await publish(cw, updated(gone, T0 + timedelta(hours=5), nickname="late"))
    await publish(cw, updated(survivor, T0 + DAY + timedelta(hours=1), identities=both, nickname="sentinel"))
    await written(cw, "TVS-CUS-FB-26-0401", lambda s: s["nickname"] == "sentinel")
    assert snapshot(cw, "TVS-CUS-FB-26-0402") is None

    await publish(cw, undo, updated(gone, T0 + 2 * DAY, nickname="Mani again"))
    await written(cw, "TVS-CUS-FB-26-0402", lambda s: s["nickname"] == "Mani again")
    await eventually(lambda: asyncio.sleep(0, "TVS-CUS-FB-26-0402" in listed(cw)), timeout=15)


async def test_a_merge_seen_after_its_undo_changes_nothing(cache_writer: CacheWriter) -> None:
    cw = cache_writer
    kept = created(502, "5550001110005022")
    await publish(cw, created(501, "5550001110005011"), kept)
    await written(cw, "TVS-CUS-FB-26-0502")
    merge, undo = merge_events(uuid.uuid4(), "TVS-CUS-FB-26-0501", "TVS-CUS-FB-26-0502", "5550001110005022")
    await publish(cw, undo)

    async def undo_recorded() -> bool:
        async with cw.app.state.runtime.sessionmaker() as session:
            query = select(customer_tombstones.c.lifted_at).where(
                customer_tombstones.c.customer_id == "TVS-CUS-FB-26-0502"
            )
            return (await session.execute(query)).scalar() is not None

    await eventually(undo_recorded, timeout=15)
    await publish(cw, merge)

    async def merge_handled() -> bool:
        async with cw.app.state.runtime.sessionmaker() as session:
            query = select(inbox.c.event_id).where(inbox.c.event_id == merge.event_id)
            return (await session.execute(query)).first() is not None

    await eventually(merge_handled, timeout=15)
    assert snapshot(cw, "TVS-CUS-FB-26-0502") is not None
    await publish(cw, updated(kept, T0 + timedelta(hours=1), nickname="still here"))
    await written(cw, "TVS-CUS-FB-26-0502", lambda s: s["nickname"] == "still here")
    assert "TVS-CUS-FB-26-0502" in listed(cw)
