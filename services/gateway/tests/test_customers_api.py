"""`/api/v1/customers`: the cache-writer's snapshots first, the database otherwise, problems on error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from crm_contracts import ContactSeen
from crm_contracts.snapshots import LATEST_CUSTOMERS_PATH, customer_path
from crm_gateway.customers import service
from crm_servicekit.runtime import Runtime

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_customers")]

MakeContact = Callable[..., ContactSeen]
START = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


async def seed(runtime: Runtime, make_contact: MakeContact, n: int) -> list[str]:
    """n customers, oldest first; pairs share a created_at, so the id breaks the tie."""
    ids = []
    for i in range(n):
        async with runtime.uow() as uow:
            now = START + timedelta(minutes=i // 2)
            customer_id = await service.contact_seen(uow, make_contact(f"psid-{i}", ad_id=f"ad-{i}"), now=now)
        assert customer_id
        ids.append(customer_id)
    return ids


def write(root: Path, relative: str, body: object) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body if isinstance(body, str) else json.dumps(body))


async def walk(client: httpx.AsyncClient, auth: dict[str, str], limit: int) -> tuple[list[str], list[str]]:
    """Follow next_cursor to the end: every id seen, and where each page came from."""
    seen: list[str] = []
    sources: list[str] = []
    params: dict[str, str | int] = {"limit": limit}
    while True:
        response = await client.get("/api/v1/customers", params=params, headers=auth)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [c["customer_id"] for c in page["items"]]
        sources.append(response.headers["x-served-from"])
        if page["next_cursor"] is None:
            return seen, sources
        params = {"limit": limit, "cursor": page["next_cursor"]}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


async def test_one_customer_comes_from_the_database_without_a_snapshot(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, make_contact: MakeContact
) -> None:
    [customer_id] = await seed(runtime, make_contact, 1)

    response = await client.get(f"/api/v1/customers/{customer_id}", headers=auth)

    assert response.status_code == 200
    assert response.headers["x-served-from"] == "database"
    body = response.json()
    assert body["customer_id"] == customer_id
    assert body["channel"] == "FB"
    assert body["lifecycle_stage"] == "lead"
    assert body["identities"][0]["external_id"] == "psid-0"
    assert body["first_touch"]["ad_id"] == "ad-0"


async def test_one_customer_comes_from_its_snapshot_when_there_is_one(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    make_contact: MakeContact,
    cache_dir: Path,
) -> None:
    [customer_id] = await seed(runtime, make_contact, 1)
    snapshot = (await client.get(f"/api/v1/customers/{customer_id}", headers=auth)).json()
    await asyncio.to_thread(
        write, cache_dir, customer_path(customer_id), {**snapshot, "display_name": "Khun Somchai"}
    )

    response = await client.get(f"/api/v1/customers/{customer_id}", headers=auth)

    assert response.headers["x-served-from"] == "cache"
    assert response.json()["display_name"] == "Khun Somchai"


async def test_an_unreadable_snapshot_falls_back_to_the_database(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    make_contact: MakeContact,
    cache_dir: Path,
) -> None:
    [customer_id] = await seed(runtime, make_contact, 1)
    await asyncio.to_thread(write, cache_dir, customer_path(customer_id), '{"customer_id": "TVS-CU')

    response = await client.get(f"/api/v1/customers/{customer_id}", headers=auth)

    assert response.status_code == 200
    assert response.headers["x-served-from"] == "database"


@pytest.mark.parametrize("customer_id", ["TVS-CUS-FB-26-9999", "not-an-id", "TVS-CUS-FB-26-0001.json"])
async def test_an_unknown_or_malformed_id_is_a_404_problem(
    client: httpx.AsyncClient, auth: dict[str, str], customer_id: str
) -> None:
    response = await client.get(f"/api/v1/customers/{customer_id}", headers=auth)

    body = assert_problem(response, 404)
    assert body["type"] == "urn:vschool-crm:problem:customer-not-found"


@pytest.mark.parametrize("path", ["..%2F..%2Fcustomers%2Flatest", "%2E%2E%2Fcustomers%2Flatest.json"])
async def test_no_path_reaches_a_file_outside_the_customer_snapshots(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path, path: str
) -> None:
    await asyncio.to_thread(write, cache_dir, LATEST_CUSTOMERS_PATH, {"generated_at": "x", "items": []})

    response = await client.get(f"/api/v1/customers/{path}", headers=auth)

    assert_problem(response, 404)
    assert "x-served-from" not in response.headers


@pytest.mark.parametrize("limit", ["abc", "0", "-1", "201", "2.5"])
async def test_a_malformed_limit_is_a_422_problem_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], limit: str
) -> None:
    response = await client.get("/api/v1/customers", params={"limit": limit}, headers=auth)

    body = assert_problem(response, 422)
    assert [(e["field"], e["location"]) for e in body["errors"]] == [("limit", "query")]  # type: ignore[attr-defined]


@pytest.mark.parametrize("cursor", ["!!!", "bm90IGpzb24", "WyJ5ZXN0ZXJkYXkiLCJ4Il0", "WzEsMl0"])
async def test_a_forged_cursor_is_a_422_problem_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], cursor: str
) -> None:
    response = await client.get("/api/v1/customers", params={"cursor": cursor}, headers=auth)

    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["cursor"]  # type: ignore[attr-defined]


async def test_pages_from_the_database_walk_every_customer_once_newest_first(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, make_contact: MakeContact
) -> None:
    ids = await seed(runtime, make_contact, 11)

    for limit in (1, 3, 11, 50):
        seen, sources = await walk(client, auth, limit)
        assert seen == ids[::-1]
        assert set(sources) == {"database"}


async def test_the_first_page_comes_from_latest_json_and_the_rest_from_the_database(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    make_contact: MakeContact,
    cache_dir: Path,
) -> None:
    ids = await seed(runtime, make_contact, 9)
    # What the cache-writer would have written: the newest customers, newest first.
    newest = (await client.get("/api/v1/customers", params={"limit": 6}, headers=auth)).json()["items"]
    newest[0]["display_name"] = "Written by the cache-writer"
    latest = {"generated_at": datetime.now(UTC).isoformat(), "items": newest}
    await asyncio.to_thread(write, cache_dir, LATEST_CUSTOMERS_PATH, latest)

    first = await client.get("/api/v1/customers", params={"limit": 4}, headers=auth)
    assert first.headers["x-served-from"] == "cache"
    assert first.json()["items"][0]["display_name"] == "Written by the cache-writer"

    seen, sources = await walk(client, auth, 4)
    assert seen == ids[::-1]
    assert sources == ["cache", "database", "database"]

    # More than the file holds: the database answers.
    bigger = await client.get("/api/v1/customers", params={"limit": 7}, headers=auth)
    assert bigger.headers["x-served-from"] == "database"
    assert [c["customer_id"] for c in bigger.json()["items"]] == ids[::-1][:7]


async def test_a_short_latest_json_is_the_whole_list(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    make_contact: MakeContact,
    cache_dir: Path,
) -> None:
    ids = await seed(runtime, make_contact, 3)
    items = (await client.get("/api/v1/customers", headers=auth)).json()["items"]
    latest = {"generated_at": datetime.now(UTC).isoformat(), "items": items}
    await asyncio.to_thread(write, cache_dir, LATEST_CUSTOMERS_PATH, latest)

    response = await client.get("/api/v1/customers", params={"limit": 3}, headers=auth)

    assert response.headers["x-served-from"] == "cache"
    assert [c["customer_id"] for c in response.json()["items"]] == ids[::-1]
    assert response.json()["next_cursor"] is None
