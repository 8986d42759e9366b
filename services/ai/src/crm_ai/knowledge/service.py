"""The knowledge base's rules for what staff do with documents.

An upload is identified by its bytes (sha256): the same bytes again are the same document and
nothing is indexed again. New bytes under a source name already known are a new version of that
document: it is queued, and its old chunks keep answering until the indexing worker
(`indexing.py`) swaps in the new ones in one transaction. Deleting a document removes it and its
chunks at once. Reindexing queues documents again (the old chunks serve until the swap), which is
also what happens to every document when the configured embedder is not the one that made its
chunks. Every change a reply must see bumps `knowledge_state.generation` in its own transaction,
which is how each replica's in-memory index knows to reload. Nothing here commits: the caller does.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_ai.knowledge import parsing
from crm_ai.knowledge import repository as repo


class Outcome(StrEnum):
    CREATED = "created"  # a document it had not seen
    CHANGED = "changed"  # a new version of a document it had (queued for indexing)
    UNCHANGED = "unchanged"  # the same bytes again: nothing to do


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str
    media_type: str
    title: str | None = None
    language: str | None = None
    # Defaults to the file name; the CLI uses the path inside the ingested folder.
    source_name: str | None = None

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Uploaded:
    document_id: uuid.UUID
    outcome: Outcome


# A file the parser cannot read: its message names the types it can (the 415 answer).
UnsupportedType = parsing.UnsupportedType


def media_type_of(filename: str, declared: str | None = None) -> str:
    """The media type the parser will read the file as (from its extension, else as declared)."""
    return parsing.media_type_of(filename, declared)


def default_title(source_name: str) -> str:
    """A document's title until its parser finds a better one (or staff give one)."""
    return PurePosixPath(source_name).stem or source_name


async def upload(session: AsyncSession, upload: Upload) -> Uploaded:
    """Store an upload: a new version of the document of that source name (nothing new when its
    bytes are the same), else the document these bytes already are, else a new document."""
    source_name = upload.source_name or upload.filename
    known = await repo.lock_by_source_name(session, source_name)
    if known is not None:
        return await _replace(session, known, upload)
    same = await repo.by_checksum(session, upload.checksum)
    if same is not None:  # these bytes under another name: that document
        return Uploaded(same, Outcome.UNCHANGED)
    document_id = uuid.uuid4()
    created = await repo.insert_document(
        session,
        {
            "id": document_id,
            "source_name": source_name,
            "title": upload.title or default_title(source_name),
            "language": upload.language,
            "media_type": upload.media_type,
            "checksum": upload.checksum,
            "size_bytes": len(upload.content),
            "status": "queued",
        },
    )
    if created is not None:
        await repo.put_file(session, created, upload.content)
        return Uploaded(created, Outcome.CREATED)
    # A concurrent upload created it meanwhile: this one is a version of it.
    row = await repo.lock_by_source_name(session, source_name)
    assert row is not None, "a conflicting source name is never deleted under its row lock"
    return await _replace(session, row, upload)


async def replace(session: AsyncSession, document_id: uuid.UUID, upload: Upload) -> Uploaded | None:
    """New bytes for a given document (None: no such document)."""
    row = await repo.lock(session, document_id)
    if row is None:
        return None
    return await _replace(session, row, upload)


async def _replace(session: AsyncSession, row: Any, upload: Upload) -> Uploaded:
    checksum = upload.checksum
    if row.checksum == checksum:
        return Uploaded(row.id, Outcome.UNCHANGED)
    values: dict[str, Any] = {
        "media_type": upload.media_type,
        "checksum": checksum,
        "size_bytes": len(upload.content),
    }
    if upload.title:
        values["title"] = upload.title
    if upload.language:
        values["language"] = upload.language
    await repo.new_version(session, row.id, values)
    await repo.put_file(session, row.id, upload.content)
    return Uploaded(row.id, Outcome.CHANGED)


async def delete(session: AsyncSession, document_id: uuid.UUID) -> bool:
    """Remove a document and its chunks: gone from search as soon as this commits."""
    if not await repo.delete_document(session, document_id):
        return False
    await repo.bump_generation(session)
    return True


async def reindex(session: AsyncSession, document_id: uuid.UUID | None = None) -> int:
    """Queue one document (or every one) for indexing again; how many were queued."""
    return await repo.queue(session, document_id)


async def reindex_for(session: AsyncSession, embedder: str) -> int:
    """Queue the documents whose chunks another embedder made (e.g. after AI_EMBEDDINGS changed)."""
    return await repo.queue_other_embedders(session, embedder)


async def generation(session: AsyncSession) -> int:
    return await repo.generation(session)


async def get(session: AsyncSession, document_id: uuid.UUID) -> Any:
    return await repo.get(session, document_id)


async def list_documents(session: AsyncSession) -> Any:
    return await repo.list_all(session)


async def chunks_of(session: AsyncSession, document_id: uuid.UUID) -> Any:
    return await repo.chunks_of(session, document_id)
