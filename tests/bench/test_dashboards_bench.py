"""`python -m bench dashboards` at a tiny size: it loads the read model, renders every file, sends a
burst through a running cache-writer, and measures every read next to the bare endpoint. Timings
are printed, never asserted; the bench itself checks the year's figures the gateway answered
against the generated data and exits 1 when they differ."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
READS = [
    "summary: summary.json",
    "summary: range, 30 days",
    "summary: range, 365 days",
    "campaigns: 30 days",
    "campaigns: 365 days",
]


@pytest.mark.timeout(900)
def test_dashboards_benchmark_renders_bursts_and_reads_next_to_the_bare_endpoint(tmp_path: Path) -> None:
    days = 35
    command = [sys.executable, "-m", "bench", "dashboards", "--customers", "300", "--orders", "1200",
               "--ads", "20", "--days", str(days), "--burst", "1000", "--render-seconds", "0.5",
               "--seconds", "0.3", "--warmup", "0.1", "--concurrency", "1",
               "--results-dir", str(tmp_path)]  # fmt: skip
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=840, check=False)

    # 1 would mean a failed request, a burst that never reached today's file, or wrong figures.
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "are the generated data's" in out
    doc = json.loads(next(tmp_path.glob("dashboards-*.json")).read_text())
    assert doc["setup"]["rows"]["ad_hours"] == 20 * days * 24
    assert doc["setup"]["rows"]["orders"] == 1200
    # Every day's file, at least two months', the summary and the structure.
    assert doc["render"]["files_written"] >= days + 2 + 2
    assert doc["burst"]["facts"] == 1000
    assert doc["burst"]["shown_s"] is not None
    assert doc["burst"]["daily_file_writes"] >= 1
    measured = {(r["scenario"], r["server"]) for r in doc["rows"] if r["ok"] > 0 and r["failed"] == 0}
    for read in READS:
        assert (read, "gateway") in measured, read
        assert (read, "bare") in measured, read
        assert any(
            v.startswith(f"{read}, 1 client: ") and "x bare" in v and "(<= 5 ms)" in v
            for v in doc["verdicts"]
        )
    # Where the gateway's time goes per read, from a profile taken after the measured ones.
    assert set(doc["where"]) == set(READS)
    for read, shares in doc["where"].items():
        assert isinstance(shares, list), f"{read}: {shares}"
        assert shares, read
