"""The sample knowledge base, indexed in memory the way the service indexes it, and the questions.

The eval and the retrieval bench need an index without a database: each file of
`sample/documents/` goes through the service's own parser and chunker, each chunk through
`indexing.passage_text`, `segment.tokens` and the embedder, and the chunks of one generation
become an `index.Snapshot`, the object a replica searches. So what is measured is the code that
answers customers, only the SQL round trips aside. A gold passage is named by its document's
source name and a substring of its text (whitespace ignored), which survives any re-chunking;
`check_gold` refuses a question set whose gold no longer matches any chunk.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crm_ai.knowledge import chunking, parsing, segment
from crm_ai.knowledge.embeddings import Embedder
from crm_ai.knowledge.index import DocumentChunks, Snapshot
from crm_ai.knowledge.indexing import passage_text

SAMPLE = Path(__file__).resolve().parent.parent / "sample"
DOCUMENTS = SAMPLE / "documents"
CATALOG = SAMPLE / "catalog.json"
QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"
EMBED_BATCH = 32
_SPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """Whitespace out: the chunker may join or break lines, and Thai has no spaces to rely on."""
    return _SPACE.sub("", text)


@dataclass(frozen=True)
class Gold:
    source: str
    contains: str


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    question: str
    answerable: bool
    gold: tuple[Gold, ...]


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        gold = tuple(Gold(g["source"], g["contains"]) for g in row.get("gold", []))
        if row["answerable"] != bool(gold):
            raise ValueError(f"question {row['id']}: answerable questions need gold, the others none")
        questions.append(Question(row["id"], row["lang"], row["question"], row["answerable"], gold))
    return questions


@dataclass(frozen=True)
class Chunk:
    """One chunk as the index holds it, with the source name the eval matches gold against."""

    source: str
    title: str
    heading_path: tuple[str, ...]
    text: str
    passage: str  # what was embedded and segmented: headings + text
    tokens: tuple[str, ...]


def read_documents(folder: Path = DOCUMENTS) -> list[Chunk]:
    """Every file of `folder` parsed, chunked and segmented (no embedding yet)."""
    chunks: list[Chunk] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        source = path.relative_to(folder).as_posix()
        parsed = parsing.parse(path.read_bytes(), path.name)
        for draft in chunking.chunk(parsed):
            heading_path = tuple(draft.heading_path)
            passage = passage_text(heading_path, draft.text)
            chunks.append(
                Chunk(
                    source=source,
                    title=parsed.title or path.stem,
                    heading_path=heading_path,
                    text=draft.text,
                    passage=passage,
                    tokens=tuple(segment.tokens(passage)),
                )
            )
    return chunks


async def embed(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    parts = [
        await embedder.documents(list(texts[i : i + EMBED_BATCH])) for i in range(0, len(texts), EMBED_BATCH)
    ]
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


@dataclass(frozen=True)
class Built:
    snapshot: Snapshot
    source_of: dict[uuid.UUID, str]  # chunk id -> source name
    passage_of: dict[uuid.UUID, str]  # chunk id -> squeezed passage text, for gold matching


def build(chunks: Sequence[Chunk], vectors: np.ndarray, dimension: int) -> Built:
    """One generation holding `chunks` (one document per source), as `KnowledgeIndex` builds it."""
    by_source: dict[str, list[int]] = {}
    for row, c in enumerate(chunks):
        by_source.setdefault(c.source, []).append(row)
    documents: dict[uuid.UUID, DocumentChunks] = {}
    source_of: dict[uuid.UUID, str] = {}
    passage_of: dict[uuid.UUID, str] = {}
    for source, rows in by_source.items():
        ids = [uuid.uuid4() for _ in rows]
        for chunk_id, row in zip(ids, rows, strict=True):
            source_of[chunk_id] = source
            passage_of[chunk_id] = squeeze(chunks[row].passage)
        documents[uuid.uuid5(uuid.NAMESPACE_URL, source)] = DocumentChunks(
            chunks_generation=1,
            title=chunks[rows[0]].title,
            ids=ids,
            heading_paths=[chunks[r].heading_path for r in rows],
            texts=[chunks[r].text for r in rows],
            tokens=[list(chunks[r].tokens) for r in rows],
            embeddings=vectors[rows] if len(vectors) else np.zeros((len(rows), dimension), np.float32),
        )
    return Built(Snapshot(1, documents, dimension), source_of, passage_of)


def is_gold(built: Built, chunk_id: uuid.UUID, question: Question) -> bool:
    source, passage = built.source_of[chunk_id], built.passage_of[chunk_id]
    return any(g.source == source and squeeze(g.contains) in passage for g in question.gold)


def check_gold(chunks: Sequence[Chunk], questions: Sequence[Question]) -> list[str]:
    """Gold references that match no chunk (a renamed file, an edited sentence): must be none."""
    passages = [(c.source, squeeze(c.passage)) for c in chunks]
    return [
        f"{q.id}: {g.source} / {g.contains!r}"
        for q in questions
        for g in q.gold
        if not any(s == g.source and squeeze(g.contains) in p for s, p in passages)
    ]
