"""The knowledge base for staff: documents the AI answers from, kept by the ai service (its
internal API, `clients/knowledge.py`); the gateway has no table of them.

An upload is passed on as it arrives, never held whole: the staff member's multipart body is
streamed to the ai with its own `Content-Type` (so its boundary) and counted on the way. A body
that says (`Content-Length`) or turns out to be larger than the limit plus room for the form's
other fields is refused with 413 here, the moment it does, and the ai is left with a cut-off
request it drops; a file just over the limit inside a body within the slack is refused by the ai
with the same 413. Type (415) and form (422) are the ai's to judge, and reach staff with its
sentence. Every change that succeeded is in the audit log (`knowledge.*`), after the ai's answer
(the ai's write and the gateway's entry cannot share a transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator, Mapping

from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.clients.knowledge import DocumentTooLarge, KnowledgeRejected
from crm_gateway.knowledge.schemas import DocumentOut
from crm_servicekit.outbox import UnitOfWork

# The multipart boundaries and the small text fields around the file (as the ai counts them).
MULTIPART_SLACK = 64 * 1024


def too_large(limit: int) -> DocumentTooLarge:
    return DocumentTooLarge(f"Files up to {limit // (1024 * 1024)} MB can be added to the knowledge base.")


def upload_headers(headers: Mapping[str, str], limit: int) -> dict[str, str]:
    """The headers the ai needs to read the body as sent (its type, boundary and length); 413 at
    once when the declared length is over the limit, 422 when it is not a multipart form."""
    content_type = headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise KnowledgeRejected(
            "Send the document as multipart/form-data, the file in `file` (and optionally "
            "`title`, `language`, `source_name`)."
        )
    forwarded = {"Content-Type": content_type}
    declared = headers.get("content-length", "")
    if declared.isdigit():
        if int(declared) > limit + MULTIPART_SLACK:
            raise too_large(limit)
        forwarded["Content-Length"] = declared
    return forwarded


async def limited(body: AsyncIterable[bytes], limit: int) -> AsyncIterator[bytes]:
    """The body's pieces as they arrive, until more than the limit (plus the slack) has come: then
    413, before that piece is passed on."""
    seen = 0
    async for piece in body:
        seen += len(piece)
        if seen > limit + MULTIPART_SLACK:
            raise too_large(limit)
        if piece:
            yield piece


async def record(
    uow: UnitOfWork, staff: Staff, action: str, document_id: uuid.UUID, document: DocumentOut | None = None
) -> None:
    """An audit entry for a change the ai made for this staff member (no personal data: names of
    documents, versions and checksums)."""
    after = (
        {"source_name": document.source_name, "version": document.version, "checksum": document.checksum}
        if document is not None
        else None
    )
    async with uow:
        await audit.record(
            uow.session,
            actor=staff,
            action=action,
            entity=("knowledge_document", str(document_id)),
            after=after,
        )
        await uow.commit()
