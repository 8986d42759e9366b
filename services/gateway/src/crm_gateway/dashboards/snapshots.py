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

`load` can note the version of every file it looked at (`Versions`, None for a file that was not
there): what an answer was made of, so the store's `answers` (`AnswerCache`) can tell whether a
serialized answer still holds with one `stat` per file instead of reading and adding them again.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from crm_servicekit.logging import get_logger

log = get_logger(__name__)

M = TypeVar("M", bound=BaseModel)
ProblemKind = Literal["unreadable", "invalid", "mismatched"]
Version = tuple[int, int, int]  # st_ino, st_mtime_ns, st_size
Versions = dict[str, Version | None]  # by relative path; None: there was no file
UNREADABLE: Version = (-1, -1, -1)  # matches no file: an answer made with an unreadable file is made again
ANSWERS_SHARE = 4  # the answers get a quarter of the store's bytes, the parsed files the rest


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
    `max_bytes` of file size and `max_entries` files (least recently used go first); serialized
    answers made of them (`answers`) take a quarter of `max_bytes` out of that."""

    def __init__(self, root: Path, *, max_bytes: int, max_entries: int = 4096) -> None:
        self.root = root
        self.answers = AnswerCache(max_bytes=max_bytes // ANSWERS_SHARE)
        self.max_bytes = max_bytes - self.answers.max_bytes
        self.max_entries = max_entries
        self.parsed = 0  # files parsed since start: what the cache saves shows here
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def load(
        self, relative: str, model: type[M], problems: list[FileProblem], versions: Versions | None = None
    ) -> M | None:
        """The snapshot at `relative` (a path built by `crm_contracts.analytics`), None when
        there is none; a file that is there but unusable is added to `problems`. The version
        read (None: no file) goes into `versions` when given. Blocking."""
        try:
            with (self.root / relative).open("rb") as file:
                stat = os.fstat(file.fileno())
                version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
                entry = self._cached(relative, version)
                if entry is None:
                    entry = self._parse(relative, version, file.read(), model)
        except FileNotFoundError:
            _note(versions, relative, None)
            return None
        except OSError as exc:
            log.warning("analytics snapshot unreadable", file=relative, error=type(exc).__name__)
            problems.append(FileProblem(relative, "unreadable"))
            _note(versions, relative, UNREADABLE)
            return None
        _note(versions, relative, version)
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
        self.answers.clear()


def _note(versions: Versions | None, relative: str, version: Version | None) -> None:
    """Note the version read; a file read twice in two versions matches no file afterwards."""
    if versions is not None:
        versions[relative] = UNREADABLE if versions.get(relative, version) != version else version


def version_of(path: str) -> Version | None:
    """What `stat` says of a file now (None: it is not there; `UNREADABLE`: it cannot be told)."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError:
        return UNREADABLE
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class Answer:
    """An answer as it was serialized, the files it was made of (full paths) with the versions
    read, and what it holds besides its bytes (`meta`: what its maker needs to finish it)."""

    body: bytes
    files: tuple[tuple[str, Version | None], ...]
    meta: Any = None

    @property
    def size(self) -> int:
        return len(self.body) + 160 * len(self.files)  # a path and its version, roughly


class AnswerCache:
    """Serialized answers by question, in a bounded LRU (`max_bytes` of answers, `max_entries`).

    An answer is served again only while every file it was made of still has the version it
    was read at, and every file that was missing is still missing: one `stat` per file on each
    read. A file the cache-writer replaced (a new inode), rewrote (a new mtime or size), added
    or removed makes the answer again, so no old figure is served after its file changed."""

    def __init__(self, *, max_bytes: int, max_entries: int = 512) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.made = 0  # answers made (not served from here) since start
        self._entries: OrderedDict[Any, Answer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Answer | None:
        """The answer to `key` while none of its files changed; None otherwise. Blocking."""
        with self._lock:
            answer = self._entries.get(key)
        if answer is None:
            return None
        for path, version in answer.files:
            if version is None:  # still missing? (`access` says so without raising: cheaper)
                if os.access(path, os.F_OK):
                    return None
            elif version_of(path) != version:
                return None
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
        return answer

    def put(self, key: Any, answer: Answer) -> None:
        with self._lock:
            self.made += 1
            old = self._entries.pop(key, None)
            self._bytes -= old.size if old else 0
            if answer.size > self.max_bytes or any(v == UNREADABLE for _, v in answer.files):
                return  # too big to keep, or made of a file that cannot be told unchanged
            self._entries[key] = answer
            self._bytes += answer.size
            while self._entries and (self._bytes > self.max_bytes or len(self._entries) > self.max_entries):
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
