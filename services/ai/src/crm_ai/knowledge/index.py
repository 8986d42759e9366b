"""The in-memory hybrid index one replica searches (no round trip per query).

A snapshot holds every chunk of one knowledge generation: a float32 matrix of their embeddings
(exact cosine: one matrix-vector product), BM25 (bm25s) over the tokens `segment.tokens` gave at
indexing, and the vocabulary for typo and transliteration tolerance: a query token the documents
never use (or a run of short pieces the Thai segmenter split an unknown word into, คอส -> คอ + ส)
is expanded to vocabulary tokens that are close in characters (rapidfuzz, คอส -> คอร์ส), and a
query word the school glossary knows to its other-language words (มีด -> knife), since a Thai
question cannot share a word with an English page otherwise. The two
rankings are fused by reciprocal rank fusion. `refresh` costs one SELECT while the generation has
not moved; when it has, only documents whose chunks changed are read again, and the new snapshot
replaces the old one whole, so a search sees one generation, never a mix of two.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import bm25s
import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy.ext.asyncio import AsyncSession

from crm_ai.knowledge import repository as repo
from crm_ai.knowledge import segment

RRF_K = 60
# A word the glossary gives for a query word (the same idea in another language or spelling,
# `segment.equivalents`) counts for this share of an exact match.
GLOSSARY_WEIGHT = 0.8
# How many of each ranking take part in the fusion.
CANDIDATES = 50
# A vocabulary token at least this close (rapidfuzz ratio, 0-100) stands in for an unknown one...
FUZZY_CUTOFF = 75.0
# ...counting for this share of an exact match at most.
FUZZY_WEIGHT = 0.8
FUZZY_MIN_CHARS = 3
# Pieces of an unknown word newmm falls back to are short; runs of up to this many are joined.
JOIN_MAX = 3
# Bounds on the work of one query (a long message): unknown tokens looked up, cached lookups.
MAX_UNKNOWN = 8
EXPANSION_CACHE = 4096


@dataclass(frozen=True)
class DocumentChunks:
    chunks_generation: int
    title: str
    ids: list[uuid.UUID]
    heading_paths: list[tuple[str, ...]]
    texts: list[str]
    tokens: list[list[str]]
    embeddings: np.ndarray  # (k, dim) float32; zero rows where another embedder made the chunk


@dataclass(frozen=True)
class Match:
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_title: str
    heading_path: tuple[str, ...]
    text: str
    score: float
    vector_score: float
    keyword_score: float


class Snapshot:
    """Every chunk of one generation, ready to search (built off the event loop)."""

    def __init__(
        self, generation: int, documents: Mapping[uuid.UUID, DocumentChunks], dimension: int
    ) -> None:
        self.generation = generation
        self.documents = dict(documents)
        self.chunk_ids: list[uuid.UUID] = []
        self.document_ids: list[uuid.UUID] = []
        self.heading_paths: list[tuple[str, ...]] = []
        self.texts: list[str] = []
        corpus: list[list[str]] = []
        matrices = []
        for document_id, doc in self.documents.items():
            self.chunk_ids += doc.ids
            self.document_ids += [document_id] * len(doc.ids)
            self.heading_paths += doc.heading_paths
            self.texts += doc.texts
            corpus += doc.tokens
            matrices.append(doc.embeddings)
        self.size = len(self.chunk_ids)
        self.matrix = (
            np.ascontiguousarray(np.concatenate(matrices), dtype=np.float32)
            if matrices
            else np.zeros((0, dimension), dtype=np.float32)
        )
        # Rows with a vector of this embedder (chunks of another one wait for re-embedding).
        self.vector_rows = np.flatnonzero(np.any(self.matrix != 0, axis=1))
        self.bm25: bm25s.BM25 | None = None
        self.vocabulary: set[str] = set()
        if self.size:
            self.bm25 = bm25s.BM25()
            self.bm25.index(corpus, show_progress=False)
            self.vocabulary = {t for t in self.bm25.vocab_dict if t}
        self._near_words = _CharacterPairs(sorted(self.vocabulary))
        # A customer's typo is often someone else's too: each is looked up once per snapshot.
        self._expansions: dict[str, list[tuple[str, float]]] = {}

    def title(self, row: int) -> str:
        return self.documents[self.document_ids[row]].title

    def expand(self, tokens: Sequence[str]) -> dict[str, float]:
        """Query tokens the documents use (weight 1), and close vocabulary tokens for the rest."""
        weights: dict[str, float] = {}
        unknown: list[str] = []
        for token in tokens:
            if token in self.vocabulary:
                weights[token] = 1.0
            elif len(token) >= FUZZY_MIN_CHARS:
                unknown.append(token)
        for n in range(2, JOIN_MAX + 1):
            for i in range(len(tokens) - n + 1):
                run = tokens[i : i + n]
                if all(p in self.vocabulary for p in run):
                    continue
                joined = "".join(run)
                if joined in self.vocabulary:
                    weights[joined] = 1.0
                else:
                    unknown.append(joined)
        for group in segment.equivalents(tokens):
            for token in group:
                if token in self.vocabulary:
                    weights[token] = max(weights.get(token, 0.0), GLOSSARY_WEIGHT)
        for token in list(dict.fromkeys(unknown))[:MAX_UNKNOWN]:
            if token not in self._expansions:
                if len(self._expansions) >= EXPANSION_CACHE:
                    self._expansions.clear()
                self._expansions[token] = self._near_words.near(token)
            for match, similarity in self._expansions[token]:
                weights[match] = max(weights.get(match, 0.0), FUZZY_WEIGHT * similarity / 100.0)
        return weights

    def keyword_scores(self, weights: Mapping[str, float]) -> np.ndarray:
        scores = np.zeros(self.size, dtype=np.float32)
        if self.bm25 is not None:
            for token, weight in weights.items():
                scores += weight * self.bm25.get_scores([token]).astype(np.float32)
        return scores

    def search(self, query_vector: np.ndarray | None, tokens: Sequence[str], limit: int) -> list[Match]:
        if not self.size or limit <= 0:
            return []
        vector = (
            self.matrix @ query_vector.astype(np.float32)
            if query_vector is not None and query_vector.shape[0] == self.matrix.shape[1]
            else np.zeros(self.size, dtype=np.float32)
        )
        keyword = self.keyword_scores(self.expand(tokens))
        fused = np.zeros(self.size, dtype=np.float64)
        if query_vector is not None:
            _add_ranks(fused, vector, self.vector_rows)
        _add_ranks(fused, keyword, np.flatnonzero(keyword > 0))
        top = _top(fused, np.flatnonzero(fused > 0), limit)
        return [
            Match(
                chunk_id=self.chunk_ids[row],
                document_id=self.document_ids[row],
                document_title=self.title(row),
                heading_path=self.heading_paths[row],
                text=self.texts[row],
                score=float(fused[row]),
                vector_score=float(vector[row]),
                keyword_score=float(keyword[row]),
            )
            for row in top
        ]


class _CharacterPairs:
    """Vocabulary tokens by the character pairs they contain: a lookup compares only the tokens
    that share a pair with the query token and whose length could reach the cutoff (a ratio of
    75 needs the shorter at least 3/5 of the longer), not the whole vocabulary."""

    def __init__(self, vocabulary: list[str]) -> None:
        self.vocabulary = vocabulary
        self.lengths = np.array([len(t) for t in vocabulary], dtype=np.int32)
        postings: dict[str, list[int]] = {}
        for i, token in enumerate(vocabulary):
            for pair in _pairs(token):
                postings.setdefault(pair, []).append(i)
        self.postings = {pair: np.array(ids, dtype=np.int32) for pair, ids in postings.items()}

    def near(self, token: str) -> list[tuple[str, float]]:
        found = [self.postings[p] for p in _pairs(token) if p in self.postings]
        if not found:
            return []
        ids = np.unique(np.concatenate(found))
        lengths = self.lengths[ids]
        ids = ids[(lengths * 5 >= len(token) * 3) & (lengths * 3 <= len(token) * 5)]
        pool = [self.vocabulary[i] for i in ids]
        matches = process.extract(token, pool, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=3)
        return [(match, float(score)) for match, score, _ in matches]


def _pairs(token: str) -> set[str]:
    return {token[i : i + 2] for i in range(len(token) - 1)}


def _top(scores: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """`rows` with the k highest `scores`, best first (no sort of the whole array)."""
    if rows.size > k:
        rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
    return rows[np.argsort(-scores[rows], kind="stable")]


def _add_ranks(fused: np.ndarray, scores: np.ndarray, rows: np.ndarray) -> None:
    best = _top(scores, rows, CANDIDATES)
    fused[best] += 1.0 / (RRF_K + np.arange(1, best.size + 1))


def document_chunks(
    generation: int, title: str, rows: Sequence[Any], embedder: str, dimension: int
) -> DocumentChunks:
    embeddings = np.zeros((len(rows), dimension), dtype=np.float32)
    for i, row in enumerate(rows):
        vector = np.frombuffer(row.embedding, dtype=np.float32)
        if row.embedder == embedder and vector.shape[0] == dimension:
            embeddings[i] = vector
    return DocumentChunks(
        chunks_generation=generation,
        title=title,
        ids=[row.id for row in rows],
        heading_paths=[tuple(row.heading_path) for row in rows],
        texts=[row.text for row in rows],
        tokens=[row.tokens.split() for row in rows],
        embeddings=embeddings,
    )


class KnowledgeIndex:
    """One per replica. `refresh` before searching; `snapshot` is what a search reads."""

    def __init__(self, embedder: str, dimension: int) -> None:
        self.embedder = embedder
        self.dimension = dimension
        self.snapshot = Snapshot(-1, {}, dimension)
        self._lock = asyncio.Lock()

    async def refresh(self, session: AsyncSession) -> bool:
        """Reload what changed since the snapshot's generation; False (one SELECT) when nothing did."""
        if await repo.generation(session) == self.snapshot.generation:
            return False
        async with self._lock:
            if await repo.generation(session) == self.snapshot.generation:
                return False  # another search reloaded it meanwhile
            generation, documents = await self._read(session)
            self.snapshot = await asyncio.to_thread(Snapshot, generation, documents, self.dimension)
            return True

    async def _read(self, session: AsyncSession) -> tuple[int, dict[uuid.UUID, DocumentChunks]]:
        """Documents and the chunks that changed, of one generation: each statement reports the
        generation it saw; if a change landed between them, read again."""
        old = self.snapshot.documents
        while True:
            docs = await repo.documents_for_index(session)
            generation = int(docs[0].generation)
            present = [d for d in docs if d.id is not None]
            changed = [
                d.id for d in present if d.id not in old or old[d.id].chunks_generation != d.chunks_generation
            ]
            rows = await repo.chunks_for_index(session, changed) if changed else []
            if changed and (not rows or int(rows[0].generation) != generation):
                continue
            by_document: dict[uuid.UUID, list[Any]] = {}
            for row in rows:
                by_document.setdefault(row.document_id, []).append(row)
            documents: dict[uuid.UUID, DocumentChunks] = {}
            for d in present:
                if d.id in by_document:
                    documents[d.id] = document_chunks(
                        int(d.chunks_generation), d.title, by_document[d.id], self.embedder, self.dimension
                    )
                elif d.id in old:
                    kept = old[d.id]
                    documents[d.id] = kept if kept.title == d.title else replace(kept, title=d.title)
            return generation, documents
