"""The ai service's knowledge-base routes (`/internal/v1/knowledge/...`), as the gateway calls them
for staff (`crm_gateway.knowledge`). Unlike the ai's other calls these carry what a staff member
chose (a file), so the ai's refusals of it reach them with the ai's own sentence:

    404 (a document)       KnowledgeDocumentNotFound    404
    413                    DocumentTooLarge             413, with the ai's `detail`
    415                    UnsupportedDocumentType      415, with the ai's `detail` (the types it reads)
    400, 422               KnowledgeRejected            422, with the ai's `detail`
    no answer, or 503      AiUnavailable                503 (`AiClient.unavailable`)
    anything else          ServiceFailed                502

An upload is streamed: the bytes go on to the ai as they arrive from the staff member.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Callable, Mapping

from crm_gateway.clients.base import InternalApiClient
from crm_gateway.errors import Problem
from crm_gateway.knowledge.schemas import (
    DocumentDetailOut,
    DocumentList,
    DocumentOut,
    ReindexOut,
    SearchIn,
    SearchOut,
)


class KnowledgeDocumentNotFound(Problem):
    status = 404
    slug = "knowledge-document-not-found"
    title = "Document not found"

    def __init__(self, document_id: uuid.UUID) -> None:
        super().__init__(f"No document of the knowledge base has the id {str(document_id)!r}.")


class DocumentTooLarge(Problem):
    status = 413
    slug = "document-too-large"
    title = "Document too large"


class UnsupportedDocumentType(Problem):
    status = 415
    slug = "unsupported-document-type"
    title = "Unsupported document type"


class KnowledgeRejected(Problem):
    """The ai found the upload invalid (no `file`, a field it cannot use); `detail` is its sentence."""

    status = 422
    slug = "knowledge-rejected"
    title = "Invalid document"


def _said(problem: type[Problem], fallback: str) -> Callable[[str | None], Problem]:
    return lambda detail: problem(f"{fallback} ({detail})" if detail else fallback)


UPLOAD_REFUSALS: Mapping[int, Callable[[str | None], Problem]] = {
    413: _said(DocumentTooLarge, "The file is too large for the knowledge base"),
    415: _said(UnsupportedDocumentType, "The knowledge base cannot read this type of file"),
    400: _said(KnowledgeRejected, "The knowledge base refused this upload"),
    422: _said(KnowledgeRejected, "The knowledge base refused this upload"),
}


class KnowledgeCalls(InternalApiClient):
    """The knowledge-base calls of `AiClient`."""

    async def upload_document(
        self, body: AsyncIterable[bytes], headers: Mapping[str, str]
    ) -> tuple[DocumentOut, bool]:
        """The document the uploaded file is, and whether it is new (or a new version): False
        when these bytes were a document already (the ai's 200 against its 201)."""
        response = await self._request(
            "POST", "/knowledge/documents", content=body, headers=headers, refused=UPLOAD_REFUSALS
        )
        return self._model(response.content, DocumentOut), response.status_code == 201

    async def replace_document(
        self, document_id: uuid.UUID, body: AsyncIterable[bytes], headers: Mapping[str, str]
    ) -> DocumentOut:
        return await self._call(
            "PUT",
            f"/knowledge/documents/{document_id}",
            DocumentOut,
            content=body,
            headers=headers,
            refused=UPLOAD_REFUSALS,
            not_found=lambda: KnowledgeDocumentNotFound(document_id),
        )

    async def documents(self) -> list[DocumentOut]:
        return (await self._call("GET", "/knowledge/documents", DocumentList)).root

    async def document(self, document_id: uuid.UUID) -> DocumentDetailOut:
        return await self._call(
            "GET",
            f"/knowledge/documents/{document_id}",
            DocumentDetailOut,
            not_found=lambda: KnowledgeDocumentNotFound(document_id),
        )

    async def delete_document(self, document_id: uuid.UUID) -> None:
        await self._request(
            "DELETE",
            f"/knowledge/documents/{document_id}",
            not_found=lambda: KnowledgeDocumentNotFound(document_id),
        )

    async def reindex_document(self, document_id: uuid.UUID) -> DocumentOut:
        return await self._call(
            "POST",
            f"/knowledge/documents/{document_id}/reindex",
            DocumentOut,
            not_found=lambda: KnowledgeDocumentNotFound(document_id),
        )

    async def reindex_all(self) -> ReindexOut:
        return await self._call("POST", "/knowledge/reindex", ReindexOut)

    async def search(self, query: SearchIn) -> SearchOut:
        return await self._call("POST", "/knowledge/search", SearchOut, json=query.model_dump())
