"""The knowledge base's tables: documents (one row per source, its newest version and indexing
status), their files (kept so that indexing and reindexing can run later, on any replica), the
chunks a reply can quote, and one generation counter bumped in the same transaction as every
change a reply must see (the in-memory index reloads when it moves)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from crm_ai.db import metadata

STATUSES = ("queued", "indexing", "ready", "failed")

documents = Table(
    "documents",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # Where it came from (a file name or a path under an ingested folder): a new upload under the
    # same name is a new version of the same document.
    Column("source_name", String(500), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("language", String(8)),
    Column("media_type", String(100), nullable=False),
    # sha256 of the bytes: the same bytes again are the same document, nothing re-indexed.
    Column("checksum", String(64), nullable=False, index=True),
    Column("size_bytes", BigInteger, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("status", String(16), nullable=False),
    Column("chunks_total", Integer, nullable=False, server_default="0"),
    Column("chunks_done", Integer, nullable=False, server_default="0"),
    Column("failure_reason", Text),
    # The embedder of the chunks it serves now (NULL: none yet).
    Column("embedder", String(100)),
    # The knowledge generation at which its chunks last changed: a replica reloads only these.
    Column("chunks_generation", BigInteger, nullable=False, server_default="0"),
    # The indexing run that holds it (a fresh id per claim) and until when: a replica that died
    # mid-run loses its claim, and a run whose claim was taken (new upload, reindex) is discarded.
    Column("claim_id", UUID(as_uuid=True)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("indexed_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('queued', 'indexing', 'ready', 'failed')", name="status"),
)

document_files = Table(
    "document_files",
    metadata,
    Column(
        "document_id", UUID(as_uuid=True), ForeignKey(documents.c.id, ondelete="CASCADE"), primary_key=True
    ),
    Column("content", LargeBinary, nullable=False),
)

chunks = Table(
    "chunks",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("document_id", UUID(as_uuid=True), ForeignKey(documents.c.id, ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("heading_path", ARRAY(Text), nullable=False),
    Column("text", Text, nullable=False),
    # segment.tokens(text) joined by spaces: computed once, at indexing, for the keyword side.
    Column("tokens", Text, nullable=False),
    # float32, L2-normalised, little-endian (numpy's native order here).
    Column("embedding", LargeBinary, nullable=False),
    Column("embedder", String(100), nullable=False),
    UniqueConstraint("document_id", "ordinal"),
)

# One row (id 1). Bumped with every change of what search may return.
knowledge_state = Table(
    "knowledge_state",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("generation", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("id = 1", name="one_row"),
)
