"""A merge across real processes: the gateway moves everything to the survivor, the cache-writer
re-keys its snapshots (the merged customer's file goes, the survivor's gains the identities), and
an admin's undo brings both back as they were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm_servicekit.testing import eventually

from .conftest import System, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def cached(system: System, customer_id: str) -> dict[str, Any] | None:
    path = Path(system.cache_dir) / "customer" / f"{customer_id}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return data


def latest_ids(system: System) -> list[str]:
    path = Path(system.cache_dir) / "customers" / "latest.json"
    return [c["customer_id"] for c in json.loads(path.read_text())["items"]] if path.exists() else []


async def test_a_merge_re_keys_the_cache_and_an_undo_restores_it(system: System) -> None:
    auth = await staff_token(system)
    async with httpx.AsyncClient(base_url=system.stack.url("gateway"), headers=auth) as http:
        survivor = (
            await http.post("/api/v1/customers", json={"channel": "WALKIN", "name_th": "ดารา ดีใจ"})
        ).json()
        line = {"channel": "line", "external_id": "U-merge-e2e"}
        merged = (
            await http.post(
                "/api/v1/customers",
                json={"channel": "LINE", "name_latin": "Dara", "phone": "0822222222", "identities": [line]},
            )
        ).json()
        s_id, m_id = survivor["customer_id"], merged["customer_id"]

        async def both_cached() -> bool:
            return cached(system, s_id) is not None and cached(system, m_id) is not None

        await eventually(both_cached, timeout=30)

        response = await http.post(f"/api/v1/customers/{s_id}/merge", json={"merged_id": m_id})
        assert response.status_code == 200, response.text
        merge_id = response.json()["merge_id"]

        async def re_keyed() -> dict[str, Any] | None:
            snapshot = cached(system, s_id)
            # The newest-customers list is written after the snapshots: wait for both.
            gone = cached(system, m_id) is None and m_id not in latest_ids(system)
            if gone and snapshot and snapshot["identities"]:
                return snapshot
            return None

        snapshot = await eventually(re_keyed, timeout=30)
        assert [i["external_id"] for i in snapshot["identities"]] == ["U-merge-e2e"]
        assert snapshot["phone"] == "+66822222222"  # filled from the merged customer
        assert m_id not in latest_ids(system)
        served = await http.get(f"/api/v1/customers/{s_id}")
        assert served.headers["x-served-from"] == "cache"
        assert served.json()["identities"] == snapshot["identities"]
        gone = await http.get(f"/api/v1/customers/{m_id}")
        assert gone.status_code == 404
        assert s_id in gone.json()["detail"]
        found = await http.get("/api/v1/customers", params={"psid": "U-merge-e2e"})
        assert [c["customer_id"] for c in found.json()["items"]] == [s_id]

        undone = await http.post(f"/api/v1/audit/{merge_id}/undo")
        assert undone.status_code == 200, undone.text

        async def restored() -> dict[str, Any] | None:
            back, survivor_now = cached(system, m_id), cached(system, s_id)
            if back and back["identities"] and survivor_now and not survivor_now["identities"]:
                return back
            return None

        back = await eventually(restored, timeout=30)
        assert back["phone"] == "+66822222222"
        assert cached(system, s_id)["phone"] is None  # type: ignore[index]
        assert (await http.get(f"/api/v1/customers/{m_id}")).status_code == 200
