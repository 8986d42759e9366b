"""`python -m crm_ai.knowledge ingest <folder> --wait`, run as staff would run it: a folder goes
in, each file once; running it again on the same folder changes nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crm_ai.config import AiSettings
from crm_ai.knowledge import __main__ as cli
from crm_ai.knowledge import service
from crm_servicekit.db import create_engine, create_sessionmaker

from .documents import COURSES_MD, FAQ_JSON

pytestmark = pytest.mark.integration


def ingest(folder: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "crm_ai.knowledge", "ingest", str(folder), "--wait"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603


async def documents(database_url: str) -> list[tuple[str, str, int, object]]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await service.list_documents(session)
            generation = await service.generation(session)
        return [(r.source_name, r.status, r.version, (r.indexed_at, generation)) for r in rows]
    finally:
        await engine.dispose()


async def test_a_folder_is_ingested_once_and_again_is_a_no_op(kb_database_url: str, tmp_path: Path) -> None:
    (tmp_path / "courses").mkdir()
    (tmp_path / "courses" / "japanese.md").write_bytes(COURSES_MD)
    (tmp_path / "faq.json").write_bytes(FAQ_JSON)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / "menu.docx").write_bytes(b"PK\x03\x04")

    first = await asyncio.to_thread(ingest, tmp_path, kb_database_url)

    assert "new: 3, changed: 0, unchanged: 0, failed: 2" in first.stdout, first.stdout + first.stderr
    assert "failed broken.pdf: the PDF is damaged" in first.stdout
    assert "failed menu.docx: unsupported file type" in first.stdout
    assert "indexing" in first.stderr  # the progress bars
    stored = await documents(kb_database_url)
    assert [(name, status) for name, status, _, _ in stored] == [
        ("broken.pdf", "failed"),
        ("courses/japanese.md", "ready"),
        ("faq.json", "ready"),
    ]

    # Again, and after a change: the same code in this process (a new interpreter costs seconds).
    settings = AiSettings(database_url=kb_database_url)
    second = await cli.ingest(tmp_path, settings, wait=True)

    assert (len(second.new), len(second.changed), len(second.unchanged), len(second.failed)) == (0, 0, 3, 2)
    assert await documents(kb_database_url) == stored  # same versions, same indexing, same generation

    (tmp_path / "faq.json").write_bytes(FAQ_JSON.replace(b"30%", b"50%"))
    third = await cli.ingest(tmp_path, settings, wait=True)
    assert (second.changed, third.changed, len(third.unchanged)) == ([], ["faq.json"], 2)
    assert ("faq.json", "ready", 2) in [(n, s, v) for n, s, v, _ in await documents(kb_database_url)]
