"""`/api/v1/knowledge` and `/api/v1/conversations/{id}/suggestion`, against the ai service's REAL
internal API served over HTTP on loopback (`ai_served.py`) on the test database: what staff get
is what the ai stored and decided, its refusals included (a type it cannot read, a file too large),
and the gateway refuses an upload over the limit itself before the ai reads it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from crm_gateway.auth.domain import Role
from crm_gateway.auth.repository import insert_if_absent
from crm_gateway.auth.security import hash_password
from crm_gateway.config import GatewaySettings
from crm_servicekit.migrations import upgrade
from crm_servicekit.runtime import Runtime
from crm_servicekit.settings import ServiceSettings

from .ai_served import index_queued, served_ai
from .conftest import INTERNAL_TOKEN

pytestmark = pytest.mark.integration

PROBLEM = "urn:vschool-crm:problem:"
MB = 1024 * 1024
COURSE_MD = """# คอร์สซูชิพื้นฐาน

เรียนทำซูชิพื้นฐานหนึ่งวัน ทุกวันเสาร์ 10:00-15:00

## ราคา

ราคา 4,500 บาท รวมวัตถุดิบและผ้ากันเปื้อน

## Sushi basics in English

A one-day course every Saturday; THB 4,500 including ingredients.
""".encode()


@pytest.fixture(scope="module")
async def ai_database(migrated_database_url: str) -> str:
    """The gateway's test database with the ai's schema too."""
    url = ServiceSettings(database_url=migrated_database_url).async_database_url
    await asyncio.to_thread(upgrade, "crm_ai", url)
    return url


@pytest.fixture(scope="module")
def ai_url(ai_database: str) -> Iterator[str]:
    with served_ai(ai_database, INTERNAL_TOKEN) as url:
        yield url


@pytest.fixture(scope="module")
def settings(settings: GatewaySettings, ai_url: str) -> GatewaySettings:
    return settings.model_copy(update={"ai_internal_url": ai_url})


@pytest.fixture(scope="module")
async def agent(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    email = f"agent-{uuid.uuid4().hex[:6]}@vschool.example"
    password = "an agent's long passphrase"
    async with runtime.sessionmaker() as session, session.begin():
        await insert_if_absent(session, email=email, password_hash=hash_password(password), role=Role.AGENT)
    response = await client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def upload(name: str, content: bytes, media_type: str, **fields: str) -> dict[str, object]:
    return {"files": {"file": (name, content, media_type)}, "data": fields}


async def test_an_admin_uploads_a_markdown_document_and_lists_it_with_its_status(
    client: httpx.AsyncClient, auth: dict[str, str], ai_database: str
) -> None:
    sent = upload("sushi-basics.md", COURSE_MD, "text/markdown", title="Sushi basics course", language="th")
    created = await client.post("/api/v1/knowledge/documents", headers=auth, **sent)  # type: ignore[arg-type]
    assert created.status_code == 201, created.text
    document = created.json()
    assert (document["title"], document["status"], document["source_name"]) == (
        "Sushi basics course",
        "queued",
        "sushi-basics.md",
    )

    again = await client.post("/api/v1/knowledge/documents", headers=auth, **sent)  # type: ignore[arg-type]
    assert again.status_code == 200, again.text  # the same bytes: the same document, nothing queued
    assert again.json()["id"] == document["id"]

    listed = await client.get("/api/v1/knowledge/documents", headers=auth)
    assert listed.status_code == 200, listed.text
    [mine] = [d for d in listed.json() if d["id"] == document["id"]]
    assert mine["status"] == "queued"

    assert await index_queued(ai_database) >= 1
    listed = await client.get("/api/v1/knowledge/documents", headers=auth)
    [mine] = [d for d in listed.json() if d["id"] == document["id"]]
    assert mine["status"] == "ready", mine
    assert mine["progress"] == f"{mine['chunks_total']}/{mine['chunks_total']}"
    assert mine["chunks_total"] >= 1

    detail = await client.get(f"/api/v1/knowledge/documents/{document['id']}", headers=auth)
    assert detail.status_code == 200, detail.text
    assert any("4,500" in c["text"] and "ราคา" in c["heading_path"] for c in detail.json()["chunks"])


async def test_trying_a_question_shows_the_passages_a_reply_would_use(
    client: httpx.AsyncClient, auth: dict[str, str], ai_database: str
) -> None:
    sent = upload("sushi-price.md", COURSE_MD, "text/markdown", title="Sushi course prices", language="th")
    document = (await client.post("/api/v1/knowledge/documents", headers=auth, **sent)).json()  # type: ignore[arg-type]
    await index_queued(ai_database)

    asked = await client.post(
        "/api/v1/knowledge/search", json={"question": "คอร์สซูชิราคาเท่าไหร่", "limit": 3}, headers=auth
    )
    nonsense = await client.post("/api/v1/knowledge/search", json={"question": ""}, headers=auth)

    assert asked.status_code == 200, asked.text
    passages = asked.json()["passages"]
    assert 1 <= len(passages) <= 3
    best = passages[0]
    assert best["relevant"] is True
    assert best["document_id"] == document["id"]
    assert "4,500" in best["text"]
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)
    assert nonsense.status_code == 422


async def test_a_document_is_reindexed_and_deleted_and_then_not_found(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    sent = upload("faq-parking.md", b"# Parking\n\nFree parking behind the school.\n", "text/markdown")
    document = (await client.post("/api/v1/knowledge/documents", headers=auth, **sent)).json()  # type: ignore[arg-type]

    reindexed = await client.post(f"/api/v1/knowledge/documents/{document['id']}/reindex", headers=auth)
    assert reindexed.status_code == 202, reindexed.text
    assert reindexed.json()["status"] == "queued"
    everything = await client.post("/api/v1/knowledge/reindex", headers=auth)
    assert everything.status_code == 202
    assert everything.json()["queued"] >= 1

    deleted = await client.delete(f"/api/v1/knowledge/documents/{document['id']}", headers=auth)
    assert deleted.status_code == 204, deleted.text
    gone = await client.get(f"/api/v1/knowledge/documents/{document['id']}", headers=auth)
    assert gone.status_code == 404
    assert gone.json()["type"] == PROBLEM + "knowledge-document-not-found"
    assert document["id"] in gone.json()["detail"]


async def test_an_agent_is_refused_every_knowledge_route(
    client: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    some_id = uuid.uuid4()
    for method, path in [
        ("GET", "/api/v1/knowledge/documents"),
        ("POST", "/api/v1/knowledge/documents"),
        ("GET", f"/api/v1/knowledge/documents/{some_id}"),
        ("PUT", f"/api/v1/knowledge/documents/{some_id}"),
        ("DELETE", f"/api/v1/knowledge/documents/{some_id}"),
        ("POST", f"/api/v1/knowledge/documents/{some_id}/reindex"),
        ("POST", "/api/v1/knowledge/reindex"),
    ]:
        response = await client.request(method, path, headers=agent)
        assert response.status_code == 403, f"{method} {path}"
        assert "knowledge:manage" in response.json()["detail"]


async def test_a_type_the_ai_cannot_read_is_a_415_naming_the_types_it_reads(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    sent = upload("brochure.docx", b"PK\x03\x04 not really a docx", "application/octet-stream")
    response = await client.post("/api/v1/knowledge/documents", headers=auth, **sent)  # type: ignore[arg-type]
    assert response.status_code == 415, response.text
    problem = response.json()
    assert problem["type"] == PROBLEM + "unsupported-document-type"
    assert "markdown" in problem["detail"].lower() or ".md" in problem["detail"]


async def test_a_file_over_20_mb_is_a_413_from_the_gateway_or_the_ai(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    too_big = b"a" * (20 * MB + 1)

    # Declared (Content-Length) over the limit plus the form's slack: refused before anything is read.
    declared = upload("huge.md", too_big + b"a" * (64 * 1024), "text/markdown")
    response = await client.post("/api/v1/knowledge/documents", headers=auth, **declared)  # type: ignore[arg-type]
    assert response.status_code == 413, response.text
    assert response.json()["type"] == PROBLEM + "document-too-large"
    assert "20 MB" in response.json()["detail"]

    # Streamed without a length: refused once more than that has arrived.
    form = httpx.Request("POST", "http://gateway/", **declared)  # type: ignore[arg-type]
    body = form.read()

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), MB):
            yield body[start : start + MB]

    streamed = await client.post(
        "/api/v1/knowledge/documents",
        headers={**auth, "Content-Type": form.headers["Content-Type"]},
        content=pieces(),
    )
    assert streamed.status_code == 413, streamed.text
    assert streamed.json()["type"] == PROBLEM + "document-too-large"

    # Just over the limit, within the slack: the ai reads it and refuses, and staff see its 413.
    response = await client.post(
        "/api/v1/knowledge/documents",
        headers=auth,
        **upload("just-over.md", too_big, "text/markdown"),  # type: ignore[arg-type]
    )
    assert response.status_code == 413, response.text
    assert response.json()["type"] == PROBLEM + "document-too-large"


async def test_the_suggestion_route_returns_the_ai_draft_and_404_without_one(
    client: httpx.AsyncClient, auth: dict[str, str], agent: dict[str, str], ai_database: str
) -> None:
    engine = create_async_engine(ai_database, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names(schema="ai"))
            if "suggestions" not in tables:
                pytest.skip("waits for the ai's migration of `ai.suggestions` (0003, replies)")
            conversation_id = uuid.uuid4()
            await conn.execute(
                text(
                    "INSERT INTO ai.suggestions (conversation_id, psid, source_event_id, message_at, text,"
                    " language, sources, warnings) VALUES (:c, 'psid-draft', :e, :at, :t, 'th', '[]',"
                    ' \'[{"reason": "unsupported_amount", "detail": "THB 3,900"}]\')'
                ),
                {"c": conversation_id, "e": uuid.uuid4(), "at": datetime.now(UTC), "t": "ราคา 4,500 บาทค่ะ"},
            )
    finally:
        await engine.dispose()

    found = await client.get(f"/api/v1/conversations/{conversation_id}/suggestion", headers=agent)
    assert found.status_code == 200, found.text
    assert found.json()["text"] == "ราคา 4,500 บาทค่ะ"
    assert found.json()["warnings"] == [{"reason": "unsupported_amount", "detail": "THB 3,900"}]

    none = await client.get(f"/api/v1/conversations/{uuid.uuid4()}/suggestion", headers=auth)
    assert none.status_code == 404, none.text
    assert none.json()["type"] == PROBLEM + "suggestion-not-found"


async def test_text_the_database_cannot_store_in_the_form_is_refused_with_422(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    sent = upload("nul.md", b"# Title\n\nSome text.\n", "text/markdown", title="abc\x00def")
    response = await client.post("/api/v1/knowledge/documents", headers=auth, **sent)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text
    assert response.json()["type"] == PROBLEM + "knowledge-rejected"
