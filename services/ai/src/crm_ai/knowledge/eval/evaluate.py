"""Retrieval quality on the sample knowledge base: recall@k, MRR@k and the handover decision.

Each question is searched the way a reply searches (`Snapshot.search`, k = 5) on one side or
both: `hybrid` (vector + keywords fused, what customers get), `vector` only, `keyword` only.
- recall@k: share of answerable questions with a gold passage among the k results (gold passages
  are alternatives: any one is enough to answer);
- MRR@k: mean of 1/rank of the first gold passage (0 when none is in the k);
- handover: share of unanswerable questions with no `relevant` passage among the k (the reply
  guard then hands over honestly); false handover: the same share among answerable questions.
`calibrate` searches the relevance thresholds that best separate the two on the hybrid results.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from crm_ai.knowledge import segment
from crm_ai.knowledge.embeddings import Embedder
from crm_ai.knowledge.eval.corpus import Built, Question, is_gold
from crm_ai.knowledge.index import Match
from crm_ai.knowledge.retrieval import Thresholds

Side = Literal["hybrid", "vector", "keyword"]
K = 5


@dataclass(frozen=True)
class Outcome:
    question: Question
    matches: tuple[Match, ...]
    rank: int | None  # 1-based rank of the first gold passage among the k, None when absent


async def run(
    built: Built, questions: Sequence[Question], side: Side, embedder: Embedder | None = None, k: int = K
) -> list[Outcome]:
    if side != "keyword" and embedder is None:
        raise ValueError(f"the {side} side needs an embedder")
    outcomes = []
    for q in questions:
        vector = await embedder.query(q.question) if embedder is not None and side != "keyword" else None
        tokens = await asyncio.to_thread(segment.tokens, q.question) if side != "vector" else []
        matches = tuple(built.snapshot.search(vector, tokens, k))
        rank = next((i for i, m in enumerate(matches, 1) if is_gold(built, m.chunk_id, q)), None)
        outcomes.append(Outcome(q, matches, rank))
    return outcomes


@dataclass(frozen=True)
class Scores:
    answerable: int
    recall: float
    mrr: float
    unanswerable: int
    handover: float  # unanswerable questions handed over (good)
    false_handover: float  # answerable questions handed over (bad)


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def handed_over(outcome: Outcome, thresholds: Thresholds) -> bool:
    return not any(thresholds.relevant(m) for m in outcome.matches)


def score(outcomes: Iterable[Outcome], thresholds: Thresholds) -> Scores:
    outcomes = list(outcomes)
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    return Scores(
        answerable=len(answerable),
        recall=_share([o.rank is not None for o in answerable]),
        mrr=sum(1 / o.rank for o in answerable if o.rank) / len(answerable) if answerable else float("nan"),
        unanswerable=len(unanswerable),
        handover=_share([handed_over(o, thresholds) for o in unanswerable]),
        false_handover=_share([handed_over(o, thresholds) for o in answerable]),
    )


def by_language(outcomes: Sequence[Outcome], thresholds: Thresholds) -> dict[str, Scores]:
    languages = sorted({o.question.lang for o in outcomes}, key=["th", "en", "ja"].index)
    result = {lang: score((o for o in outcomes if o.question.lang == lang), thresholds) for lang in languages}
    result["all"] = score(outcomes, thresholds)
    return result


# -- calibration --------------------------------------------------------------------------------

# Wide enough for both models: USE cosines of related texts sit around 0.3-0.5, e5's around 0.85.
VECTOR_GRID = np.round(np.arange(0.15, 0.901, 0.025), 3)
WITH_KEYWORDS_GRID = np.round(np.arange(0.05, 0.851, 0.05), 3)
SUPPORT_GRID = np.round(np.arange(0.5, 6.01, 0.5), 2)
KEYWORD_GRID = np.round(np.arange(2.0, 20.01, 1.0), 1)


@dataclass(frozen=True)
class Calibration:
    thresholds: Thresholds
    handover: float
    false_handover: float


def calibrate(outcomes: Sequence[Outcome], ceilings: Sequence[float] = (0.10,)) -> list[Calibration]:
    """For each ceiling on false handovers, the thresholds handing over the most unanswerable
    questions (ties: fewer false handovers, then the most permissive values, which hold up better
    on questions the set does not have)."""
    rows = len(outcomes)
    vector = np.full((rows, K), -np.inf)
    keyword = np.full((rows, K), -np.inf)
    for i, o in enumerate(outcomes):
        for j, m in enumerate(o.matches[:K]):
            vector[i, j], keyword[i, j] = m.vector_score, m.keyword_score
    answerable = np.array([o.question.answerable for o in outcomes])
    # (support, keyword, question, match): every support/keyword pair at once for one v, vk.
    kw_alone = keyword[None, None] >= KEYWORD_GRID[None, :, None, None]
    kw_support = keyword[None, None] >= SUPPORT_GRID[:, None, None, None]
    best: dict[float, tuple[tuple[float, ...], Calibration]] = {}
    for v, vk in itertools.product(VECTOR_GRID, WITH_KEYWORDS_GRID):
        if vk > v:
            continue
        relevant = ((vector >= v) | kw_alone | ((vector >= vk) & kw_support)).any(axis=-1)
        handover = (
            (~relevant[..., ~answerable]).mean(axis=-1) if (~answerable).any() else 0 * relevant[..., 0]
        )
        false = (~relevant[..., answerable]).mean(axis=-1)
        for ceiling in ceilings:
            allowed = np.argwhere(false <= ceiling)
            for s_i, k_i in allowed:
                ks, kw = SUPPORT_GRID[s_i], KEYWORD_GRID[k_i]
                key = (float(handover[s_i, k_i]), -float(false[s_i, k_i]), -v, -kw, -vk, -ks)
                if ceiling not in best or key > best[ceiling][0]:
                    thresholds = Thresholds(float(v), float(vk), float(ks), float(kw))
                    best[ceiling] = (key, Calibration(thresholds, key[0], -key[1]))
    missing = [c for c in ceilings if c not in best]
    if missing:
        raise ValueError(f"no thresholds keep false handovers under {missing}")
    return [best[c][1] for c in ceilings]
