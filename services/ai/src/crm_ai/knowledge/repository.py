"""Every SQL statement of the knowledge base. Nothing here commits: the caller's unit of work
(a request, one step of the indexing worker) does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_ai.knowledge.models import chunks, document_files, documents, knowledge_state

STATE_ID = 1
# What the worker needs of a claimed document.
_CLAIMED = (
    documents.c.id,
    documents.c.version,
    documents.c.source_name,
    documents.c.media_type,
    documents.c.title,
    documents.c.language,
    documents.c.claim_id,
)


async def generation(session: AsyncSession) -> int:
    value = await session.scalar(select(knowledge_state.c.generation).where(knowledge_state.c.id == STATE_ID))
    return int(value or 0)


async def bump_generation(session: AsyncSession) -> int:
    """Move the generation on, in the caller's transaction (so with the change it announces)."""
    statement = (
        insert(knowledge_state)
        .values(id=STATE_ID, generation=1)
        .on_conflict_do_update(
            index_elements=[knowledge_state.c.id], set_={"generation": knowledge_state.c.generation + 1}
        )
        .returning(knowledge_state.c.generation)
    )
    return int((await session.execute(statement)).scalar_one())


async def by_checksum(session: AsyncSession, checksum: str) -> uuid.UUID | None:
    found = await session.scalar(
        select(documents.c.id)
        .where(documents.c.checksum == checksum)
        .order_by(documents.c.created_at)
        .limit(1)
    )
    return found


async def insert_document(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """A new document, or None when its source name exists already (a concurrent upload won)."""
    statement = (
        insert(documents)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[documents.c.source_name])
        .returning(documents.c.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def lock_by_source_name(session: AsyncSession, source_name: str) -> Row[Any] | None:
    statement = (
        select(documents.c.id, documents.c.checksum)
        .where(documents.c.source_name == source_name)
        .with_for_update()
    )
    return (await session.execute(statement)).first()


async def lock(session: AsyncSession, document_id: uuid.UUID) -> Row[Any] | None:
    statement = (
        select(documents.c.id, documents.c.checksum).where(documents.c.id == document_id).with_for_update()
    )
    return (await session.execute(statement)).first()


async def new_version(session: AsyncSession, document_id: uuid.UUID, values: dict[str, Any]) -> None:
    """New bytes for a document: queued again; its chunks keep serving until the swap."""
    await session.execute(
        update(documents)
        .where(documents.c.id == document_id)
        .values(
            **values,
            version=documents.c.version + 1,
            status="queued",
            chunks_total=0,
            chunks_done=0,
            failure_reason=None,
            claim_id=None,
            claimed_until=None,
            updated_at=func.now(),
        )
    )


async def put_file(session: AsyncSession, document_id: uuid.UUID, content: bytes) -> None:
    statement = insert(document_files).values(document_id=document_id, content=content)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[document_files.c.document_id], set_={"content": statement.excluded.content}
        )
    )


async def get(session: AsyncSession, document_id: uuid.UUID) -> Row[Any] | None:
    return (await session.execute(select(documents).where(documents.c.id == document_id))).first()


async def list_all(session: AsyncSession) -> Sequence[Row[Any]]:
    return (await session.execute(select(documents).order_by(documents.c.source_name))).all()


async def chunks_of(session: AsyncSession, document_id: uuid.UUID) -> Sequence[Row[Any]]:
    statement = (
        select(chunks.c.id, chunks.c.ordinal, chunks.c.heading_path, chunks.c.text, chunks.c.version)
        .where(chunks.c.document_id == document_id)
        .order_by(chunks.c.ordinal)
    )
    return (await session.execute(statement)).all()


async def delete_document(session: AsyncSession, document_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(documents).where(documents.c.id == document_id).returning(documents.c.id)
    )
    return result.first() is not None


async def queue(session: AsyncSession, document_id: uuid.UUID | None = None) -> int:
    """Queue one document (or all) for indexing again; a running claim on it is dropped."""
    statement = update(documents).values(
        status="queued", claim_id=None, claimed_until=None, failure_reason=None, updated_at=func.now()
    )
    if document_id is not None:
        statement = statement.where(documents.c.id == document_id)
    result = await session.execute(statement.returning(documents.c.id))
    return len(result.all())


async def queue_other_embedders(session: AsyncSession, embedder: str) -> int:
    """Ready documents whose chunks another embedder made: re-embedded, the old chunks serve meanwhile."""
    result = await session.execute(
        update(documents)
        .where(documents.c.status == "ready", documents.c.embedder.is_distinct_from(embedder))
        .values(status="queued", updated_at=func.now())
        .returning(documents.c.id)
    )
    return len(result.all())


async def claim_next(session: AsyncSession, lease_seconds: float) -> Row[Any] | None:
    """The oldest queued document (or one whose indexing replica went silent), claimed for a fresh
    run. SKIP LOCKED: replicas claiming at the same moment take different documents."""
    candidate = (
        select(documents.c.id)
        .where(
            (documents.c.status == "queued")
            | ((documents.c.status == "indexing") & (documents.c.claimed_until < func.now()))
        )
        .order_by(documents.c.updated_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(documents)
        .where(documents.c.id == candidate)
        .values(
            status="indexing",
            claim_id=uuid.uuid4(),
            claimed_until=func.now() + timedelta(seconds=lease_seconds),
            chunks_total=0,
            chunks_done=0,
            updated_at=func.now(),
        )
        .returning(*_CLAIMED)
    )
    return (await session.execute(statement)).first()


async def file_of(session: AsyncSession, document_id: uuid.UUID) -> bytes | None:
    return await session.scalar(
        select(document_files.c.content).where(document_files.c.document_id == document_id)
    )


async def progress(
    session: AsyncSession,
    document_id: uuid.UUID,
    claim_id: uuid.UUID,
    *,
    done: int,
    total: int,
    lease_seconds: float,
) -> bool:
    """Record n/m and extend the claim; False when the claim was taken (stop the run)."""
    result = await session.execute(
        update(documents)
        .where(documents.c.id == document_id, documents.c.claim_id == claim_id)
        .values(
            chunks_done=done,
            chunks_total=total,
            claimed_until=func.now() + timedelta(seconds=lease_seconds),
            updated_at=func.now(),
        )
        .returning(documents.c.id)
    )
    return result.first() is not None


async def lock_claimed(session: AsyncSession, document_id: uuid.UUID, claim_id: uuid.UUID) -> Row[Any] | None:
    statement = (
        select(documents.c.title, documents.c.language, documents.c.source_name)
        .where(documents.c.id == document_id, documents.c.claim_id == claim_id)
        .with_for_update()
    )
    return (await session.execute(statement)).first()


async def drop_chunks(session: AsyncSession, document_id: uuid.UUID) -> int:
    result = await session.execute(
        delete(chunks).where(chunks.c.document_id == document_id).returning(chunks.c.id)
    )
    return len(result.all())


async def add_chunks(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(chunks), list(rows))


async def finish(session: AsyncSession, document_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(
        update(documents)
        .where(documents.c.id == document_id)
        .values(**values, claim_id=None, claimed_until=None, updated_at=func.now())
    )


# The in-memory index's reads: each one statement, so each sees one committed state, and each
# says which generation that was.


async def documents_for_index(session: AsyncSession) -> Sequence[Row[Any]]:
    """The generation, and every document that has chunks (none: one row of NULLs beside it)."""
    has_chunks = select(literal(1)).where(chunks.c.document_id == documents.c.id).exists()
    statement = (
        select(knowledge_state.c.generation, documents.c.id, documents.c.title, documents.c.chunks_generation)
        .select_from(knowledge_state.outerjoin(documents, has_chunks))
        .where(knowledge_state.c.id == STATE_ID)
    )
    return (await session.execute(statement)).all()


async def chunks_for_index(session: AsyncSession, document_ids: Sequence[uuid.UUID]) -> Sequence[Row[Any]]:
    state = select(knowledge_state.c.generation).where(knowledge_state.c.id == STATE_ID).scalar_subquery()
    statement = (
        select(
            chunks.c.id,
            chunks.c.document_id,
            chunks.c.heading_path,
            chunks.c.text,
            chunks.c.tokens,
            chunks.c.embedding,
            chunks.c.embedder,
            state.label("generation"),
        )
        .where(chunks.c.document_id.in_(document_ids))
        .order_by(chunks.c.document_id, chunks.c.ordinal)
    )
    return (await session.execute(statement)).all()
