"""`python -m crm_ai.knowledge ingest <folder> [--wait]`: load a folder of documents into the
knowledge base through the same rules as the upload API (`service.upload`), in the database of
DATABASE_URL. Each file is a document named by its path inside the folder: a file whose bytes
are known already changes nothing, a changed file becomes a new version. Without `--wait` the
running service indexes what was queued; with it, this process indexes it (the same worker code)
and reports what failed and why. Progress bars go to the terminal; the summary is printed last.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tqdm import tqdm

from crm_ai.config import AiSettings
from crm_ai.knowledge import service
from crm_ai.knowledge.embeddings import create_embedder
from crm_ai.knowledge.indexing import IndexingWorker
from crm_servicekit.db import create_engine, create_sessionmaker


@dataclass
class Summary:
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    queued: dict[uuid.UUID, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        counts = (
            f"new: {len(self.new)}, changed: {len(self.changed)}, "
            f"unchanged: {len(self.unchanged)}, failed: {len(self.failed)}"
        )
        return [counts, *(f"  failed {name}: {reason}" for name, reason in sorted(self.failed.items()))]


def files_of(folder: Path) -> list[Path]:
    """Every file under `folder`, hidden ones (and those in hidden folders) aside, in a stable order."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


async def ingest(folder: Path, settings: AiSettings, *, wait: bool) -> Summary:
    engine = create_engine(settings.async_database_url, pool_size=2, application_name="crm-ai-ingest")
    sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    summary = Summary()
    try:
        for path in tqdm(files_of(folder), desc="files", unit="file"):
            name = path.relative_to(folder).as_posix()
            try:
                media_type = service.media_type_of(path.name)
            except service.UnsupportedType as exc:
                summary.failed[name] = str(exc)
                continue
            upload = service.Upload(
                content=path.read_bytes(), filename=path.name, media_type=media_type, source_name=name
            )
            async with sessionmaker() as session:
                uploaded = await service.upload(session, upload)
                await session.commit()
            if uploaded.outcome is service.Outcome.UNCHANGED:
                summary.unchanged.append(name)
                await _note_failure(sessionmaker, uploaded.document_id, name, summary)
                continue
            (summary.new if uploaded.outcome is service.Outcome.CREATED else summary.changed).append(name)
            summary.queued[uploaded.document_id] = name
        if wait and summary.queued:
            await index_queued(sessionmaker, settings, summary)
    finally:
        await engine.dispose()
    return summary


async def index_queued(
    sessionmaker: async_sessionmaker[AsyncSession], settings: AiSettings, summary: Summary
) -> None:
    """Index what is queued here, then note which of this run's documents failed and why."""
    worker = IndexingWorker(sessionmaker, create_embedder(settings), settings)
    async with sessionmaker() as session:
        waiting = sum(1 for d in await service.list_documents(session) if d.status in {"queued", "indexing"})
    with tqdm(total=waiting, desc="indexing", unit="doc") as bar:
        while await worker.run_once():
            bar.update(1)
    for document_id, name in summary.queued.items():
        await _note_failure(sessionmaker, document_id, name, summary)


async def _note_failure(
    sessionmaker: async_sessionmaker[AsyncSession], document_id: uuid.UUID, name: str, summary: Summary
) -> None:
    """A document that failed to index is reported, on this run and on every one after it."""
    async with sessionmaker() as session:
        row = await service.get(session, document_id)
    if row is not None and row.status == "failed":
        summary.failed[name] = row.failure_reason or "failed"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_ai.knowledge")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest_cmd = commands.add_parser("ingest", help="add or update every document in a folder")
    ingest_cmd.add_argument("folder", type=Path)
    ingest_cmd.add_argument("--wait", action="store_true", help="index here and report failures")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"not a folder: {args.folder}")
    summary = asyncio.run(ingest(args.folder, AiSettings(), wait=args.wait))
    print("\n".join(summary.lines()))
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
