"""The indexing worker: turns queued documents into chunks a reply can quote.

Each replica runs one, started with the app and woken when a document is queued here (other
replicas find it by polling). A run claims the oldest queued document with FOR UPDATE SKIP LOCKED
(so replicas share the work) and a fresh claim id with a deadline (so a replica that dies mid-run
loses it, and a new upload or reindex of the same document makes the run's work moot). It parses,
chunks and segments the file, embeds the chunks in batches while `chunks_done` moves, and then, in
ONE transaction, deletes the old chunks, inserts the new ones, marks the document ready and bumps
the knowledge generation: a reply sees the old version or the new one, never half of each. An
unreadable file ends the run as `failed` with its reason and nothing of it served.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import PurePosixPath
from typing import Any

import numpy as np
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_ai.config import AiSettings
from crm_ai.knowledge import chunking, parsing, segment
from crm_ai.knowledge import repository as repo
from crm_ai.knowledge.embeddings import Embedder, EmbeddingUnavailable
from crm_ai.knowledge.service import default_title, reindex_for
from crm_servicekit.logging import get_logger

log = get_logger(__name__)


class _ClaimLost(Exception):
    """The document was changed, deleted or requeued during the run: its result is moot."""


def _parse_name(claimed: Any) -> str:
    """The name the parser reads the file under: a replaced file may be of another type than the
    source name's extension says (`menu.md` replaced by a PDF), and the extension decides."""
    name = str(claimed.source_name)
    try:
        if parsing.media_type_of(name) == claimed.media_type:
            return name
    except parsing.UnsupportedType:
        pass
    return PurePosixPath(name).stem + parsing.SUPPORTED[claimed.media_type][1][0]


def passage_text(heading_path: tuple[str, ...], text: str) -> str:
    """What is embedded and segmented for a chunk: its headings give a bare paragraph its topic."""
    headings = [h for h in heading_path if h and h not in text]
    return "\n".join([*headings, text])


class IndexingWorker:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], embedder: Embedder, settings: AiSettings
    ) -> None:
        self.sessionmaker = sessionmaker
        self.embedder = embedder
        self.settings = settings
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look for queued documents now (call after the commit that queued one)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="knowledge-indexing")

    async def queue_other_embedders(self) -> None:
        """Chunks another embedder made are re-embedded; they keep serving until the swap."""
        async with self.sessionmaker() as session:
            if queued := await reindex_for(session, self.embedder.name):
                log.info("documents queued for the configured embedder", count=queued)
            await session.commit()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        embedders_checked = False
        while True:
            self._wake.clear()
            try:
                if not embedders_checked:
                    await self.queue_other_embedders()
                    embedders_checked = True
                while await self.run_once():
                    pass
            except Exception as exc:  # the database went away: try again at the next poll
                log.warning("indexing failed; will try again", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.knowledge_poll_seconds)

    async def drain(self) -> int:
        """Index queued documents until none is left; how many runs (the CLI's --wait, tests)."""
        runs = 0
        while await self.run_once():
            runs += 1
        return runs

    async def run_once(self) -> bool:
        """Claim and index one queued document; False when none is waiting."""
        async with self.sessionmaker() as session:
            claimed = await repo.claim_next(session, self.settings.knowledge_claim_seconds)
            content = await repo.file_of(session, claimed.id) if claimed else None
            await session.commit()
        if claimed is None:
            return False
        try:
            await self._index(claimed, content or b"")
        except _ClaimLost:
            log.info("indexing run superseded", document_id=str(claimed.id))
        except EmbeddingUnavailable:
            # The provider is down after its retries: the claim lapses and any replica tries
            # again then; no point claiming the next document now.
            log.warning("embedder unavailable; indexing paused", document_id=str(claimed.id))
            return False
        except asyncio.CancelledError:
            await asyncio.shield(self._release(claimed))
            raise
        except Exception as exc:
            log.warning("indexing failed", document_id=str(claimed.id), error=type(exc).__name__)
            await self._fail(claimed, f"indexing error ({type(exc).__name__})")
        return True

    async def _index(self, claimed: Any, content: bytes) -> None:
        try:
            parsed = await asyncio.to_thread(parsing.parse, content, _parse_name(claimed), claimed.media_type)
            drafts = await asyncio.to_thread(chunking.chunk, parsed)
        except parsing.UnreadableDocument as exc:
            await self._fail(claimed, exc.reason)
            return
        if not drafts:
            await self._fail(claimed, "no text found in the document")
            return
        texts = [passage_text(tuple(d.heading_path), d.text) for d in drafts]
        tokens = await asyncio.to_thread(lambda: [" ".join(segment.tokens(t)) for t in texts])
        total, batch = len(drafts), max(1, self.settings.knowledge_embed_batch)
        await self._progress(claimed, 0, total)
        vectors: list[np.ndarray] = []
        for start in range(0, total, batch):
            vectors.append(await self.embedder.documents(texts[start : start + batch]))
            await self._progress(claimed, min(start + batch, total), total)
        embeddings = np.ascontiguousarray(np.concatenate(vectors), dtype=np.float32)
        rows = [
            {
                "id": uuid.uuid4(),
                "document_id": claimed.id,
                "version": claimed.version,
                "ordinal": draft.ordinal,
                "heading_path": list(draft.heading_path),
                "text": draft.text,
                "tokens": tokens[i],
                "embedding": embeddings[i].tobytes(),
                "embedder": self.embedder.name,
            }
            for i, draft in enumerate(drafts)
        ]
        await self._swap(claimed, rows, parsed)

    async def _progress(self, claimed: Any, done: int, total: int) -> None:
        async with self.sessionmaker() as session:
            held = await repo.progress(
                session,
                claimed.id,
                claimed.claim_id,
                done=done,
                total=total,
                lease_seconds=self.settings.knowledge_claim_seconds,
            )
            await session.commit()
        if not held:
            raise _ClaimLost

    async def _swap(self, claimed: Any, rows: list[dict[str, Any]], parsed: parsing.ParsedDocument) -> None:
        """Old chunks out, new chunks in, ready, generation bumped: one transaction."""
        async with self.sessionmaker() as session:
            current = await repo.lock_claimed(session, claimed.id, claimed.claim_id)
            if current is None:
                raise _ClaimLost
            await repo.drop_chunks(session, claimed.id)
            await repo.add_chunks(session, rows)
            values: dict[str, Any] = {
                "status": "ready",
                "chunks_total": len(rows),
                "chunks_done": len(rows),
                "failure_reason": None,
                "embedder": self.embedder.name,
                "indexed_at": func.now(),
                "chunks_generation": await repo.bump_generation(session),
            }
            # A title or language staff did not give comes from the document itself.
            if parsed.title and current.title == default_title(current.source_name):
                values["title"] = parsed.title
            if parsed.language and not current.language:
                values["language"] = parsed.language
            await repo.finish(session, claimed.id, values)
            await session.commit()
        log.info("document indexed", document_id=str(claimed.id), chunks=len(rows))

    async def _fail(self, claimed: Any, reason: str) -> None:
        """Failed with its reason; whatever it served before is withdrawn with it."""
        async with self.sessionmaker() as session:
            if await repo.lock_claimed(session, claimed.id, claimed.claim_id) is None:
                return
            values: dict[str, Any] = {
                "status": "failed",
                "failure_reason": reason[:500],
                "chunks_total": 0,
                "chunks_done": 0,
                "embedder": None,
            }
            if await repo.drop_chunks(session, claimed.id):
                values["chunks_generation"] = await repo.bump_generation(session)
            await repo.finish(session, claimed.id, values)
            await session.commit()
        log.info("document failed to index", document_id=str(claimed.id))

    async def _release(self, claimed: Any) -> None:
        """Shutting down mid-run: the document goes back to the queue for any replica."""
        with contextlib.suppress(Exception):
            async with self.sessionmaker() as session:
                if await repo.lock_claimed(session, claimed.id, claimed.claim_id) is not None:
                    await repo.finish(session, claimed.id, {"status": "queued"})
                await session.commit()
