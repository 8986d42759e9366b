"""`/api/v1/dashboards/integrity` and `/reconciliation`, as staff use them: the cache-writer's
files are written into the test's cache directory with the contract's models, then read through
the API (files only)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from crm_contracts.analytics_checks import (
    INTEGRITY_PATH,
    CampaignReconciliation,
    Difference,
    IntegrityCheck,
    IntegritySnapshot,
    ReconciliationSnapshot,
    reconciliation_path,
)
from crm_gateway.dashboards.snapshots import SnapshotStore

pytestmark = pytest.mark.integration

BASE = "/api/v1/dashboards"
D = Decimal
GENERATED = datetime(2026, 11, 12, 1, 0, tzinfo=UTC)


def write(root: Path, relative: str, model: BaseModel) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model.model_dump_json())


@pytest.fixture(autouse=True)
async def no_analytics(cache_dir: Path, app: FastAPI) -> None:
    await asyncio.to_thread(shutil.rmtree, cache_dir / "analytics", True)
    store: SnapshotStore = app.state.dashboard_snapshots
    store.clear()


async def get(client: httpx.AsyncClient, auth: dict[str, str], route: str, **params: str) -> dict[str, Any]:
    response = await client.get(BASE + route, params=params, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_integrity_serves_the_checks_file(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    before = await get(client, auth, "/integrity")
    assert (before["checks"], before["generated_at"], before["stale"]) == ([], None, True)

    check = IntegrityCheck(
        name="refunds_exceed_payments",
        severity="error",
        description="Orders refunded more than was paid.",
        count=1,
        examples=["0b5e6c1e-6d7b-4d43-9a53-5d0f9e0f1a11"],
    )
    snapshot = IntegritySnapshot(
        generated_at=GENERATED, last_event_at=GENERATED - timedelta(hours=1), checks=[check]
    )
    write(cache_dir, INTEGRITY_PATH, snapshot)
    body = await get(client, auth, "/integrity")
    assert body["checks"] == [check.model_dump(mode="json")]
    assert (body["generated_at"], body["last_event_at"]) == ("2026-11-12T01:00:00Z", "2026-11-12T00:00:00Z")
    assert body["age_seconds"] >= 0
    assert body["problems"] == []

    (cache_dir / INTEGRITY_PATH).write_text('{"checks": "not a list"}')
    broken = await get(client, auth, "/integrity")
    assert broken["checks"] == []
    assert {"file": INTEGRITY_PATH, "problem": "invalid"} in broken["problems"]


def difference(meta: str, crm: str, **causes: str) -> Difference:
    d = Difference(meta=D(meta), crm=D(crm))
    for name, amount in causes.items():
        d.cause(name, D(amount))  # type: ignore[arg-type]
    return d


def c1(value: Difference, purchases: Difference) -> CampaignReconciliation:
    return CampaignReconciliation(
        campaign_id="C1",
        campaign_name="Campaign C1",
        meta_conversations_started=5,
        leads=difference("1", "1"),
        purchases=purchases,
        purchase_value=value,
    )


async def test_reconciliation_adds_up_days_and_keeps_the_unexplained(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    # 10 Nov: Meta 3,100.00, the CRM 600.00: late payments 2,000, refunds 400, 100 unexplained.
    # 11 Nov: the late 2,000 arrives. The walk-in's 500 is in `none`.
    first = ReconciliationSnapshot(
        day=date(2026, 11, 10),
        generated_at=GENERATED,
        last_event_at=GENERATED,
        campaigns={
            "C1": c1(
                difference("3100.00", "600.00", late_payments="2000.00", refunds="400.00"),
                difference("1", "0", late_payments="1"),
            ),
            "none": CampaignReconciliation(
                campaign_id="none",
                purchases=difference("0", "1", customers_meta_cannot_see="-1"),
                purchase_value=difference("0", "500.00", customers_meta_cannot_see="-500.00"),
            ),
        },
    )
    second = ReconciliationSnapshot(
        day=date(2026, 11, 11),
        generated_at=GENERATED,
        last_event_at=GENERATED,
        campaigns={
            "C1": CampaignReconciliation(
                campaign_id="C1",
                purchases=difference("0", "1", late_payments="-1"),
                purchase_value=difference("0", "2000.00", late_payments="-2000.00"),
            )
        },
    )
    write(cache_dir, reconciliation_path(first.day), first)
    write(cache_dir, reconciliation_path(second.day), second)

    body = await get(client, auth, "/reconciliation", since="2026-11-09", until="2026-11-11")
    assert [d["day"] for d in body["days"]] == ["2026-11-10", "2026-11-11"]
    assert (body["meta_attribution_setting"], body["account_timezone"]) == ("not reported", "Asia/Bangkok")
    assert body["crm_attribution"] == "last_7d"
    totals = {t["campaign_id"]: t for t in body["totals"]}
    value = totals["C1"]["purchase_value"]
    assert (value["meta"], value["crm"], value["difference"], value["unexplained"]) == (
        "3100.00",
        "2600.00",
        "500.00",
        "100.00",
    )
    assert value["causes"]["late_payments"] == "0.00"  # paid the next day: inside the range
    assert value["causes"]["refunds"] == "400.00"
    assert totals["none"]["purchase_value"]["causes"]["customers_meta_cannot_see"] == "-500.00"
    assert body["total"]["purchase_value"]["crm"] == "3100.00"

    only = await get(client, auth, "/reconciliation", since="2026-11-10", until="2026-11-10", campaign="C1")
    assert [t["campaign_id"] for t in only["totals"]] == ["C1"]
    late = only["totals"][0]["purchase_value"]["causes"]["late_payments"]
    assert late == "2000.00"  # the rest of the money came after the period

    refused = await client.get(
        BASE + "/reconciliation", params={"since": "2026-11-12", "until": "2026-11-10"}, headers=auth
    )
    assert refused.status_code == 422
