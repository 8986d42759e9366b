"""The replica's recent changes and the browsers listening for them.

Every change gets the next number of this process's `generation` (a random id of the process's
life, and of its broker connection): a browser's resume cursor is `<generation>:<number>`. A
cursor of this generation still within the last `capacity` changes is resumed exactly (what
happened meanwhile is sent first); any other (another replica, a restart, a reconnection to the
broker during which changes may have been missed, a cursor too old) gets `reset`: the browser
refetches what it shows. A browser that cannot keep up (its `backlog` full) gets `reset` too,
instead of holding memory for it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Change:
    number: int
    topic: str
    data: bytes
    """The `data:` line's JSON (ids and flags only: no names, no message text)."""


RESET = Change(0, "", b"{}")


@dataclass(eq=False)
class Listener:
    topics: frozenset[str]
    queue: asyncio.Queue[Change] = field(default_factory=lambda: asyncio.Queue(maxsize=1))

    def offer(self, change: Change) -> bool:
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            return False
        return True


class Hub:
    def __init__(self, *, capacity: int = 10_000, backlog: int = 1_000) -> None:
        self.capacity = capacity
        self.backlog = backlog
        self.generation = secrets.token_hex(6)
        self._last = 0
        self._recent: deque[Change] = deque(maxlen=capacity)
        self._listeners: set[Listener] = set()

    def cursor(self, change: Change) -> str:
        return f"{self.generation}:{change.number}"

    def head(self) -> str:
        """The cursor of the latest change: resuming from it replays nothing."""
        return f"{self.generation}:{self._last}"

    def publish(self, topic: str, data: bytes) -> Change:
        self._last += 1
        change = Change(self._last, topic, data)
        self._recent.append(change)
        for listener in list(self._listeners):
            if topic in listener.topics and not listener.offer(change):
                self._overflowed(listener)
        return change

    def reset(self) -> None:
        """Forget everything: what this replica may have missed cannot be replayed (a new broker
        connection). Every browser is told to refetch; later cursors start a new generation."""
        self.generation = secrets.token_hex(6)
        self._recent.clear()
        for listener in list(self._listeners):
            self._overflowed(listener)

    def listen(self, topics: Iterable[str], cursor: str | None) -> tuple[Listener, list[Change]]:
        """A new listener, and what to send it first: the changes after `cursor` for its topics,
        or `[RESET]` when they cannot be known. No cursor: nothing to catch up on."""
        listener = Listener(frozenset(topics), asyncio.Queue(maxsize=self.backlog))
        self._listeners.add(listener)
        return listener, self._since(cursor, listener.topics)

    def leave(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def _since(self, cursor: str | None, topics: frozenset[str]) -> list[Change]:
        if not cursor:
            return []
        generation, _, number = cursor.partition(":")
        if generation != self.generation or not number.isdigit():
            return [RESET]
        after = int(number)
        oldest = self._recent[0].number if self._recent else self._last + 1
        if not oldest - 1 <= after <= self._last:
            return [RESET]
        return [c for c in self._recent if c.number > after and c.topic in topics]

    def _overflowed(self, listener: Listener) -> None:
        # Drop what it has not taken; `reset` says to refetch instead.
        while not listener.queue.empty():
            listener.queue.get_nowait()
        listener.queue.put_nowait(RESET)
