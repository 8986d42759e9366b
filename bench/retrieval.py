"""Knowledge retrieval on 10,000 chunks, and what the ai adds to a reply apart from Gemini.

Target (issue 13): retrieval (query embedding + hybrid search) p99 <= 20 ms; recall@5 >= 0.9.

The sample knowledge base (`crm_ai/knowledge/sample/documents/`) is parsed, chunked and segmented
by the service's own code (`crm_ai.knowledge.eval.corpus`), then synthetic Thai and English
chunks about courses, rounds, prices and policies fill it up to `--chunks`; all are embedded with
the default local embedder in this run (nothing is cached; nothing is written but the results
JSON) and become one in-memory `index.Snapshot`, the object a replica searches. The questions of
the eval set (`knowledge/eval/questions.jsonl`), cycled, are the queries.

Reported next to each other, all in this run, p50/p99 per query:
- ours: query embedding, Thai/Latin/Japanese segmentation, hybrid search (matrix-vector cosine,
  BM25 with fuzzy expansion, RRF), and their sum (what `Retriever.search` does after its one
  `SELECT generation`, which is not timed here);
- raw baseline: brute-force numpy cosine top-5 over the same vectors (no keywords, no fusion);
- the rest of a reply's own work: catalog matching on the question and passages, prompt
  building (`replies.prompts`), and the guards (`replies.guards`, before and after the model),
  and the ai's total apart from Gemini;
- recall@5 of the eval's answerable questions among the 10,000 chunks (distractors included).

    uv run python -m bench retrieval --chunks 10000 --queries 500
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from crm_ai.catalog.service import PackageItem, Product, pick_mentioned
from crm_ai.config import AiSettings
from crm_ai.knowledge import segment
from crm_ai.knowledge.embeddings import LocalEmbedder
from crm_ai.knowledge.eval.corpus import CATALOG, Chunk, build, embed, is_gold, load_questions, read_documents
from crm_ai.knowledge.retrieval import Passage, Thresholds
from crm_ai.memory.service import Turn
from crm_ai.replies import guards, prompts
from crm_ai.replies.grounding import Grounding

from .loadgen import percentile

# What the model "said", for the guards: a price of a passage it cites.
ANSWER = guards.ModelAnswer(
    answer="คอร์สซูชิพื้นฐานราคา 12,500 บาท เรียน 5 วันค่ะ", used_passages=["P1"], language="th"
)
TARGET_P99_MS = 20.0
TARGET_RECALL = 0.9
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SEED = 13


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chunks", type=int, default=10_000, help="chunks in the index (sample + synthetic)")
    parser.add_argument("--queries", type=int, default=500, help="timed queries (eval questions, cycled)")
    parser.add_argument("--model", choices=["use", "e5"], default="use", help="local embedder")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON goes")


# -- synthetic chunks ---------------------------------------------------------------------------

_TH_COURSES = ["ซูชิ", "ราเมง", "เทมปุระ", "อุด้ง", "โซบะ", "ทงคัตสึ", "ดงบุริ", "เกี๊ยวซ่า", "ยากิโทริ",
               "ไคเซกิ", "โมจิ", "ขนมปังญี่ปุ่น", "ซาชิมิ", "ข้าวปั้น", "แกงกะหรี่ญี่ปุ่น"]  # fmt: skip
_TH_TOPICS = [
    "รอบเดือน{month} เรียน {days} วัน เวลา {h}:00–{h2}:00 น. รับไม่เกิน {n} คน",
    "ค่าเรียน {price:,} บาท รวมวัตถุดิบและสูตรอาหาร ชำระมัดจำก่อนเพื่อจองที่นั่ง",
    "เชฟสาธิตการเตรียม{course}ทีละขั้นตอน ผู้เรียนลงมือทำเองที่สเตชั่นของตัวเอง",
    "ผู้เรียนรุ่นที่ {n} เปิดร้าน{course}ที่{place} หลังเรียนจบ {days} เดือน",
    "วิธีเก็บรักษา{course}ให้สดใหม่ ใช้ภาชนะปิดสนิทและเก็บในตู้เย็นไม่เกิน {days} วัน",
    "กิจกรรมพิเศษเดือน{month}: ชิมสาเกและจับคู่อาหารกับ{course} ที่นั่งจำกัด {n} ที่",
]
_MONTHS = ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม",
           "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"]  # fmt: skip
_PLACES = ["เชียงใหม่", "ขอนแก่น", "ภูเก็ต", "พัทยา", "หัวหิน", "อารีย์", "บางนา", "นนทบุรี"]
_EN_COURSES = ["tempura", "udon", "soba", "tonkatsu", "donburi", "gyoza", "yakitori", "kaiseki", "mochi",
               "Japanese bread", "sashimi", "onigiri", "Japanese curry"]  # fmt: skip
_EN_TOPICS = [
    "The {course} round in {month_en} runs {days} days from {h}:00 to {h2}:00 with at most {n} students.",
    "Students practise {course} at their own station while the chef corrects knife angle and timing.",
    "Our {course} alumni from batch {n} opened a shop in {place_en} {days} months after graduating.",
    "Store {course} in an airtight box in the fridge and eat it within {days} days for the best taste.",
    "A special {month_en} tasting pairs sake with {course}; {n} seats only, booked in the chat.",
]
_EN_MONTHS = ["January", "March", "May", "July", "September", "November"]
_EN_PLACES = ["Chiang Mai", "Phuket", "Pattaya", "Hua Hin", "Khon Kaen"]


def synthetic_chunks(count: int, rng: random.Random) -> list[Chunk]:
    """Course-like Thai (two in three) and English passages, a few sentences each."""
    chunks = []
    for i in range(count):
        thai = i % 3 != 2
        fill = {
            "month": rng.choice(_MONTHS), "month_en": rng.choice(_EN_MONTHS), "days": rng.randint(1, 10),
            "h": rng.randint(8, 13), "h2": rng.randint(15, 19), "n": rng.randint(4, 30),
            "price": rng.randrange(1500, 40000, 100), "place": rng.choice(_PLACES),
            "place_en": rng.choice(_EN_PLACES),
        }  # fmt: skip
        course = rng.choice(_TH_COURSES if thai else _EN_COURSES)
        topics = _TH_TOPICS if thai else _EN_TOPICS
        sentences = [t.format(course=course, **fill) for t in rng.sample(topics, 3)]
        heading = f"คอร์ส{course} ({i})" if thai else f"{course.title()} course ({i})"
        text = " ".join(sentences)
        passage = f"{heading}\n{text}"
        chunks.append(
            Chunk(
                f"synthetic/{i // 20}.md", heading, (heading,), text, passage, tuple(segment.tokens(passage))
            )
        )
    return chunks


# -- the run ------------------------------------------------------------------------------------


def load_catalog() -> list[Product]:
    rows = json.loads(CATALOG.read_text(encoding="utf-8"))
    return [
        Product(
            product_id=uuid.UUID(r["product_id"]),
            kind=r["kind"],
            name_th=r["name_th"],
            name_en=r["name_en"],
            category=r["category"],
            price=Decimal(r["price"]),
            items=tuple(
                PackageItem(uuid.UUID(i["product_id"]), i["name_th"], i["quantity"])
                for i in r.get("items", [])
            ),
        )
        for r in rows
    ]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def main(args: argparse.Namespace) -> int:
    rng = random.Random(SEED)
    questions = load_questions()
    sample = read_documents()
    synthetic = synthetic_chunks(max(0, args.chunks - len(sample)), rng)
    chunks = sample + synthetic
    embedder = LocalEmbedder(args.model, batch_size=64)
    started = time.perf_counter()
    vectors = await embed(embedder, [c.passage for c in chunks])
    embed_s = time.perf_counter() - started
    built = build(chunks, vectors, embedder.dimension)
    snapshot, matrix = built.snapshot, built.snapshot.matrix
    thresholds = Thresholds.from_settings(AiSettings())
    catalog = load_catalog()
    turns = (Turn("customer", "สวัสดีค่ะ สนใจเรียนทำอาหารญี่ปุ่น", datetime.now(UTC)),)
    timings: dict[str, list[float]] = {k: [] for k in _ROWS}
    await embedder.query("warm")
    for i in range(args.queries):
        question = questions[i % len(questions)].question
        stamps = [time.perf_counter()]
        vector = await embedder.query(question)
        stamps.append(time.perf_counter())
        tokens = segment.tokens(question)
        stamps.append(time.perf_counter())
        matches = snapshot.search(vector, tokens, 5)
        stamps.append(time.perf_counter())
        np.argpartition(-(matrix @ vector), 5)[:5]
        stamps.append(time.perf_counter())
        relevant = tuple(p for p in (_passage(m, thresholds) for m in matches) if p.relevant)
        texts = [question, *(t.text for t in turns), *(p.text for p in relevant)]
        products = tuple(pick_mentioned(catalog, texts))
        stamps.append(time.perf_counter())
        grounding = Grounding(turns, relevant, products, {f"P{n}": p for n, p in enumerate(relevant, 1)})
        prompts.system_instruction(grounding)
        prompts.contents(turns, question)
        stamps.append(time.perf_counter())
        guards.before_model(question, grounding)
        guards.after_model(ANSWER, "th", grounding)
        stamps.append(time.perf_counter())
        step = {name: float(ms) for name, ms in zip(_STEPS, np.diff(stamps) * 1000, strict=True)}
        step["retrieval total"] = sum(step[k] for k in _RETRIEVAL)
        step["ai apart from Gemini"] = sum(step[k] for k in _AI)
        for name, ms in step.items():
            timings[name].append(ms)
    recall = await _recall(built, questions, embedder)
    _print(timings, args, len(sample), embed_s, embedder.name, embedder.dimension, recall)
    return 0  # the verdicts above say whether the targets were met; the exit status is for a broken run


# What one query goes through, in order (the raw baseline is timed between two of ours).
_STEPS = ("query embedding", "segmentation", "hybrid search", "raw numpy cosine top-5",
          "catalog matching", "prompt building", "guards")  # fmt: skip
_RETRIEVAL = ("query embedding", "segmentation", "hybrid search")
_AI = ("retrieval total", "catalog matching", "prompt building", "guards")
_ROWS = (*_RETRIEVAL, "retrieval total", "raw numpy cosine top-5", "catalog matching", "prompt building",
         "guards", "ai apart from Gemini")  # fmt: skip


def _passage(m: Any, thresholds: Thresholds) -> Passage:
    return Passage(m.chunk_id, m.document_id, m.document_title, m.heading_path, m.text, m.score,
                   m.vector_score, m.keyword_score, thresholds.relevant(m))  # fmt: skip


async def _recall(built: Any, questions: Any, embedder: LocalEmbedder) -> float:
    answerable = [q for q in questions if q.answerable]
    hits = 0
    for q in answerable:
        matches = built.snapshot.search(await embedder.query(q.question), segment.tokens(q.question), 5)
        hits += any(is_gold(built, m.chunk_id, q) for m in matches)
    return hits / len(answerable)


def _print(
    timings: dict[str, list[float]], args: argparse.Namespace, sample: int, embed_s: float,
    name: str, dimension: int, recall: float,
) -> None:  # fmt: skip
    total = args.chunks if args.chunks > sample else sample
    print(f"{total:,} chunks ({sample} from the sample knowledge base + {total - sample:,} synthetic), "
          f"{name} {dimension} d: embedded in {embed_s:.0f} s ({total / embed_s:.0f} chunks/s)")  # fmt: skip
    print(f"{args.queries} queries (the eval's questions, cycled), in-process, one at a time")
    print(f"{'':34}{'p50 ms':>9}{'p99 ms':>9}")
    for row in _ROWS:
        values = timings[row]
        print(f"{row:34}{percentile(values, 50):>9.2f}{percentile(values, 99):>9.2f}")
    p99 = percentile(timings["retrieval total"], 99)
    raw = percentile(timings["raw numpy cosine top-5"], 99)
    search = percentile(timings["hybrid search"], 99)
    print(f"hybrid search p99 is {search / raw:.1f}x the raw numpy cosine's over the same vectors")
    print(f"retrieval p99 {p99:.1f} ms: target <= {TARGET_P99_MS:.0f} ms "
          f"{'MET' if p99 <= TARGET_P99_MS else 'MISSED'}")  # fmt: skip
    print(f"recall@5 of the eval questions among {total:,} chunks {recall:.3f}: target >= {TARGET_RECALL} "
          f"{'MET' if recall >= TARGET_RECALL else 'MISSED'}")  # fmt: skip
    args.results_dir.mkdir(parents=True, exist_ok=True)
    summary = {row: {"p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99)} for row, v in timings.items()}
    (args.results_dir / f"retrieval-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json").write_text(json.dumps({
        "benchmark": "retrieval", "chunks": total, "embedder": name, "embed_seconds": embed_s,
        "queries": args.queries, "recall_at_5": recall, "timings": summary}, indent=2))  # fmt: skip
