"""`/api/v1/knowledge`: the documents the AI answers from (courses, prices, FAQs), through the ai
service's internal API. Every route needs `knowledge:manage` (admins and managers)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.deps import AiDep, SettingsDep, UowDep
from crm_gateway.errors import problem_responses
from crm_gateway.knowledge import service
from crm_gateway.knowledge.schemas import (
    UPLOAD_BODY,
    DocumentDetailOut,
    DocumentOut,
    ReindexOut,
    SearchIn,
    SearchOut,
)

_DESCRIBED = {
    403: "Your role does not allow `knowledge:manage`.",
    404: "No document has this id.",
    413: "The file is over the limit (20 MB by default).",
    415: "The knowledge base cannot read this type of file; `detail` names the types it reads.",
    422: "Not a multipart form with the file in `file`, or a field the ai cannot use; `detail` says which.",
    502: "The ai service failed to answer (an error of its own); try again, and tell an administrator "
    "if it keeps failing.",
    503: "The ai service did not answer; try again shortly.",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_DESCRIBED, 403, *statuses, 502, 503)


router = APIRouter(prefix="/knowledge", tags=["knowledge"], dependencies=[allow(Permission.KNOWLEDGE_MANAGE)])


@router.post(
    "/documents",
    status_code=201,
    summary="Add a document (or a new version of one)",
    openapi_extra=UPLOAD_BODY,
    responses={
        200: {"model": DocumentOut, "description": "These bytes are a document already; nothing changed."},
        **_problems(413, 415, 422),
    },
)
async def upload_document(
    request: Request, response: Response, staff: CurrentStaff, ai: AiDep, settings: SettingsDep, uow: UowDep
) -> DocumentOut:
    """201 with the document `queued` (it is indexed in the background: poll it for `status` and
    `progress`); a file with the `source_name` of a document already there is its new version,
    and the old one keeps answering until the new one is ready. The same bytes again answer 200
    with the document they are. Permission: `knowledge:manage`."""
    limit = settings.knowledge_max_upload_bytes
    headers = service.upload_headers(request.headers, limit)
    document, changed = await ai.upload_document(service.limited(request.stream(), limit), headers)
    if changed:
        await service.record(uow, staff, "knowledge.upload", document.id, document)
    else:
        response.status_code = 200
    return document


@router.get("/documents", summary="The documents and how far their indexing is", responses=_problems())
async def list_documents(ai: AiDep) -> list[DocumentOut]:
    """Permission: `knowledge:manage`."""
    return await ai.documents()


@router.get("/documents/{document_id}", summary="One document with its chunks", responses=_problems(404))
async def get_document(document_id: uuid.UUID, ai: AiDep) -> DocumentDetailOut:
    """The passages answers can be grounded on, in order. Permission: `knowledge:manage`."""
    return await ai.document(document_id)


@router.put(
    "/documents/{document_id}",
    summary="Replace a document's file",
    openapi_extra=UPLOAD_BODY,
    responses=_problems(404, 413, 415, 422),
)
async def replace_document(
    document_id: uuid.UUID,
    request: Request,
    staff: CurrentStaff,
    ai: AiDep,
    settings: SettingsDep,
    uow: UowDep,
) -> DocumentOut:
    """A new version, indexed in the background; the old one answers until it is ready.
    Permission: `knowledge:manage`."""
    limit = settings.knowledge_max_upload_bytes
    headers = service.upload_headers(request.headers, limit)
    document = await ai.replace_document(document_id, service.limited(request.stream(), limit), headers)
    await service.record(uow, staff, "knowledge.replace", document.id, document)
    return document


@router.delete(
    "/documents/{document_id}", status_code=204, summary="Remove a document", responses=_problems(404)
)
async def delete_document(document_id: uuid.UUID, staff: CurrentStaff, ai: AiDep, uow: UowDep) -> Response:
    """Answers stop using it at once. Permission: `knowledge:manage`."""
    await ai.delete_document(document_id)
    await service.record(uow, staff, "knowledge.delete", document_id)
    return Response(status_code=204)


@router.post(
    "/documents/{document_id}/reindex",
    status_code=202,
    summary="Index a document again",
    responses=_problems(404),
)
async def reindex_document(
    document_id: uuid.UUID, staff: CurrentStaff, ai: AiDep, uow: UowDep
) -> DocumentOut:
    """Queued; its chunks keep answering until the new ones are ready. Permission: `knowledge:manage`."""
    document = await ai.reindex_document(document_id)
    await service.record(uow, staff, "knowledge.reindex", document_id, document)
    return document


@router.post("/reindex", status_code=202, summary="Index every document again", responses=_problems())
async def reindex_all(staff: CurrentStaff, ai: AiDep, uow: UowDep) -> ReindexOut:
    """E.g. after the embedder changed. Permission: `knowledge:manage`."""
    queued = await ai.reindex_all()
    await service.record(uow, staff, "knowledge.reindex_all", uuid.UUID(int=0))
    return queued


@router.post(
    "/search",
    summary="Try a question: the passages the AI would ground its reply on",
    responses=_problems(422),
)
async def search(body: SearchIn, ai: AiDep) -> SearchOut:
    """The same retriever and thresholds as replies: `relevant` passages are what a reply would
    use; the others were found but are too weak to ground on. Reads only (nothing is audited).
    Permission: `knowledge:manage`."""
    return await ai.search(body)
