"""What PostgreSQL can store, said once for every service: text without U+0000 and lone
surrogates, integers within BIGINT.

PostgreSQL refuses NUL in `text` and in `jsonb` (`\\u0000`), and a lone surrogate (U+D800-U+DFFF,
half of a UTF-16 pair, which JSON's `\\ud800` escapes and Python strings allow) is not UTF-8 at
all: either one turns an insert, or even a query's parameter, into a 500. What comes in is
checked at the door, by who it comes from:

    staff input (the gateway's API)       refused: a 422 naming the field (`unstorable_in`)
    Meta's webhooks (must be kept)        cleaned: NUL removed, surrogates -> U+FFFD (`storable_json`)
    the old system's files (the import)   reported as unreadable for the field (`unstorable`)

An id bound for a BIGINT column is checked against `BIGINT_MAX` the same way: out of range is the
caller's mistake (404/422), never the database's error. A moment (`StorableMoment`) must have a
UTC time Python can hold: `0001-01-01T00:01+01:01` is before year 1 in UTC, and the driver's
conversion of it would fail (a 422 instead).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator

BIGINT_MAX = 2**63 - 1

_UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")
_SURROGATE = re.compile("[\\ud800-\\udfff]")
REPLACEMENT = "\ufffd"

Location = tuple[str | int, ...]


def storable_moment(value: datetime) -> datetime:
    """`value` when its time in UTC exists (within years 1 to 9999); a ValueError otherwise."""
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range: its time in UTC is before year 1 or after 9999") from None
    return value


StorableMoment = Annotated[datetime, AfterValidator(storable_moment)]


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored (its first such character, by code point, never the text), or
    None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains U+0000 (NUL), which cannot be stored"
    return f"contains U+{ord(found.group()):04X} (a lone surrogate, not UTF-8), which cannot be stored"


def storable(text: str) -> str:
    """`text` as it can be stored: NUL removed, each lone surrogate replaced by U+FFFD."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _SURROGATE.sub(REPLACEMENT, text.replace("\x00", ""))


def storable_json(value: Any) -> Any:
    """A JSON value (dicts, lists, scalars) with every string and key made `storable`."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(k) if isinstance(k, str) else k: storable_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_json(v) for v in value]
    return value


def unstorable_in(value: Any, at: Location = ()) -> Iterator[tuple[Location, str]]:
    """Where in a JSON value (object keys included) a string cannot be stored, and why. A key is
    named made storable, so that the location can itself be written into an answer or a log."""
    if isinstance(value, str):
        if (why := unstorable(value)) is not None:
            yield at, why
    elif isinstance(value, dict):
        for key, item in value.items():
            here = (*at, storable(key) if isinstance(key, str) else key)
            if isinstance(key, str) and (why := unstorable(key)) is not None:
                yield here, f"the name {why}"
            yield from unstorable_in(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unstorable_in(item, (*at, index))
