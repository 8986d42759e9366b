"""Retrieval quality as customers meet it: the eval set on the sample knowledge base.

The whole eval (`python -m crm_ai.knowledge.eval`, about 100 questions) runs on the default
local embedder with the configured relevance thresholds, and its figures must stay at the levels
the system reaches today (a regression guard, not the targets: see `make eval` for those).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from crm_ai.config import AiSettings
from crm_ai.knowledge.embeddings import LocalEmbedder
from crm_ai.knowledge.eval.corpus import (
    CATALOG,
    DOCUMENTS,
    Built,
    Gold,
    Question,
    build,
    check_gold,
    embed,
    load_questions,
    read_documents,
    squeeze,
)
from crm_ai.knowledge.eval.evaluate import Outcome, by_language, run
from crm_ai.knowledge.retrieval import Thresholds

# Measured on this set (use, hybrid): recall@5 0.977 (th 0.984, en 0.938, ja 1.0), MRR@5 0.762;
# each floor allows about one more miss.
MIN_RECALL = {"th": 0.94, "en": 0.87, "ja": 0.87, "all": 0.94}
MIN_MRR = 0.72
# Measured with the configured thresholds: 36% of unanswerable questions handed over by retrieval
# alone (the model's own needs_human is the second guard), 3% of answerable ones by mistake.
MIN_HANDOVER = 0.28
MAX_FALSE_HANDOVER = 0.05


@pytest.fixture(scope="module")
def questions() -> list[Question]:
    return load_questions()


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder("use")


@pytest.fixture(scope="module")
async def built(embedder: LocalEmbedder) -> Built:
    chunks = read_documents()
    return build(chunks, await embed(embedder, [c.passage for c in chunks]), embedder.dimension)


@pytest.fixture(scope="module")
async def outcomes(built: Built, embedder: LocalEmbedder, questions: list[Question]) -> list[Outcome]:
    return await run(built, questions, "hybrid", embedder)


def test_the_eval_set_covers_the_languages_and_every_gold_passage_exists(questions: list[Question]) -> None:
    counts = Counter(q.lang for q in questions)
    assert len(questions) >= 70
    assert (counts["th"], counts["en"], counts["ja"]) >= (45, 12, 6)
    assert sum(not q.answerable for q in questions) >= 10
    # An edited sentence or a renamed file would silently turn a question into a miss.
    assert check_gold(read_documents(), questions) == []


def test_documents_quote_the_catalog_prices_but_one_deliberately_stale_price() -> None:
    catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
    documents = {p.name: squeeze(p.read_text(encoding="utf-8")) for p in DOCUMENTS.iterdir()}
    everything = "".join(documents.values())
    quoted = {p["name_en"]: f"{int(float(p['price'])):,}" for p in catalog}
    # The one stale price, for the "catalog wins" rule: the ramen page still says 14,900.
    assert quoted.pop("Ramen Course") == "15,900"
    assert "15,900" not in documents["ramen.md"]
    assert "คอร์สราเมงราคา14,900บาท" in documents["ramen.md"]
    quoted.pop("V School Apron")  # sold at the counter, in no document
    assert {name: price for name, price in quoted.items() if price not in everything} == {}


async def test_customer_questions_find_their_gold_passage_in_the_top_five(outcomes: list[Outcome]) -> None:
    scores = by_language(outcomes, Thresholds.from_settings(AiSettings()))
    recall = {lang: round(s.recall, 3) for lang, s in scores.items()}
    assert all(recall[lang] >= floor for lang, floor in MIN_RECALL.items()), recall
    assert scores["all"].mrr >= MIN_MRR


async def test_questions_the_school_cannot_answer_are_handed_over(outcomes: list[Outcome]) -> None:
    overall = by_language(outcomes, Thresholds.from_settings(AiSettings()))["all"]
    assert overall.handover >= MIN_HANDOVER, overall
    assert overall.false_handover <= MAX_FALSE_HANDOVER, overall


@pytest.mark.parametrize(
    ("question", "source", "contains"),
    [
        # Thai questions, English pages: only the glossary lets the words meet.
        ("ใครสอนเวิร์กช็อปมีดคะ", "teachers.md", "knife skills workshop"),
        ("ทีมบิลดิ้งต้องจองล่วงหน้ากี่อาทิตย์", "corporate-private.md", "Book at least 3 weeks ahead"),
        ("ผู้ช่วยเชฟเป็นคนไทยไหม", "teachers.md", "Thai assistant chef"),
        # English questions, Thai pages.
        ("how much deposit do i need to book a seat", "payment.md", "วางมัดจำ 3,000 บาท"),
        ("Can I postpone my class to another round?", "refund-policy.txt", "เลื่อนรอบได้ฟรี 1 ครั้ง"),
    ],
)
async def test_questions_outside_the_set_reach_pages_in_another_language(
    built: Built, embedder: LocalEmbedder, question: str, source: str, contains: str
) -> None:
    asked = Question("extra", "th", question, True, (Gold(source, contains),))
    [outcome] = await run(built, [asked], "hybrid", embedder)
    assert outcome.rank is not None, [m.document_title for m in outcome.matches]
