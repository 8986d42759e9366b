"""Read the cache-writer's analytics snapshot files, each version parsed once.

Called from a worker thread: the dashboard service assembles a whole answer in one
`asyncio.to_thread`, so a request costs one hop off the event loop however many daily files it
adds up.

A parsed file stays in a bounded LRU under its path, with the version `fstat` gave when it was
read: (inode, mtime_ns, size). The cache-writer replaces a file atomically (a new inode), so a
changed file has a new version and is parsed again; an unchanged one is not parsed twice while it
stays in the cache. Parsed snapshots are shared between requests: callers add them into figures
of their own and never change them.

A missing file is no error (nothing happened that day). A file that cannot be read, or is not a
valid snapshot of its kind, is logged by its name (names hold dates, never personal data),
reported as a `FileProblem` and treated as missing. An invalid version is remembered as invalid,
so it is logged once rather than on every request.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ValidationError

from crm_servicekit.logging import get_logger

log = get_logger(__name__)

M = TypeVar("M", bound=BaseModel)
ProblemKind = Literal["unreadable", "invalid", "mismatched"]
Version = tuple[int, int, int]  # st_ino, st_mtime_ns, st_size


@dataclass(frozen=True)
class FileProblem:
    """A snapshot file that was there but could not be used: `unreadable` (the file system
    refused it), `invalid` (not a snapshot of its kind) or `mismatched` (a snapshot of another
    period than its name says)."""

    file: str
    problem: ProblemKind


@dataclass(frozen=True)
class _Entry:
    version: Version
    model: BaseModel | None  # None: this version is not a valid snapshot
    size: int


class SnapshotStore:
    """The analytics files under one cache directory, with the parsed ones kept in memory up to
    `max_bytes` of file size and `max_entries` files (least recently used go first)."""

    def __init__(self, root: Path, *, max_bytes: int, max_entries: int = 4096) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.parsed = 0  # files parsed since start: what the cache saves shows here
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def load(self, relative: str, model: type[M], problems: list[FileProblem]) -> M | None:
        """The snapshot at `relative` (a path built by `crm_contracts.analytics`), None when
        there is none; a file that is there but unusable is added to `problems`. Blocking."""
        try:
            with (self.root / relative).open("rb") as file:
                stat = os.fstat(file.fileno())
                version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
                entry = self._cached(relative, version)
                if entry is None:
                    entry = self._parse(relative, version, file.read(), model)
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("analytics snapshot unreadable", file=relative, error=type(exc).__name__)
            problems.append(FileProblem(relative, "unreadable"))
            return None
        if isinstance(entry.model, model):
            return entry.model
        problems.append(FileProblem(relative, "invalid"))
        return None

    def _cached(self, relative: str, version: Version) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(relative)
            if entry is None or entry.version != version:
                return None
            self._entries.move_to_end(relative)
            return entry

    def _parse(self, relative: str, version: Version, data: bytes, model: type[M]) -> _Entry:
        parsed: BaseModel | None
        try:
            parsed = model.model_validate_json(data)
        except ValidationError as exc:
            log.warning("analytics snapshot invalid", file=relative, errors=exc.error_count())
            parsed = None
        entry = _Entry(version, parsed, len(data))
        with self._lock:
            self.parsed += 1
            old = self._entries.pop(relative, None)
            self._bytes -= old.size if old else 0
            self._entries[relative] = entry
            self._bytes += entry.size
            while self._entries and (self._bytes > self.max_bytes or len(self._entries) > self.max_entries):
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
