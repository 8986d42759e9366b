"""`python -m bench gateway` at a tiny size: it loads a CRM, starts the gateway and the bare
baseline, measures every scenario in both passes and prints the table. Timings are printed, never
asserted: a shared machine makes them vary."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from crm_gateway.customers.contact_points import normalise_phone
from crm_gateway.customers.ids import format_customer_id, is_customer_id

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [
    "search: Thai name part",
    "search: phone, local form",
    "search: tag + stage",
    "customer: GET /customers/{id}",
    "customer 360: /overview",
    "list: limit=50, 3 pages deep",
    "order: POST /orders",
]
# The 360 reads the database in any case, so it is measured once.
CACHED = [SCENARIOS[3], SCENARIOS[5]]


@pytest.fixture
def crm_data(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    return importlib.import_module("bench.crm_data")


def test_generated_customers_look_like_the_schools(crm_data: ModuleType) -> None:
    tables, terms = crm_data.Generator(300, 4, seed=3).generate()
    customers = tables.rows["customers"]
    assert len(customers) == 300
    assert len(tables.rows["orders"]) == 1200
    assert all(is_customer_id(c[0]) for c in customers)
    # Every phone number searched for is one the gateway reads, and stored as the gateway stores it.
    stored_phones = {c[13] for c in customers}
    assert {normalise_phone(p) for p in terms.local_phones} <= stored_phones
    assert all(any("\u0e00" <= ch <= "\u0e7f" for ch in name) for name in terms.thai_names)
    assert any(c[11] and c[11].isascii() for c in customers), "romanised names too"
    # The id counters continue after the loaded customers of each channel and year.
    ids = {c[0] for c in customers}
    counters = tables.rows["customer_id_sequences"]
    assert sum(n for _, _, n in counters) == 300
    for channel, year, last in counters:
        assert format_customer_id(channel, year, last) in ids
        assert format_customer_id(channel, year, last + 1) not in ids


@pytest.mark.parametrize("text", ["", "0", "4,x", "65"])
def test_a_concurrency_out_of_range_stops_the_benchmark_saying_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    options = importlib.import_module("bench.gateway_options")
    assert options.concurrency_levels("16,1,4,4", most=64) == [1, 4, 16]
    with pytest.raises(SystemExit, match=r"--concurrency: comma-separated values in \[1, 64\]"):
        options.concurrency_levels(text, most=64)


@pytest.mark.timeout(900)
def test_gateway_benchmark_runs_every_scenario_next_to_the_bare_baseline(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bench", "gateway", "--customers", "500", "--orders", "1000",
               "--seconds", "0.5", "--warmup", "0.1", "--concurrency", "2", "--pages", "3",
               "--results-dir", str(tmp_path)]  # fmt: skip
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=840, check=False)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "'customers': 500" in out
    assert "'orders': 1000" in out
    assert "2 uvicorn workers" in out
    assert "2 concurrent clients" in out
    doc = json.loads(next(tmp_path.glob("gateway-*.json")).read_text())
    rows = doc["rows"]
    # Where the gateway's time goes per scenario, from a profile taken after the measured passes.
    where = doc["setup"]["where"]
    assert set(where) == set(SCENARIOS)
    for scenario, shares in where.items():
        assert isinstance(shares, list), f"{scenario}: {shares}"
        assert shares, scenario
    assert any(name in {"SQLAlchemy", "asyncpg"} for _, name in where["order: POST /orders"])
    measured = {(r["scenario"], r["server"], r["cache"]) for r in rows if r["ok"] > 0 and r["failed"] == 0}
    for scenario in SCENARIOS:
        assert (scenario, "gateway", "empty") in measured, scenario
        assert (scenario, "bare", "empty") in measured, scenario
    for scenario in CACHED:
        assert (scenario, "gateway", "warm") in measured, scenario
    assert ("customer 360: /overview", "gateway", "warm") not in measured
    served = {(r["scenario"], r["cache"]): r["served_from"] for r in rows if r["server"] == "gateway"}
    assert served[("customer: GET /customers/{id}", "empty")] == "database 100%"
    assert served[("customer: GET /customers/{id}", "warm")] == "cache 100%"
    for target in ("search, cache empty, 2 clients", "customer 360, cache warm, 2 clients"):
        assert any(line.startswith(target) and "target < 20 ms" in line for line in out.splitlines())
    assert "orders created:" in out
