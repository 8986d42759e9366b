"""Schemathesis hooks for the hostile-string phase of the API fuzz run (loaded by `st run` from
`SCHEMATHESIS_HOOKS`): each generated request has one of its strings (a path or query parameter,
or a string anywhere in the body) replaced by text a hostile or careless client sends, so the
strings reach every field of every operation, and the zero-5xx rule holds for them too.

    U+0000 and lone surrogates   PostgreSQL cannot store them: the gateway must answer 422
    1 MB strings                 too long for most fields (422), and too big for a btree index
                                 (64 KB in a URL: no proxy passes one near a megabyte)
    RTL marks and overrides      valid text: stored and returned as sent
    Thai combining marks         stacked tone marks, marks without a base: valid text too

A URL or a form is bytes (UTF-8): it cannot carry a lone surrogate, so those go in JSON bodies
only (`\\ud800`, as JSON escapes them).
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis import Case as GenericCase
from schemathesis import HookContext

MEGABYTE = 1_000_000
TEXT = (
    "abc\x00def",  # the NUL that was a 500 (issue 11)
    "\x00",
    "\u202eevil.exe\u202c \u200fRTL mark\u200e",  # right-to-left override and marks
    "น้ำ\u0e49\u0e49\u0e49\u0e49 ก\u0e31\u0e4d\u0e48",  # Thai tone marks stacked on one letter
    "\u0e49\u0e48\u0e31",  # Thai combining marks without a base letter
)
# No proxy passes a URL near a megabyte (most refuse past 8 KB): 64 KB in the URL, 1 MB in bodies.
IN_URLS = ("x" * 65_536,)
IN_BODIES = (
    "x" * MEGABYTE,
    "ก" * (MEGABYTE // 3),  # 1 MB of UTF-8, three bytes a letter
)
JSON_ONLY = (
    "half \ud83c of a pair",  # a high surrogate without its low half
    "\udfff",  # a low one alone
)
Case = GenericCase[Any]
Slot = tuple[str, tuple[str | int, ...]]  # where: "path", "query" or "body", and the keys to the string


def strings(value: Any, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The keys to every string in a JSON-like value."""
    if isinstance(value, str):
        return [at]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in strings(item, (*at, key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in strings(item, (*at, index))]
    return []


def replaced(value: Any, at: tuple[str | int, ...], text: str) -> Any:
    """`value` with the string at `at` replaced by `text` (a copy of the containers on the way)."""
    if not at:
        return text
    head, *rest = at
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], tuple(rest), text)}
    copy = list(value)
    copy[int(head)] = replaced(copy[int(head)], tuple(rest), text)
    return copy


def slots(case: Case) -> list[Slot]:
    found: list[Slot] = [("path", at) for at in strings(case.path_parameters or {})]
    found += [("query", at) for at in strings(case.query or {})]
    if isinstance(case.body, dict | list | str):
        found += [("body", at) for at in strings(case.body)]
    return found


def hostile(case: Case, slot: Slot, text: str) -> Case:
    """The case (each draw generates a new one) with one string replaced. A body with a lone
    surrogate is sent as the bytes JSON makes of it (`\\ud83c`): schemathesis checks what it
    sends against the schema, and its validator cannot take a string that is not UTF-8."""
    where, at = slot
    if where == "path":
        case.path_parameters = replaced(case.path_parameters, at, text)
    elif where == "query":
        case.query = replaced(case.query, at, text)
    elif text in JSON_ONLY:
        case.body = json.dumps(replaced(case.body, at, text)).encode()
    else:
        case.body = replaced(case.body, at, text)
    return case


@schemathesis.hook
def flatmap_case(context: HookContext, case: Case) -> st.SearchStrategy[Case]:
    found = slots(case)
    if not found:
        return st.just(case)
    json_body = (case.media_type or "").endswith("json")

    def texts(slot: Slot) -> tuple[str, ...]:
        if slot[0] != "body":
            return TEXT + IN_URLS
        return TEXT + IN_BODIES + (JSON_ONLY if json_body else ())

    return st.sampled_from(found).flatmap(
        lambda slot: st.sampled_from(texts(slot)).map(lambda text: hostile(case, slot, text))
    )
