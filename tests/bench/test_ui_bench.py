"""`python -m bench ui` at a tiny size: it loads a CRM and the messenger's conversations, starts the
system as processes and the bare baseline, drives Debian's chromium through sign-in, the inbox, a
customer 360 and the dashboards, posts webhooks into an open inbox and prints the table. Timings are
printed, never asserted: a shared machine makes them vary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO_ROOT = Path(__file__).resolve().parents[2]
ROWS = [
    "js_first_screen",
    "js_total",
    "tti_inbox_p50",
    "tti_inbox_p95",
    "tti_360_p50",
    "tti_360_p95",
    "visible_thread_p50",
    "visible_thread_p95",
    "visible_thread_max",
    "visible_new_row_p50",
    "visible_new_row_p95",
    "visible_new_row_max",
]
FIELDS = {"key", "metric", "unit", "ours", "baseline", "baseline_label", "ratio", "target", "met", "samples"}


@pytest.mark.timeout(900)
def test_ui_benchmark_measures_every_row_next_to_its_baseline(tmp_path: Path) -> None:
    if not (REPO_ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail(
            "the staff web app is not built: `make web` (or `cd web && npm run build`)", pytrace=False
        )
    command = [sys.executable, "-m", "bench", "ui", "--customers", "300", "--conversations", "40",
               "--runs", "2", "--messages", "4", "--new-customers", "2", "--pace", "0.2",
               "--results-dir", str(tmp_path)]  # fmt: skip
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=840, check=False)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "'customers': 300" in out
    assert "'conversations': 40" in out
    assert "2 page loads per TTI" in out
    assert "4 + 2 webhooks" in out
    assert "NOT MEASURED" not in out
    doc = json.loads(next(tmp_path.glob("ui-*.json")).read_text())
    assert doc["benchmark"] == "ui"
    assert doc["target"] == {"first_screen_js_kb": 300.0, "visible_p95_ms": 500.0}
    assert doc["setup"]["webhook_statuses"] == {"200": 6}
    assert doc["setup"]["spans_exported"] > 0, "the services trace as they normally do"
    rows = {r["key"]: r for r in doc["rows"]}
    assert list(rows) == ROWS
    for key, row in rows.items():
        assert set(row) >= FIELDS, key
        assert row["ours"] is not None, key
        assert row["ours"] > 0, key
        assert row["baseline"] is not None, key
        assert row["baseline"] > 0, key
        assert row["samples"] > 0, key
        assert row["baseline_samples"] > 0, key
        assert row["metric"] in out, key
    for key in ("js_first_screen", "visible_thread_p95", "visible_new_row_p95"):
        assert rows[key]["met"] in (True, False), key
    assert doc["samples"]["js_screens_opened"] == ["inbox", "customer 360", "dashboards"]
    assert any("echarts" in url for url in doc["samples"]["js_all_files"])
    assert not any("echarts" in url for url in doc["samples"]["js_first_screen_files"])
    assert len(doc["samples"]["tti_ms"]["inbox"]) == 2
    assert len(doc["samples"]["visible_ms"]["thread"]) == 4
