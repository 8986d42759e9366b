"""The knowledge base's internal API for the gateway (ADR 7/17; the service token on every route):
upload, list, read, replace, delete and reindex documents. Uploads are multipart (`file`, and
optional `title`, `language`, `source_name`); the body is counted while it arrives, so a file
over the limit is refused with 413 without being read whole, and a type the parser cannot read
is refused with 415 naming those it can. Indexing happens in the background (`indexing.py`):
an upload answers at once with the document `queued` (201 new, 200 when it was known already)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.types import Message

from crm_ai.config import AiSettings
from crm_ai.knowledge import service
from crm_ai.knowledge.indexing import IndexingWorker
from crm_ai.knowledge.retrieval import Retriever
from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime

PROBLEM_JSON = "application/problem+json"
# A language code as documents are labelled (`th`, `en`, `ja`, `zh-Hant`): fits `documents.language`.
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4})?")
# Room for the multipart boundaries and the small text fields around the file.
MULTIPART_SLACK = 64 * 1024
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string"},
                        "language": {"type": "string"},
                        "source_name": {"type": "string"},
                    },
                }
            }
        },
    }
}


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail

    def response(self) -> JSONResponse:
        slug = self.title.lower().replace(" ", "-")
        body = {"type": f"urn:vschool-crm:problem:{slug}", "title": self.title, "status": self.status}
        return JSONResponse({**body, "detail": self.detail}, status_code=self.status, media_type=PROBLEM_JSON)


def _not_found() -> Problem:
    return Problem(404, "Not found", "no such document")


class ChunkView(BaseModel):
    id: uuid.UUID
    ordinal: int
    heading_path: list[str]
    text: str


class DocumentView(BaseModel):
    id: uuid.UUID
    source_name: str
    title: str
    language: str | None
    media_type: str
    size_bytes: int
    checksum: str
    version: int
    status: str
    chunks_done: int
    chunks_total: int
    progress: str  # "n/m"
    failure_reason: str | None
    embedder: str | None
    created_at: datetime
    updated_at: datetime
    indexed_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> DocumentView:
        values = {name: getattr(row, name) for name in cls.model_fields if name != "progress"}
        return cls(**values, progress=f"{row.chunks_done}/{row.chunks_total}")


class DocumentDetail(DocumentView):
    chunks: list[ChunkView]


class Reindexing(BaseModel):
    queued: int


class SearchRequest(BaseModel):
    question: str = Field(min_length=1, max_length=1000)
    limit: int = Field(default=5, ge=1, le=10)


class PassageView(BaseModel):
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    title: str
    heading_path: list[str]
    text: str
    score: float
    vector_score: float
    keyword_score: float
    relevant: bool


class SearchAnswer(BaseModel):
    passages: list[PassageView]


async def _read_upload(request: Request, limit: int) -> service.Upload:
    """The multipart upload, refused (413) as soon as more than `limit` bytes have arrived."""
    too_large = Problem(413, "Too large", f"files up to {limit // (1024 * 1024)} MB are accepted")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise too_large
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > limit + MULTIPART_SLACK:
            raise too_large
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Problem(422, "Invalid upload", "send multipart/form-data with the document in `file`")

    async def replay() -> Message:
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=10)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise Problem(422, "Invalid upload", "send multipart/form-data with the document in `file`")
    content = await file.read()
    if len(content) > limit:
        raise too_large
    try:
        media_type = service.media_type_of(file.filename, file.content_type)
    except service.UnsupportedType as exc:
        raise Problem(415, "Unsupported media type", str(exc)) from exc

    def text(name: str) -> str | None:
        value = form.get(name)
        if not isinstance(value, str):
            return None
        _storable(name, value)
        return value.strip() or None

    _storable("file name", file.filename)

    language = text("language")
    if language is not None and not LANGUAGE_TAG.fullmatch(language):
        raise Problem(422, "Invalid upload", "`language` is not a language code such as `th`, `en` or `ja`")
    return service.Upload(
        content=content,
        filename=file.filename,
        media_type=media_type,
        title=text("title"),
        language=language,
        source_name=text("source_name"),
    )


def _storable(field: str, value: str) -> None:
    """PostgreSQL text holds neither U+0000 nor a lone surrogate, and a name is a line: refuse
    them with a 422 naming the field rather than fail on the insert."""
    if len(value) > 300:
        raise Problem(422, "Invalid upload", f"`{field}` is longer than 300 characters")
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise Problem(
            422,
            "Invalid upload",
            f"`{field}` holds a character that cannot be stored (U+0000 or a lone surrogate)",
        )


def router(runtime: Runtime, settings: AiSettings, worker: IndexingWorker, retriever: Retriever) -> APIRouter:
    api = internal_router(settings.crm_internal_token)
    limit = settings.knowledge_max_upload_bytes

    async def view(document_id: uuid.UUID) -> DocumentView:
        async with runtime.sessionmaker() as session:
            row = await service.get(session, document_id)
        return DocumentView.of(row)

    @api.post(
        "/knowledge/documents",
        status_code=201,
        response_model=DocumentView,
        openapi_extra=UPLOAD_BODY,
        responses={200: {"description": "These bytes are a document already; nothing was indexed again"}},
    )
    async def upload(request: Request, response: Response) -> Any:
        """Add a document (201), or a new version of the one with the same source name (201);
        the same bytes again answer 200 with the document they are."""
        try:
            upload = await _read_upload(request, limit)
        except Problem as problem:
            return problem.response()
        async with runtime.sessionmaker() as session:
            uploaded = await service.upload(session, upload)
            await session.commit()
        if uploaded.outcome is service.Outcome.UNCHANGED:
            response.status_code = 200
        else:
            worker.wake()
        return await view(uploaded.document_id)

    @api.get("/knowledge/documents", response_model=list[DocumentView])
    async def list_documents() -> list[DocumentView]:
        async with runtime.sessionmaker() as session:
            return [DocumentView.of(row) for row in await service.list_documents(session)]

    @api.get("/knowledge/documents/{document_id}", response_model=DocumentDetail)
    async def get_document(document_id: uuid.UUID) -> Any:
        async with runtime.sessionmaker() as session:
            row = await service.get(session, document_id)
            if row is None:
                return _not_found().response()
            chunks = await service.chunks_of(session, document_id)
        document = DocumentView.of(row).model_dump()
        return DocumentDetail(
            **document,
            chunks=[
                ChunkView(id=c.id, ordinal=c.ordinal, heading_path=c.heading_path, text=c.text)
                for c in chunks
            ],
        )

    @api.put("/knowledge/documents/{document_id}", response_model=DocumentView, openapi_extra=UPLOAD_BODY)
    async def replace_document(document_id: uuid.UUID, request: Request) -> Any:
        """A new file for this document: a new version, indexed in the background."""
        try:
            upload = await _read_upload(request, limit)
        except Problem as problem:
            return problem.response()
        async with runtime.sessionmaker() as session:
            uploaded = await service.replace(session, document_id, upload)
            await session.commit()
        if uploaded is None:
            return _not_found().response()
        if uploaded.outcome is not service.Outcome.UNCHANGED:
            worker.wake()
        return await view(document_id)

    @api.delete("/knowledge/documents/{document_id}", status_code=204)
    async def delete_document(document_id: uuid.UUID) -> Response:
        async with runtime.sessionmaker() as session:
            deleted = await service.delete(session, document_id)
            await session.commit()
        return Response(status_code=204) if deleted else _not_found().response()

    @api.post("/knowledge/documents/{document_id}/reindex", status_code=202, response_model=DocumentView)
    async def reindex_document(document_id: uuid.UUID) -> Any:
        """Index this document again; its chunks keep serving until the new ones are ready."""
        async with runtime.sessionmaker() as session:
            queued = await service.reindex(session, document_id)
            await session.commit()
        if not queued:
            return _not_found().response()
        worker.wake()
        return await view(document_id)

    @api.post("/knowledge/search", response_model=SearchAnswer)
    async def search(body: SearchRequest) -> SearchAnswer:
        """The passages best matching a question, best first: those `relevant` are what a reply
        to it would be grounded on (the same retriever and thresholds replies use)."""
        found = await retriever.search(body.question, limit=body.limit)
        return SearchAnswer(
            passages=[
                PassageView(
                    chunk_id=p.chunk_id,
                    document_id=p.document_id,
                    title=p.document_title,
                    heading_path=list(p.heading_path),
                    text=p.text,
                    score=p.score,
                    vector_score=p.vector_score,
                    keyword_score=p.keyword_score,
                    relevant=p.relevant,
                )
                for p in found
            ]
        )

    @api.post("/knowledge/reindex", status_code=202, response_model=Reindexing)
    async def reindex_all() -> Reindexing:
        """Index every document again (e.g. after the chunking changed)."""
        async with runtime.sessionmaker() as session:
            queued = await service.reindex(session)
            await session.commit()
        worker.wake()
        return Reindexing(queued=queued)

    return api
