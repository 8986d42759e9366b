"""PDPA in the ai service for what replies remember: the conversation turns (from the customer's
messages and what they were sent), the sources of each reply, and the drafts offered to staff."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from crm_contracts import MessageSent, MessageSentData
from crm_servicekit.testing import eventually

from .test_pdpa import Ai, ai, erasure, export, gemini, mentions, message, publish, reports

pytestmark = pytest.mark.integration

__all__ = ["ai", "gemini"]  # the fixtures, shared with test_pdpa


@dataclass(frozen=True)
class Passage:
    text: str = "คอร์สซูชิ เรียน 3 ครั้ง เปิดทุกเดือน"
    document_title: str = "คอร์สเรียน"
    heading_path: tuple[str, ...] = ("คอร์สซูชิ",)
    relevant: bool = True
    score: float = 0.03
    chunk_id: uuid.UUID = field(default_factory=uuid.uuid4)
    document_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def test_erasure_and_export_cover_the_conversation_memory_reply_sources_and_staff_drafts(
    ai: Ai,
) -> None:
    user, conversation = "2220001112223336", uuid.uuid4()
    staff_said = "เดี๋ยวพี่โทรกลับที่เบอร์ 081-234-5678 นะคะ"

    async def passage(query: str, *, limit: int = 5) -> list[Passage]:
        return [Passage()]

    ai.app.state.runtime.extras["knowledge"].retriever.search = passage
    asked = message(user, conversation, "คอร์สซูชิเรียนกี่ครั้งคะ")
    await publish(ai, asked)
    [reply] = [r for r in await ai.events.wait_for("reply.generated") if r["data"]["psid"] == user]
    assert len(reply["data"]["sources"]) == 1
    for said, by, after in ((reply["data"]["text"], "ai", 1), (staff_said, "staff", 2)):
        await publish(
            ai,
            MessageSent(
                correlation_id="sent",
                data=MessageSentData(
                    message_id=uuid.uuid4(),
                    conversation_id=conversation,
                    page_id="111222333",
                    psid=user,
                    meta_message_id=f"m_{uuid.uuid4().hex}",
                    text=said,
                    sent_by=by,  # type: ignore[arg-type]
                    sent_at=asked.data.sent_at + timedelta(seconds=after),
                ),
            ),
        )
    staff_mode = message(user, conversation, "ได้ค่ะ รอสายนะคะ")
    later = {"conversation_mode": "human", "sent_at": asked.data.sent_at + timedelta(seconds=3)}
    staff_mode = staff_mode.model_copy(update={"data": staff_mode.data.model_copy(update=later)})
    await publish(ai, staff_mode)

    async def everything() -> dict[str, Any] | None:
        found = (await export(ai, user)).json()
        return found if len(found["turns"]) == 4 and found["suggestions"] else None

    exported = await eventually(everything, timeout=15)
    assert [(t["author"], t["text"]) for t in exported["turns"]] == [
        ("customer", "คอร์สซูชิเรียนกี่ครั้งคะ"),
        ("ai", reply["data"]["text"]),
        ("staff", staff_said),
        ("customer", "ได้ค่ะ รอสายนะคะ"),
    ]
    [draft] = exported["suggestions"]
    assert draft["conversation_id"] == str(conversation)
    [sent] = exported["replies"]
    assert [s["title"] for s in sent["sources"]] == ["คอร์สเรียน"]
    # Prove the scan sees them before proving they are gone.
    seen = {k.split(".")[0] for k in await mentions(ai, user, staff_said, str(conversation))}
    assert {"conversation_turns", "suggestions", "replies"} <= seen

    request = erasure(user)
    await publish(ai, request)
    [report] = await eventually(lambda: reports(ai, request.data.request_id), timeout=15)
    erased = report["data"]["erased"]
    assert (erased["replies"], erased["reply_sources"], erased["turns"], erased["suggestions"]) == (
        1,
        1,
        4,
        1,
    )
    assert await mentions(ai, user, staff_said, str(conversation)) == {}
    after = (await export(ai, user)).json()
    assert (after["replies"], after["turns"], after["suggestions"]) == ([], [], [])
