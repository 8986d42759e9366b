"""The school's knowledge base: documents staff upload, chunked, embedded and searched (hybrid)."""

from __future__ import annotations

from pathlib import Path

SAMPLE_DOCUMENTS = Path(__file__).parent / "sample" / "documents"
"""A realistic sample of the school's documents (courses, prices, schedules, policies): what `make
up` and the drills load, and what the evaluation set (`make eval`) is written against."""
