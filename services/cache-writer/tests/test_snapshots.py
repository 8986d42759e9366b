"""The JSON files the gateway serves first: right, atomic, newest-wins, written once per event."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from crm_cache_writer.app import create_app
from crm_cache_writer.config import CacheWriterSettings
from crm_cache_writer.files import write_atomic
from crm_contracts import (
    AdReferral,
    ChannelIdentity,
    CustomerCreated,
    CustomerCreatedData,
    CustomerUpdated,
    CustomerUpdatedData,
    Event,
)
from crm_contracts.snapshots import CustomerListSnapshot
from crm_servicekit.migrations import upgrade
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import eventually

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def created(n: int, *, ad_id: str = "ad-1") -> CustomerCreated:
    return CustomerCreated(
        correlation_id=f"m_{n}",
        data=CustomerCreatedData(
            customer_id=f"TVS-CUS-FB-26-{n:04d}",
            channel="FB",
            lifecycle_stage="lead",
            identities=[ChannelIdentity(channel="messenger", page_id="p", external_id=f"psid-{n}")],
            first_touch=AdReferral(ad_id=ad_id),
            latest_touch=AdReferral(ad_id=ad_id),
            created_at=T0 + timedelta(minutes=n),
        ),
    )


def updated(base: CustomerCreated, ad_id: str, at: datetime) -> CustomerUpdated:
    return CustomerUpdated(
        correlation_id="m_u",
        data=CustomerUpdatedData(
            **base.data.model_dump(exclude={"latest_touch"}),
            latest_touch=AdReferral(ad_id=ad_id),
            updated_at=at,
            changed=["latest_touch"],
        ),
    )


@pytest.fixture
async def cache_writer(
    database_url: str, rabbitmq_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, Path]]:
    await asyncio.to_thread(
        upgrade, "crm_cache_writer", ServiceSettings(database_url=database_url).async_database_url
    )
    app = create_app(
        CacheWriterSettings(database_url=database_url, rabbitmq_url=rabbitmq_url, crm_cache_dir=tmp_path)
    )
    async with app.router.lifespan_context(app):
        yield app, tmp_path


async def publish(app: FastAPI, *events: Event) -> None:
    for event in events:
        await app.state.runtime.broker.publish(
            event.model_dump_json().encode(),
            exchange="crm.events",
            routing_key=event.type,
            message_id=str(event.event_id),
        )


def read(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


async def test_created_then_updated_customer_is_on_disk_as_it_is_now(
    cache_writer: tuple[FastAPI, Path],
) -> None:
    app, root = cache_writer
    first = created(101)
    newer = updated(first, "ad-new", T0 + timedelta(days=2))
    older = updated(first, "ad-old", T0 + timedelta(days=1))
    await publish(app, first)
    path = root / "customer" / "TVS-CUS-FB-26-0101.json"
    await eventually(lambda: asyncio.sleep(0, read(path)))
    await publish(app, newer, older, newer)  # out of order, and one redelivered

    async def latest_ad() -> object:
        snapshot = read(path)
        return snapshot and snapshot["latest_touch"]["ad_id"] == "ad-new"

    await eventually(latest_ad)
    # The older update arrives after the newer one and is ignored; give it time to be handled.
    sentinel = created(102)
    await publish(app, sentinel)
    await eventually(lambda: asyncio.sleep(0, read(root / "customer" / "TVS-CUS-FB-26-0102.json")))
    snapshot = read(path)
    assert snapshot is not None
    assert snapshot["latest_touch"]["ad_id"] == "ad-new"
    assert snapshot["first_touch"]["ad_id"] == "ad-1"
    assert snapshot["identities"][0]["external_id"] == "psid-101"
    # No temp file is left behind (the latest list may still be being written: its temp file goes).
    await eventually(lambda: asyncio.sleep(0, not list(root.rglob("*.tmp"))))


async def test_latest_list_holds_the_newest_customers_first(cache_writer: tuple[FastAPI, Path]) -> None:
    app, root = cache_writer
    await publish(app, created(203), created(201), created(202))
    listed = root / "customers" / "latest.json"

    async def ids() -> list[str]:
        data = read(listed)
        got = [c["customer_id"] for c in data["items"]] if data else []
        # All three listed (the list also holds other tests' customers): then their order is final.
        return got if {"TVS-CUS-FB-26-0201", "TVS-CUS-FB-26-0202", "TVS-CUS-FB-26-0203"} <= set(got) else []

    got = await eventually(ids)
    mine = [i for i in got if i.startswith("TVS-CUS-FB-26-02")]
    assert mine == ["TVS-CUS-FB-26-0203", "TVS-CUS-FB-26-0202", "TVS-CUS-FB-26-0201"]


async def test_the_list_carries_each_customer_as_their_own_file_says(
    cache_writer: tuple[FastAPI, Path],
) -> None:
    app, root = cache_writer
    first = created(211)
    later = CustomerUpdated(
        correlation_id="m_211u",
        data=CustomerUpdatedData(
            **{**first.data.model_dump(), "nickname": "นุ่น"},
            updated_at=first.data.created_at + timedelta(hours=1),
            changed=["nickname"],
        ),
    )
    await publish(app, first, later)

    async def listed() -> dict[str, Any] | None:
        data = read(root / "customers" / "latest.json")
        mine = [c for c in data["items"] if c["customer_id"] == "TVS-CUS-FB-26-0211"] if data else []
        return mine[0] if mine and mine[0]["nickname"] == "นุ่น" else None

    item = await eventually(listed)
    # The gateway reads the list with the contract's model: it must parse, and say what the file says.
    listing = CustomerListSnapshot.model_validate_json((root / "customers" / "latest.json").read_bytes())
    assert listing.generated_at.tzinfo is not None
    assert item == read(root / "customer" / "TVS-CUS-FB-26-0211.json")


async def test_a_list_left_stale_by_a_stopped_process_is_rebuilt_when_it_starts(
    database_url: str, rabbitmq_url: str, tmp_path: Path
) -> None:
    settings = CacheWriterSettings(
        database_url=database_url, rabbitmq_url=rabbitmq_url, crm_cache_dir=tmp_path
    )
    await asyncio.to_thread(upgrade, "crm_cache_writer", settings.async_database_url)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await publish(app, created(221))
        await eventually(lambda: asyncio.sleep(0, read(tmp_path / "customer" / "TVS-CUS-FB-26-0221.json")))
    # As if the process died after its commit, before its rebuild: no list on disk.
    (tmp_path / "customers" / "latest.json").unlink()

    again = create_app(settings)
    async with again.router.lifespan_context(again):
        await again.state.runtime.extras["latest"].drain()
        listing = read(tmp_path / "customers" / "latest.json")
    assert listing is not None
    assert "TVS-CUS-FB-26-0221" in [c["customer_id"] for c in listing["items"]]


def test_atomic_write_replaces_the_whole_file_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "customer" / "x.json"
    write_atomic(target, b'{"v": 1}')
    write_atomic(target, b'{"v": 2}')
    assert json.loads(target.read_text()) == {"v": 2}

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, b'{"v": 3}')
    assert json.loads(target.read_text()) == {"v": 2}, "a failed write leaves the old file"
    assert list(target.parent.iterdir()) == [target]
