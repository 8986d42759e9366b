"""Atomic JSON files: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel


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


async def write_model(root: Path, relative: str, model: BaseModel) -> None:
    await asyncio.to_thread(write_atomic, root / relative, model.model_dump_json(indent=2).encode())


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


async def delete_file(root: Path, relative: str) -> bool:
    """Remove a snapshot file; False if it was not there (already removed on a first delivery)."""
    return await asyncio.to_thread(_unlink, root / relative)
