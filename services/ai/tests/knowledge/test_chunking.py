"""Chunks a passage search can quote: inside one heading, within the budget, cut where a reader
would cut (paragraphs, then sentences, then words), with an overlap between neighbours."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from crm_ai.knowledge.chunking import ChunkDraft, chunk, display_path
from crm_ai.knowledge.parsing import ParsedDocument, Section, parse
from crm_ai.knowledge.segment import thai_words_of

FIXTURES = Path(__file__).parent / "fixtures"

# Thai sentences are separated by a space; none has a space inside, so any cut at a space is a
# cut between two of them.
THAI_SENTENCES = [
    "คอร์สซูชิพื้นฐานเรียนทั้งหมดสามวันวันละหกชั่วโมง",
    "ผู้เรียนจะได้ฝึกหุงข้าวซูชิและปั้นนิกิริด้วยตัวเอง",
    "ราคาคอร์สหนึ่งหมื่นสองพันเก้าร้อยบาทรวมวัตถุดิบทั้งหมด",
    "สามารถผ่อนชำระได้สามเดือนผ่านบัตรเครดิต",
    "เมื่อเรียนจบจะได้รับประกาศนียบัตรจากโรงเรียน",
    "ห้องเรียนอยู่ใกล้สถานีรถไฟฟ้าอโศกเดินเพียงห้านาที",
    "เชฟชาวญี่ปุ่นสอนเองทุกคลาสพร้อมล่ามภาษาไทย",
    "รับผู้เรียนไม่เกินแปดคนต่อคลาสเพื่อให้เชฟดูแลได้ทั่วถึง",
]


def doc(*sections: Section, language: str = "th") -> ParsedDocument:
    return ParsedDocument(title="t", language=language, media_type="text/markdown", sections=list(sections))


def overlaps(first: ChunkDraft, second: ChunkDraft, limit: int) -> bool:
    """`second` starts with a non-empty end of `first` of at most `limit` characters."""
    return any(
        second.text.startswith(first.text[-n:].lstrip()) and first.text[-n:].strip()
        for n in range(1, min(limit, len(first.text)) + 1)
    )


def test_each_section_is_its_own_chunk_with_its_heading_path() -> None:
    parsed = parse((FIXTURES / "courses.md").read_bytes(), "courses.md")

    drafts = chunk(parsed)

    # Every section would fit one chunk together; they stay apart because their headings differ.
    assert [d.heading_path for d in drafts] == [s.heading_path for s in parsed.sections]
    assert [d.text for d in drafts] == [s.text for s in parsed.sections]
    assert [d.ordinal for d in drafts] == list(range(len(drafts)))


def test_long_thai_paragraph_is_cut_between_sentences_with_overlap() -> None:
    paragraph = " ".join(THAI_SENTENCES * 2)
    path = ("คอร์สซูชิ", "รายละเอียด")

    drafts = chunk(doc(Section(path, paragraph)), budget_chars=300, overlap_chars=120)

    assert len(drafts) >= 4
    sequence = THAI_SENTENCES * 2
    for draft in drafts:
        assert draft.heading_path == path
        assert len(draft.text) <= 300
        # Whole sentences only: the chunk is a run of consecutive sentences of the paragraph.
        parts = draft.text.split(" ")
        assert any(sequence[i : i + len(parts)] == parts for i in range(len(sequence))), draft.text
    for first, second in itertools.pairwise(drafts):
        assert overlaps(first, second, 120)
    # Nothing is lost: every sentence is in some chunk.
    assert all(any(s in d.text for d in drafts) for s in THAI_SENTENCES)


def test_english_paragraph_is_cut_at_sentence_ends() -> None:
    sentences = [f"The sushi course number {n} takes three days and costs 12,900 THB." for n in range(12)]

    drafts = chunk(
        doc(Section(("Courses",), " ".join(sentences)), language="en"), budget_chars=200, overlap_chars=70
    )

    for draft in drafts:
        assert len(draft.text) <= 200
        assert draft.text.startswith("The sushi course number ")
        assert draft.text.endswith("12,900 THB.")
    assert all(any(s in d.text for d in drafts) for s in sentences)


def test_paragraphs_are_kept_whole_before_anything_is_split() -> None:
    paragraphs = [f"ย่อหน้าที่{n} " + "".join(THAI_SENTENCES[n % 8 : n % 8 + 2]) for n in range(8)]

    drafts = chunk(doc(Section(("ข้อมูล",), "\n\n".join(paragraphs))), budget_chars=300, overlap_chars=0)

    assert len(drafts) > 1
    for draft in drafts:
        assert len(draft.text) <= 300
        assert all(p in paragraphs for p in draft.text.split("\n\n"))
    assert "\n\n".join(d.text for d in drafts) == "\n\n".join(paragraphs)


def test_a_sentence_longer_than_the_budget_is_cut_between_words() -> None:
    sentence = "".join(THAI_SENTENCES)  # no space at all
    words = thai_words_of(sentence)

    drafts = chunk(doc(Section(("ยาว",), sentence)), budget_chars=120, overlap_chars=30)

    assert len(drafts) >= 4
    boundaries = {sum(map(len, words[:i])) for i in range(len(words) + 1)}
    position = 0
    for draft in drafts:
        assert len(draft.text) <= 120
        start = sentence.index(draft.text, max(0, position - 30))
        assert start in boundaries
        assert start + len(draft.text) in boundaries
        position = start + len(draft.text)
    assert position == len(sentence)


def test_faq_pairs_stay_whole() -> None:
    parsed = parse((FIXTURES / "faq.json").read_bytes(), "faq.json")

    drafts = chunk(parsed, budget_chars=200, overlap_chars=40)

    assert [(d.heading_path, d.text) for d in drafts] == [(s.heading_path, s.text) for s in parsed.sections]
    assert drafts[0].text.startswith("คอร์สซูชิราคาเท่าไหร่คะ\n\n")


def test_display_path() -> None:
    assert display_path(("คอร์ส", "ซูชิ", "ราคา")) == "คอร์ส › ซูชิ › ราคา"
    assert display_path(()) == ""


def test_overlap_must_leave_room_for_new_text() -> None:
    with pytest.raises(ValueError, match="overlap_chars at most half"):
        chunk(doc(Section((), "x")), budget_chars=100, overlap_chars=80)


def test_sentences_longer_than_the_overlap_are_not_repeated_in_part() -> None:
    paragraph = " ".join(THAI_SENTENCES * 2)

    drafts = chunk(doc(Section((), paragraph)), budget_chars=200, overlap_chars=30)

    sequence = THAI_SENTENCES * 2
    for draft in drafts:
        parts = draft.text.split(" ")
        assert any(sequence[i : i + len(parts)] == parts for i in range(len(sequence))), draft.text
