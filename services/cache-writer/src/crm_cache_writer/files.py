"""Atomic JSON files: readers see the old file or the new one, never half of one.

Every path is checked to stay inside the cache directory once resolved (`..`, an absolute part,
a symlink pointing out): the ids in it come from events, which anyone able to publish to the
broker can write. The contracts refuse such ids already; this is the second wall.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel

from crm_servicekit.broker import PermanentError


class UnsafePath(PermanentError):
    """A file path that would leave the cache directory: the message is parked, nothing written."""


def inside(root: Path, relative: str) -> Path:
    """`root / relative`, refused unless it resolves to a place under `root`."""
    base = root.resolve()
    path = (base / relative).resolve()
    if path == base or not path.is_relative_to(base):
        raise UnsafePath(f"refused a cache path outside {base}: {relative!r}")
    return path


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def write_bytes(root: Path, relative: str, data: bytes) -> None:
    await asyncio.to_thread(write_atomic, inside(root, relative), data)


async def write_model(root: Path, relative: str, model: BaseModel) -> None:
    await write_bytes(root, relative, model.model_dump_json(indent=2).encode())


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


async def delete_file(root: Path, relative: str) -> bool:
    """Remove a snapshot file; False if it was not there (already removed on a first delivery)."""
    return await asyncio.to_thread(_unlink, inside(root, relative))
