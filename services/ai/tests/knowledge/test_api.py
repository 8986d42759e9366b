"""The knowledge base's internal API, served by the real app (its lifespan starts the indexing
worker) on a throwaway database: what the gateway sees when staff manage documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from crm_ai.app import create_app
from crm_ai.config import AiSettings
from crm_servicekit.testing import eventually

from .documents import COURSES_MD

pytestmark = pytest.mark.integration

TOKEN = {"X-Internal-Token": "test-internal-token-of-the-knowledge-suite"}
DOCUMENTS = "/internal/v1/knowledge/documents"
MB = 1024 * 1024


@pytest.fixture(scope="module")
async def http(kb_database_url: str, rabbitmq_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = AiSettings(
        database_url=kb_database_url,
        rabbitmq_url=rabbitmq_url,
        crm_internal_token=SecretStr(TOKEN["X-Internal-Token"]),
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ai", headers=TOKEN, timeout=30
        ) as client,
    ):
        yield client


async def ready(http: httpx.AsyncClient, document_id: str, version: int = 1) -> dict[str, Any]:
    async def indexed() -> dict[str, Any] | None:
        body: dict[str, Any] = (await http.get(f"{DOCUMENTS}/{document_id}")).json()
        return body if body["status"] == "ready" and body["version"] == version else None

    return await eventually(indexed, timeout=30)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_an_upload_is_indexed_in_the_background_and_shown_with_its_chunks(
    http: httpx.AsyncClient,
) -> None:
    files = {"file": ("courses.md", COURSES_MD, "application/octet-stream")}
    created = await http.post(DOCUMENTS, files=files, data={"title": "Courses 2026", "language": "th"})
    assert created.status_code == 201, created.text
    assert created.json()["status"] in {"queued", "indexing", "ready"}
    document_id = created.json()["id"]

    document = await ready(http, document_id)

    assert document["title"] == "Courses 2026"
    assert document["progress"] == "3/3"
    assert [c["heading_path"][-1] for c in document["chunks"]] == ["คอร์สซูชิ", "คอร์สราเมง", "Wagashi class"]
    assert "12,900" in document["chunks"][0]["text"]
    listed = (await http.get(DOCUMENTS)).json()
    assert [(d["id"], d["status"], d["progress"]) for d in listed] == [(document_id, "ready", "3/3")]

    again = await http.post(DOCUMENTS, files=files)
    assert again.status_code == 200
    assert again.json()["id"] == document_id
    assert again.json()["indexed_at"] == document["indexed_at"]


async def test_a_replaced_file_is_a_new_version_and_a_deleted_document_is_gone(
    http: httpx.AsyncClient,
) -> None:
    created = await http.post(DOCUMENTS, files={"file": ("hours.txt", "เปิดทุกวัน 9:00-18:00".encode())})
    document_id = created.json()["id"]
    await ready(http, document_id)

    replaced = await http.put(
        f"{DOCUMENTS}/{document_id}", files={"file": ("hours.txt", "เปิดทุกวัน 10:00-19:00".encode())}
    )
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 2
    document = await ready(http, document_id, version=2)
    assert [c["text"] for c in document["chunks"]] == ["เปิดทุกวัน 10:00-19:00"]

    reindexed = await http.post(f"{DOCUMENTS}/{document_id}/reindex")
    assert reindexed.status_code == 202
    await ready(http, document_id, version=2)
    everything = await http.post("/internal/v1/knowledge/reindex")
    assert everything.status_code == 202
    assert everything.json()["queued"] >= 2

    assert (await http.delete(f"{DOCUMENTS}/{document_id}")).status_code == 204
    problem(await http.get(f"{DOCUMENTS}/{document_id}"), 404)
    problem(await http.delete(f"{DOCUMENTS}/{document_id}"), 404)
    assert document_id not in {d["id"] for d in (await http.get(DOCUMENTS)).json()}


async def test_a_type_it_cannot_read_is_refused_with_the_types_it_can(http: httpx.AsyncClient) -> None:
    response = await http.post(DOCUMENTS, files={"file": ("menu.docx", b"PK\x03\x04", "application/msword")})

    body = problem(response, 415)
    for kind in ("Markdown (.md", "plain text (.txt)", "HTML (.html", "PDF (.pdf)", "FAQ JSON (.json)"):
        assert kind in body["detail"]


async def test_a_language_that_is_no_language_code_is_refused_naming_it(http: httpx.AsyncClient) -> None:
    """Found by the API fuzz run as a 500: any text went into an 8-character column."""
    files = {"file": ("menu.md", "# เมนู\nราเมง 350 บาท".encode())}
    for language in ('{"a": null}', "thai-language", "t"):
        body = problem(await http.post(DOCUMENTS, files=files, data={"language": language}), 422)
        assert "`language`" in body["detail"]
    created = await http.post(DOCUMENTS, files=files, data={"language": "th", "source_name": "menu-lang.md"})
    assert created.status_code == 201, created.text
    assert created.json()["language"] == "th"


async def test_a_file_over_20_mb_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(DOCUMENTS, files={"file": ("big.txt", b"a" * (20 * MB + 1))})

    assert "20 MB" in problem(response, 413)["detail"]
    # Exactly 20 MB is taken (blank, so the worker is done with it at once: "no text").
    just_fits = await http.post(DOCUMENTS, files={"file": ("fits.txt", b" " * (20 * MB))})
    assert just_fits.status_code == 201


async def test_a_body_too_large_is_refused_while_it_is_read(http: httpx.AsyncClient) -> None:
    """No Content-Length (chunked): the body is counted as it arrives and reading stops early."""
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="huge.txt"\r\n\r\n'
        for _ in range(200):
            sent += MB
            yield b"a" * MB

    response = await http.post(
        DOCUMENTS, content=endless(), headers={"content-type": "multipart/form-data; boundary=x"}
    )

    problem(response, 413)
    assert sent <= 22 * MB


async def test_without_the_service_token_nothing_is_served(http: httpx.AsyncClient) -> None:
    response = await http.get(DOCUMENTS, headers={"X-Internal-Token": "wrong"})
    assert response.status_code == 401
