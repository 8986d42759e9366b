"""Dashboard answers made once and served as bytes while their files stay as they were.

An answer (`summary_of`, `daily_of`, `monthly_of`, `campaigns_of`) is made from the snapshot files
the first time it is asked for, serialized once, and kept in the store's `AnswerCache` under the
question (route, range, attribution, cohort window, Bangkok day) with the version of every file it
read, and every file it looked for and did not find. Asked again, it is served from there after
one `stat` per file: a file added, removed, replaced or rewritten makes it again, so an answer
never shows a figure its files no longer hold.

How current it is (`Freshness`: the heartbeat, `Age`, `stale`) is worked out on every request, as
before: the answer's bytes are kept without those fields, and the request's are put in front of
them. The bytes are those FastAPI would send for the model (`TypeAdapter.dump_json`, the fields in
the model's order, `Freshness`'s first), so the route returns them as they are.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from fastapi import Response
from pydantic import TypeAdapter

from crm_contracts import RefreshReason
from crm_contracts.analytics import RENDER_STATE_PATH, RenderState

from .schemas import Freshness
from .service import Ask, Reading, freshness
from .snapshots import Answer, FileProblem, SnapshotStore

F = TypeVar("F", bound=Freshness)
FRESHNESS_FIELDS = set(Freshness.model_fields)  # never changed
_FRESHNESS = TypeAdapter(Freshness)


@cache
def _adapter(model: type[Freshness]) -> TypeAdapter[Any]:
    return TypeAdapter(model)


@dataclass(frozen=True)
class _Made:
    """What an answer's freshness needs from the files it was made of."""

    generated_at: datetime | None
    last_event_at: datetime | None
    problems: tuple[FileProblem, ...]


@dataclass(frozen=True)
class Served:
    """An answer's JSON as sent, with what the route needs of its freshness."""

    body: bytes
    age_seconds: int | None
    stale_reason: RefreshReason | None

    def response(self) -> Response:
        """The answer, with `Age` when its age is known."""
        headers = {"Age": str(self.age_seconds)} if self.age_seconds is not None else None
        return Response(self.body, media_type="application/json", headers=headers)


async def answer(store: SnapshotStore, ask: Ask, make: Callable[..., F], *args: Any) -> Served:
    """`make(reading, ask, *args)`'s answer: from the cache while its files are unchanged (a
    `stat` per file and the heartbeat read on the loop: cheaper than a hop to a thread), made in a
    worker thread otherwise (`serve`), so adding up files never blocks the loop."""
    kept = store.answers.get(_key(ask, make, args))
    if kept is not None:
        return _served(store, ask, kept)
    return await asyncio.to_thread(serve, store, ask, make, *args)


def _key(ask: Ask, make: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...]:
    return (make.__module__, make.__qualname__, ask.attribution, ask.window, ask.today, *args)


def serve(store: SnapshotStore, ask: Ask, make: Callable[..., F], *args: Any) -> Served:
    """`make(reading, ask, *args)`'s answer, from the cache while its files are unchanged. Blocking."""
    key = _key(ask, make, args)
    answer = store.answers.get(key)
    if answer is None:
        reading = Reading(store)
        made = make(reading, ask, *args)
        answer = Answer(
            _adapter(type(made)).dump_json(made, exclude=FRESHNESS_FIELDS),
            tuple((os.path.join(store.root, relative), v) for relative, v in reading.versions.items()),
            _Made(reading.generated_at, reading.last_event_at, tuple(reading.problems)),
        )
        store.answers.put(key, answer)
    return _served(store, ask, answer)


def _served(store: SnapshotStore, ask: Ask, answer: Answer) -> Served:
    """The answer's bytes with this request's freshness in front. Blocking (the heartbeat file)."""
    meta: _Made = answer.meta
    problems = list(meta.problems)
    state = store.load(RENDER_STATE_PATH, RenderState, problems)
    fresh = freshness(meta.generated_at, meta.last_event_at, problems, state, ask)
    head = _FRESHNESS.dump_json(Freshness(**fresh))
    return Served(head[:-1] + b"," + answer.body[1:], fresh["age_seconds"], fresh["stale_reason"])
