"""`python -m crm_ai.knowledge.eval`: how well retrieval answers the sample questions, per
embedder, per side and per language, and which relevance thresholds to configure.

Builds a fresh in-memory index over `knowledge/sample/documents/` for each local embedder (no
database, nothing written outside the process), runs every question of `eval/questions.jsonl`
and prints recall@5, MRR@5, handover and false handover with the configured thresholds
(`KNOWLEDGE_RELEVANT_*`), then the thresholds calibrated on the hybrid results of each embedder.

    make eval
    uv run python -m crm_ai.knowledge.eval --embedders use --misses
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

from crm_ai.config import AiSettings
from crm_ai.knowledge.embeddings import LocalEmbedder, LocalModel
from crm_ai.knowledge.eval.corpus import QUESTIONS, build, check_gold, embed, load_questions, read_documents
from crm_ai.knowledge.eval.evaluate import K, Outcome, Scores, Side, by_language, calibrate, run
from crm_ai.knowledge.retrieval import Thresholds

TARGET_RECALL = 0.9


def _row(label: str, lang: str, s: Scores) -> str:
    return (
        f"{label:<18}{lang:<5}{s.answerable:>4}{s.recall:>10.3f}{s.mrr:>8.3f}"
        f"{s.unanswerable:>7}{s.handover:>10.0%}{s.false_handover:>12.0%}"
    )


def _print_table(results: dict[str, dict[str, Scores]]) -> None:
    print(f"{'embedder / side':<18}{'lang':<5}{'n':>4}{'recall@5':>10}{'MRR@5':>8}"
          f"{'n un':>7}{'handover':>10}{'false h/o':>12}")  # fmt: skip
    for label, languages in results.items():
        for lang, s in languages.items():
            print(_row(label, lang, s))


def _misses(label: str, outcomes: Sequence[Outcome]) -> None:
    missed = [o for o in outcomes if o.question.answerable and o.rank is None]
    print(f"\n{label}: {len(missed)} answerable questions without gold in the top {K}")
    for o in missed:
        top = ", ".join(f"{m.document_title[:24]}" for m in o.matches[:3])
        print(f"  {o.question.id:<8} {o.question.question[:48]:<48} -> {top}")


async def main(args: argparse.Namespace) -> int:
    questions = load_questions(args.questions)
    chunks = read_documents()
    broken = check_gold(chunks, questions)
    if broken:
        print("gold passages that match no chunk:\n  " + "\n  ".join(broken), file=sys.stderr)
        return 2
    configured = Thresholds.from_settings(AiSettings())
    answerable = sum(q.answerable for q in questions)
    print(f"{len(chunks)} chunks from the sample knowledge base; {len(questions)} questions "
          f"({answerable} answerable, {len(questions) - answerable} not)")  # fmt: skip
    print(f"configured thresholds: {configured}\n")
    results: dict[str, dict[str, Scores]] = {}
    hybrid: dict[str, list[Outcome]] = {}
    keyword_done = False
    for key in args.embedders:
        embedder = LocalEmbedder(cast(LocalModel, key))
        started = time.perf_counter()
        vectors = await embed(embedder, [c.passage for c in chunks])
        built = build(chunks, vectors, embedder.dimension)
        print(f"{key}: {len(chunks)} chunks embedded in {time.perf_counter() - started:.1f} s")
        sides: list[Side] = ["hybrid", "vector"] if keyword_done else ["hybrid", "vector", "keyword"]
        for side in sides:
            outcomes = await run(built, questions, side, embedder)
            label = "keyword only" if side == "keyword" else f"{key} {side}"
            results[label] = by_language(outcomes, configured)
            if side == "hybrid":
                hybrid[key] = outcomes
            if args.misses and side == "hybrid":
                _misses(label, outcomes)
        keyword_done = True
    print()
    _print_table(results)
    calibrated: dict[str, Any] = {}
    print("\nthresholds calibrated on the hybrid results, at a few false handover ceilings "
          "(in-sample, so expect a little worse on new questions):")  # fmt: skip
    for key, outcomes in hybrid.items():
        limits = sorted({0.05, 0.10, 0.20, args.max_false_handover})
        for limit, c in zip(limits, calibrate(outcomes, limits), strict=True):
            calibrated.setdefault(key, {})[f"{limit:.2f}"] = asdict(c)
            print(f"  {key} (false <= {limit:.0%}): {c.thresholds} -> "
                  f"handover {c.handover:.0%}, false handover {c.false_handover:.0%}")  # fmt: skip
    for key, outcomes in hybrid.items():
        recall = by_language(outcomes, configured)["all"].recall
        verdict = "MET" if recall >= TARGET_RECALL else "MISSED"
        print(f"{key} hybrid recall@5 {recall:.3f}: target >= {TARGET_RECALL} {verdict}")
    if args.json:
        payload = {
            "results": {
                label: {lang: asdict(s) for lang, s in langs.items()} for label, langs in results.items()
            },
            "calibrated": calibrated,
            "configured": asdict(configured),
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m crm_ai.knowledge.eval", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--embedders", type=lambda s: s.split(","), default=["use", "e5"],
                        help="local models to compare, comma-separated (default: use,e5)")  # fmt: skip
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--max-false-handover", type=float, default=0.10)
    parser.add_argument("--misses", action="store_true", help="list the questions without gold in the top 5")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
