"""What one Send API message may hold: a reply split at Messenger's 2,000 characters (at sentence
ends where it can), and quick replies within Messenger's limits. Pure functions, no I/O."""

from __future__ import annotations

import re

TEXT_LIMIT = 2000  # characters per Send API message
QUICK_REPLY_LIMIT = 13
QUICK_REPLY_TITLE_LIMIT = 20


_SENTENCE_END = re.compile(r"(?<=[.!?。！？…])\s+|(?<=[。！？])|\n+")


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at Messenger's limit, preferring sentence ends, then spaces (Thai has no full
    stops: a space ends a phrase), and only then a hard cut."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = max((m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= limit), default=0)
        if cut < limit // 2:
            space = window.rfind(" ", 0, limit)
            cut = space + 1 if space >= limit // 2 else cut or limit
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            parts.append(head)
    if text:
        parts.append(text)
    return parts


def quick_reply_options(choices: list[str]) -> list[dict[str, str]]:
    """Messenger quick replies: at most 13, titles at most 20 characters, payload the full text."""
    return [
        {"content_type": "text", "title": choice[:QUICK_REPLY_TITLE_LIMIT], "payload": choice[:1000]}
        for choice in choices[:QUICK_REPLY_LIMIT]
        if choice.strip()
    ]
