"""`python -m bench --quick`: the benchmarks behind the table of hot paths (issue 16) each run end to
end at a tiny size, and the table shows every row with our figure beside its baseline. Speed is
printed, never asserted: `met` may say yes or NO. The gateway's and the dashboards' benchmarks
have their own runs (test_gateway_bench.py, test_dashboards_bench.py); their rows come from
the same readers.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
QUICK = ["webhook", "reply", "consumer", "insights"]
ROWS = {
    "webhook.cpu", "webhook.p99", "reply.p50", "reply.p99", "reply.cpu", "consumer.per_core",
    "insights.store", "insights.year",
}  # fmt: skip


@pytest.mark.timeout(600)
def test_quick_mode_runs_each_benchmark_and_prints_the_table_beside_the_baselines(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bench", "--quick", *QUICK, "--results-dir", str(tmp_path)]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=560, check=False)

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "the hot paths (issue 16)" in run.stdout
    [table] = tmp_path.glob("table-*.json")
    rows = {r["key"]: r for r in json.loads(table.read_text())["rows"]}
    assert set(rows) == ROWS
    for key, row in rows.items():
        assert isinstance(row["ours"], float), key
        assert row["ours"] > 0, key
        if key != "reply.cpu":  # the stack's CPU has no raw counterpart; the others do
            assert isinstance(row["baseline"], float), key
            assert row["baseline"] > 0, key
        assert row["path"] in run.stdout, key
    # Every new conversation got its AI reply at the Send API fake (the bench exits 1 otherwise).
    reply = json.loads(next(tmp_path.glob("reply-*.json")).read_text())
    assert all(s["replied"] == s["conversations"] > 0 for s in reply["steps"])
    # Where the time goes, from py-spy profiles taken in the same run: each service of the stack
    # and the consumer by library, printed under the row when it misses its target.
    assert set(reply["where"]) == {"gateway", "cache-writer", "marketing", "ai", "messenger"}
    consumer = json.loads(next(tmp_path.glob("consumer-*.json")).read_text())
    webhook = json.loads(next(tmp_path.glob("webhook-*.json")).read_text())
    assert set(webhook["where"]) == {"messenger"}
    insights = json.loads(next(tmp_path.glob("insights-*.json")).read_text())
    assert set(insights["where"]) == {"marketing"}
    profiled = [*reply["where"].items(), *consumer["where"].items(), *webhook["where"].items()]
    for process, shares in [*profiled, *insights["where"].items()]:
        if process != "marketing":  # idle in this bench: it may have no samples at all
            assert isinstance(shares, list), f"{process}: {shares}"
            assert shares, process
            assert sum(share for share, _ in shares) <= 100.5, process  # each rounded to 0.1
    # A tiny run's profile is mostly setup: which library leads varies, but the line names them.
    assert "consumer: " in rows["consumer.per_core"]["where"], rows["consumer.per_core"]["where"]
    for key in ("reply.cpu", "consumer.per_core", "webhook.cpu", "insights.store"):
        if rows[key]["met"] is False:
            assert f"where the time goes (profile): {rows[key]['where']}" in run.stdout, key

    # compare: each row beside an accepted baseline (here: this run, accepted).
    baseline = tmp_path / "baseline.json"
    compare = [
        sys.executable,
        "-m",
        "bench",
        "compare",
        "--results-dir",
        str(tmp_path),
        "--baseline",
        str(baseline),
    ]
    accepted = subprocess.run(
        [*compare, "--accept"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert accepted.returncode == 0, accepted.stderr
    shown = subprocess.run(compare, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("+0%") == len(ROWS), shown.stdout


def test_a_profile_sample_counts_for_the_library_it_was_running_in(tmp_path: Path) -> None:
    # bench/ is run as `python -m bench`, not installed: its profile module is loaded from its file.
    spec = importlib.util.spec_from_file_location("bench_profile", REPO_ROOT / "bench" / "profile.py")
    assert spec is not None
    assert spec.loader is not None
    profile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(profile)
    by_library, where_text = profile.by_library, profile.where_text
    folded = tmp_path / "profile.txt"
    folded.write_text(
        "handler (crm_ai/handlers.py:20);Session.execute (sqlalchemy/orm/session.py:2373) 6\n"
        "handler (crm_ai/handlers.py:20);Session.execute (sqlalchemy/orm/session.py:2373);"
        "loads (json/decoder.py:337) 2\n"  # stdlib under SQLAlchemy counts for SQLAlchemy
        "handler (crm_ai/handlers.py:20);helper (crm_ai/replies/service.py:5) 1\n"
        "Thread.run (threading.py:982);_worker (concurrent/futures/thread.py:81) 50\n"  # waiting
        " 1\n"  # no Python frame at all
    )
    assert by_library(folded) == [(80.0, "SQLAlchemy"), (10.0, "our code"), (10.0, "native code")]
    assert where_text({"ai": by_library(folded), "marketing": "no samples"}) == (
        "ai: SQLAlchemy 80%, our code 10%, native code 10%; marketing: no profile (no samples)"
    )


def test_a_missed_row_says_by_how_much(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    table = importlib.import_module("bench.table")
    cpu = table.Row("webhook.cpu", "webhook CPU", 1.8, 0.3, "ms", "<= 2 x bare", False)
    consumer = table.Row(
        "consumer", "consumer", 500.0, 8000.0, "/s", ">= 2,000/s", False, lower_is_better=False
    )
    year = table.Row("insights.year", "year", 90.0, 20.0, "s", "< 60 s (a year, 200 ads)", False)
    met = table.Row("cached", "cached", 900.0, 1000.0, "/s", ">= 0.7 x bare", True, lower_is_better=False)
    assert (cpu.miss, consumer.miss, year.miss, met.miss) == ("3.0x", "4.0x", "1.5x", "")
    shown = table.render([cpu, met])
    assert "NO by 3.0x" in shown
    assert shown.rstrip().endswith("yes")
