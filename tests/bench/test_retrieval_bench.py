"""`bench retrieval` runs and prints each stage beside the raw numpy baseline (a small index: the
figures are the bench's business, not a test's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_retrieval_bench_prints_every_stage_next_to_the_raw_cosine() -> None:
    command = [sys.executable, "-m", "bench", "retrieval", "--chunks", "600", "--queries", "40"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)

    # It exits 1 when a target is missed: a run this small says nothing of the targets, and tests
    # never assert timings; anything else (a crash) fails.
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    out = run.stdout
    assert "600 chunks (62 from the sample knowledge base + 538 synthetic)" in out
    for stage in ("query embedding", "hybrid search", "retrieval total", "raw numpy cosine top-5", "guards"):
        assert any(
            line.startswith(stage) and line.split()[-1].replace(".", "").isdigit()
            for line in out.splitlines()
        ), stage
    assert "target <= 20 ms" in out
    assert "recall@5 of the eval questions among 600 chunks" in out
