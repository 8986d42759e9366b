"""Sections -> chunks small enough to embed and to quote, each knowing where it came from.

A chunk never spans two sections (headings), so its heading path is true of all of its text. A
section that fits the budget is one chunk (so an FAQ pair stays whole). A longer one is packed
paragraph by paragraph; a paragraph longer than the budget is cut at sentence ends (Thai by
PyThaiNLP's CRF sentence model, since Thai marks sentences with spaces that also sit inside
sentences; English and Japanese by . ! ? 。), and only a sentence longer than the budget is cut
inside, at a word boundary. Consecutive chunks of one section share up to `overlap_chars` of
whole sentences (or, failing that, whole words), so a fact at a cut is whole on one side.
No chunk is longer than `budget_chars`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pythainlp.tokenize import sent_tokenize

from .parsing import ParsedDocument
from .segment import thai_words_of

_THAI = re.compile(r"[\u0E00-\u0E7F]")
_SENTENCE = re.compile(r".+?(?:[.!?]+(?=\s|$)\s*|[。！？]+\s*|$)", re.DOTALL)


@dataclass(frozen=True)
class ChunkDraft:
    ordinal: int
    heading_path: tuple[str, ...]
    text: str


def display_path(heading_path: tuple[str, ...]) -> str:
    """`Courses › Sushi › Price`: how a chunk's place is shown to staff and in prompts."""
    return " › ".join(heading_path)


@dataclass(frozen=True)
class _Piece:
    text: str  # a paragraph, or a sentence with its trailing space
    starts_paragraph: bool
    ends_inside_sentence: bool = False  # a piece of a sentence longer than the budget


def sentences(paragraph: str) -> list[str]:
    """The paragraph's sentences with their trailing spaces: joined, they give the paragraph back."""
    if _THAI.search(paragraph):
        found = [s for s in sent_tokenize(paragraph, engine="crfcut") if isinstance(s, str)]
    else:
        found = [m.group() for m in _SENTENCE.finditer(paragraph)]
    if "".join(found) != paragraph:  # a segmenter that ate characters: keep the text whole
        return [paragraph]
    return [s for s in found if s]


def _words(text: str) -> list[str]:
    """Whole words with their spaces, for cutting inside a sentence; Thai by its dictionary."""
    parts = re.findall(r"\S+\s*|\s+", text)
    if len(parts) > 1 and not any(len(p) > 40 and _THAI.search(p) for p in parts):
        return parts
    words: list[str] = []
    for part in parts:
        words.extend(thai_words_of(part) if _THAI.search(part) else [part])
    return words if "".join(words) == text else list(text)


def _fit(units: list[str], limit: int) -> list[str]:
    """Units longer than `limit` cut into hard pieces (the last resort: a 'word' over the budget)."""
    out: list[str] = []
    for unit in units:
        out.extend(unit[i : i + limit] for i in range(0, len(unit), limit))
    return out


def _pieces(text: str, limit: int) -> list[_Piece]:
    pieces: list[_Piece] = []
    for paragraph in text.split("\n\n"):
        if len(paragraph) <= limit:
            pieces.append(_Piece(paragraph, True))
            continue
        first = True
        for sentence in sentences(paragraph):
            parts = _pack(_fit(_words(sentence), limit), limit) if len(sentence) > limit else [sentence]
            for i, part in enumerate(parts):
                pieces.append(_Piece(part, first, ends_inside_sentence=i < len(parts) - 1))
                first = False
    return pieces


def _pack(units: list[str], limit: int) -> list[str]:
    """Consecutive units joined while they fit."""
    packed: list[str] = []
    for unit in units:
        if packed and len(packed[-1]) + len(unit) <= limit:
            packed[-1] += unit
        else:
            packed.append(unit)
    return packed


def _tail(pieces: list[_Piece], overlap: int) -> list[_Piece]:
    """The end of the previous chunk to repeat, within `overlap`: whole sentences; whole words only
    when the chunk ends inside a sentence (one longer than the budget), since a cut between two
    sentences splits nothing and a part of a sentence would open the next chunk mid-thought."""
    if overlap <= 0 or not pieces:
        return []
    tail: list[_Piece] = []
    size = 0
    for piece in reversed(pieces):
        added = len(piece.text) + (2 if piece.starts_paragraph else 0)
        if size + added > overlap:
            break
        tail.insert(0, piece)
        size += added
    if tail or not pieces[-1].ends_inside_sentence:
        return tail
    words: list[str] = []
    for word in reversed(_words(pieces[-1].text)):
        if sum(map(len, words)) + len(word) > overlap:
            break
        words.insert(0, word)
    text = "".join(words).lstrip()
    return [_Piece(text, False, ends_inside_sentence=True)] if text else []


def _join(pieces: list[_Piece]) -> str:
    text = ""
    for piece in pieces:
        text += ("\n\n" if text and piece.starts_paragraph else "") + piece.text
    return text.strip()


def _length(pieces: list[_Piece]) -> int:
    return len(_join(pieces))


def chunk(parsed: ParsedDocument, *, budget_chars: int = 800, overlap_chars: int = 120) -> list[ChunkDraft]:
    if budget_chars < 50 or not 0 <= overlap_chars <= budget_chars // 2:
        raise ValueError("budget_chars must be at least 50 and overlap_chars at most half of it")
    drafts: list[ChunkDraft] = []
    for section in parsed.sections:
        text = section.text.strip()
        if not text:
            continue
        texts = [text] if len(text) <= budget_chars else _section_chunks(text, budget_chars, overlap_chars)
        start = len(drafts)
        drafts.extend(ChunkDraft(start + i, section.heading_path, t) for i, t in enumerate(texts))
    return drafts


def _section_chunks(text: str, budget: int, overlap: int) -> list[str]:
    # Pieces leave room for the overlap, so that a chunk that starts with one still fits.
    pieces = _pieces(text, budget - overlap)
    chunks: list[list[_Piece]] = []
    current: list[_Piece] = []
    fresh = False  # has `current` anything beyond the repeated overlap?
    for piece in pieces:
        if current and fresh and _length([*current, piece]) > budget:
            chunks.append(current)
            current = _tail(current, overlap)
            fresh = False
            while current and _length([*current, piece]) > budget:
                current = current[1:]
        current.append(piece)
        fresh = True
    if current and fresh:
        chunks.append(current)
    return [t for t in (_join(c) for c in chunks) if t]
