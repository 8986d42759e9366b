"""Ids that would name a path outside `CRM_CACHE_DIR`, published to the broker by anyone who can:
refused at the contract (parked, no retry) and, should one get past it, at the file layer. Nothing
is written or deleted outside the cache directory."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from crm_cache_writer.app import create_app
from crm_cache_writer.config import CacheWriterSettings
from crm_cache_writer.files import UnsafePath, delete_file, inside, write_model
from crm_contracts.snapshots import CustomerListSnapshot
from crm_servicekit.migrations import upgrade
from crm_servicekit.parking import list_parked
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import eventually

pytestmark = pytest.mark.integration

TRAVERSALS = ["../../etc/x", "../outside", "/etc/x", "TVS-CUS-FB-26-0001/../../../x"]
WHEN = "2026-06-01T03:00:00Z"


@pytest.fixture
async def cache_writer(
    database_url: str, rabbitmq_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, Path]]:
    await asyncio.to_thread(
        upgrade, "crm_cache_writer", ServiceSettings(database_url=database_url).async_database_url
    )
    root = tmp_path / "deep" / "cache"
    root.mkdir(parents=True)
    app = create_app(
        CacheWriterSettings(database_url=database_url, rabbitmq_url=rabbitmq_url, crm_cache_dir=root)
    )
    async with app.router.lifespan_context(app):
        yield app, root


def customer(customer_id: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "channel": "FB",
        "lifecycle_stage": "lead",
        "identities": [],
        "created_at": WHEN,
    }


def hostile_events(customer_id: str) -> list[dict[str, Any]]:
    """Each event the cache-writer turns into a file path, carrying `customer_id`."""
    merge = {"merge_id": str(uuid.uuid4()), "identities": []}
    return [
        {"type": "customer.created", "data": customer(customer_id)},
        {
            "type": "customer.updated",
            "data": {**customer(customer_id), "updated_at": WHEN, "changed": ["tags"]},
        },
        {
            "type": "customer.merged",
            "data": {
                **merge,
                "survivor_id": "TVS-CUS-FB-26-0001",
                "merged_id": customer_id,
                "merged_at": WHEN,
            },
        },
        {
            "type": "customer.erasure_requested",
            "data": {
                "request_id": str(uuid.uuid4()),
                "customer_id": customer_id,
                "identities": [],
                "requested_at": WHEN,
            },
        },
    ]


def files_under(directory: Path) -> set[Path]:
    return {p for p in directory.rglob("*") if p.is_file()}


async def test_a_published_event_with_a_path_traversal_id_is_parked_and_writes_nothing(
    cache_writer: tuple[FastAPI, Path], rabbitmq_url: str
) -> None:
    app, root = cache_writer
    outside = root.parent.parent
    (root.parent / "outside.json").write_text("{}")  # what `../outside` would overwrite or delete
    before = files_under(outside)
    # Every queue bound to an event's type gets (and parks) its own copy.
    bound = [sub.queue.routing() for sub in app.state.runtime.broker.subscribers]
    sent = 0
    for customer_id in TRAVERSALS:
        for event in hostile_events(customer_id):
            event |= {"event_id": str(uuid.uuid4()), "occurred_at": WHEN, "correlation_id": "attack"}
            await app.state.runtime.broker.publish(
                event, exchange="crm.events", routing_key=event["type"], message_id=event["event_id"]
            )
            sent += bound.count(event["type"])
    queues = list(app.state.runtime.topology.policies)

    async def all_parked() -> list[Any]:
        found = [m for queue in queues for m in await list_parked(rabbitmq_url, queue)]
        return found if len(found) == sent else []

    parked = await eventually(all_parked, timeout=30)

    assert len(parked) == sent
    assert files_under(outside) - files_under(root) == before
    assert (root.parent / "outside.json").read_text() == "{}"
    assert not [p for p in files_under(root) if p.suffix == ".json" and p.parent.name == "customer"]


@pytest.mark.parametrize("relative", ["../x.json", "customer/../../x.json", "/etc/x.json", "."])
async def test_the_file_layer_refuses_a_path_outside_the_cache_directory(
    tmp_path: Path, relative: str
) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    empty = CustomerListSnapshot(generated_at=WHEN, items=[])  # type: ignore[arg-type]

    with pytest.raises(UnsafePath):
        await write_model(root, relative, empty)
    with pytest.raises(UnsafePath):
        await delete_file(root, relative)
    assert files_under(tmp_path) == set()


def test_a_symlink_out_of_the_cache_directory_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    (root / "customer").mkdir(parents=True)
    (root / "customer" / "TVS-CUS-FB-26-0001.json").symlink_to(tmp_path / "victim.json")

    with pytest.raises(UnsafePath):
        inside(root, "customer/TVS-CUS-FB-26-0001.json")
    assert (
        inside(root, "customer/TVS-CUS-FB-26-0002.json")
        == root.resolve() / "customer" / "TVS-CUS-FB-26-0002.json"
    )
