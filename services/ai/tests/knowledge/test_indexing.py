"""Uploads become searchable chunks through the indexing worker; versions swap whole; deletes and
unreadable files leave nothing behind in search."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from crm_ai.knowledge import service
from crm_ai.knowledge.index import Snapshot
from crm_ai.knowledge.retrieval import Retriever

from .conftest import Kb
from .documents import COURSES_MD, FAQ_JSON, schedule_md

pytestmark = pytest.mark.integration

SUSHI = ("คอร์สเรียนทำอาหารญี่ปุ่น", "คอร์สซูชิ")


async def generation(kb: Kb) -> int:
    async with kb.sessionmaker() as session:
        return await service.generation(session)


async def chunks(kb: Kb, document_id: uuid.UUID) -> list[Any]:
    async with kb.sessionmaker() as session:
        return list(await service.chunks_of(session, document_id))


async def test_an_upload_is_indexed_with_its_heading_paths(kb: Kb) -> None:
    before = await generation(kb)
    uploaded = await kb.upload("courses.md", COURSES_MD)
    assert uploaded.outcome is service.Outcome.CREATED
    assert (await kb.document(uploaded.document_id)).status == "queued"

    assert await kb.worker.drain() == 1

    document = await kb.document(uploaded.document_id)
    assert document.status == "ready"
    assert document.title == "คอร์สเรียนทำอาหารญี่ปุ่น"
    assert document.chunks_done == document.chunks_total == 3
    paths = [tuple(c.heading_path) for c in await chunks(kb, uploaded.document_id)]
    assert paths == [SUSHI, (SUSHI[0], "คอร์สราเมง"), (SUSHI[0], "Wagashi class")]
    assert await generation(kb) == before + 1


async def test_the_same_bytes_again_are_the_same_document_and_nothing_is_reindexed(kb: Kb) -> None:
    first = await kb.upload("courses.md", COURSES_MD)
    indexed = await kb.document(first.document_id)
    before = await generation(kb)

    again = await kb.upload("courses-copy.md", COURSES_MD)

    assert again == service.Uploaded(first.document_id, service.Outcome.UNCHANGED)
    assert await kb.worker.drain() == 0
    assert await kb.document(first.document_id) == indexed
    assert await generation(kb) == before


async def test_a_thai_question_with_a_typo_finds_the_sushi_course(kb: Kb) -> None:
    await kb.upload("faq.json", FAQ_JSON)
    await kb.worker.drain()

    passages = await kb.retriever.search("คอสซูชิราคาเท่าไหร่คะ")

    assert passages[0].heading_path == SUSHI
    assert "12,900" in passages[0].text
    assert passages[0].relevant
    # The misspelt คอส stands for the documents' คอร์ส: the keyword side sees it.
    assert kb.retriever.index.snapshot.expand(["คอส"]).get("คอร์ส", 0) > 0.5


async def test_a_new_version_swaps_whole_while_searches_go_on(kb: Kb) -> None:
    old = await kb.upload("tempura.md", schedule_md("เก่า"))
    await kb.worker.drain()
    await kb.retriever.refresh()
    courses = kb.retriever.index.snapshot.documents
    old_chunks = {c.id for c in await chunks(kb, old.document_id)}

    new = await kb.upload("tempura.md", schedule_md("ใหม่"))
    assert new == service.Uploaded(old.document_id, service.Outcome.CHANGED)
    seen: list[set[str]] = []
    indexed = asyncio.Event()

    async def search_until_indexed() -> None:
        while True:
            finished = indexed.is_set()
            passages = await kb.retriever.search("ตารางคอร์สเทมปุระเรียนวันอาทิตย์", limit=30)
            mine = [p for p in passages if p.document_id == old.document_id]
            seen.append({"old" if "ตารางเก่า" in p.text else "new" for p in mine})
            if finished:
                return
            await asyncio.sleep(0)

    searching = asyncio.create_task(search_until_indexed())
    await kb.worker.drain()
    indexed.set()
    await searching

    # Searches ran on both sides of the swap, and none of them saw half of each version.
    assert {"old"} in seen
    assert {"new"} in seen
    assert all(len(kinds) == 1 for kinds in seen), seen
    document = await kb.document(old.document_id)
    assert (document.version, document.status) == (2, "ready")
    rows = await chunks(kb, old.document_id)
    assert {r.version for r in rows} == {2}
    assert not old_chunks & {r.id for r in rows}
    # Only the changed document was read again: the others are the very same objects.
    reloaded = kb.retriever.index.snapshot.documents
    assert all(reloaded[d] is courses[d] for d in courses if d != old.document_id)


async def test_a_deleted_document_is_gone_from_search(kb: Kb) -> None:
    uploaded = await kb.upload("parking.md", "# ที่จอดรถ\n\nรถบัสนำเที่ยวจอดที่ลานข้างตลาดนัด".encode())
    await kb.worker.drain()
    found = await kb.retriever.search("รถบัสนำเที่ยวจอดที่ไหน")
    assert found[0].document_id == uploaded.document_id

    async with kb.sessionmaker() as session:
        assert await service.delete(session, uploaded.document_id)
        await session.commit()

    assert await kb.document(uploaded.document_id) is None
    after = await kb.retriever.search("รถบัสนำเที่ยวจอดที่ไหน", limit=50)
    assert uploaded.document_id not in {p.document_id for p in after}


async def test_a_corrupt_pdf_fails_with_its_reason_and_serves_nothing(kb: Kb) -> None:
    uploaded = await kb.upload("brochure.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a pdf")

    await kb.worker.drain()

    document = await kb.document(uploaded.document_id)
    assert document.status == "failed"
    assert "PDF" in document.failure_reason
    assert await chunks(kb, uploaded.document_id) == []
    passages = await kb.retriever.search("brochure", limit=50)
    assert uploaded.document_id not in {p.document_id for p in passages}


def test_an_empty_snapshot_finds_nothing() -> None:
    assert Snapshot(0, {}, 512).search(None, ["ซูชิ"], 5) == []


async def test_chunks_of_another_embedder_are_re_embedded_while_they_keep_serving(kb: Kb) -> None:
    uploaded = await kb.upload("ramen.md", "# ราเมง\n\nคอร์สราเมงโชยุสำหรับมือใหม่ เรียนวันพุธ".encode())
    await kb.worker.drain()
    async with kb.sessionmaker() as session:  # as if AI_EMBEDDINGS named another model before
        await session.execute(
            text("UPDATE ai.documents SET embedder = 'gemini:old@768' WHERE id = :id"),
            {"id": uploaded.document_id},
        )
        await session.execute(text("UPDATE ai.chunks SET embedder = 'gemini:old@768'"))
        await session.execute(text("UPDATE ai.knowledge_state SET generation = generation + 1"))
        await session.commit()

    await kb.worker.queue_other_embedders()

    assert (await kb.document(uploaded.document_id)).status == "queued"
    # Meanwhile (a replica restarted with the new embedder) the old chunks answer by their words:
    # their vectors are of another space.
    restarted = Retriever.create(kb.sessionmaker, kb.worker.embedder, kb.settings)
    passages = await restarted.search("ราเมงโชยุวันพุธ")
    assert passages[0].document_id == uploaded.document_id
    assert passages[0].vector_score == 0.0
    await kb.worker.drain()
    assert (await kb.document(uploaded.document_id)).embedder == kb.worker.embedder.name
    passages = await restarted.search("ราเมงโชยุวันพุธ")
    assert passages[0].document_id == uploaded.document_id
    assert passages[0].vector_score > 0.3
