"""From an uploaded file to titled sections of plain text, before chunking.

The media type comes from the file name's extension when we know it (browsers send `.md` as
`application/octet-stream`), else from the declared type; anything else is `UnsupportedType`,
whose message lists what we take. Each format keeps its structure as a heading path:
Markdown's ATX headings, HTML's h1-h6, a PDF's pages, an FAQ's questions. Inside a section,
paragraphs are separated by one blank line: that is what the chunker splits on first.
A file we cannot read (password-protected, damaged, scanned images, malformed FAQ) raises
`UnreadableDocument` with a reason the school's staff can act on; nothing else is raised.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag
from pypdf import PdfReader
from pypdf.errors import DependencyError, PdfReadError, PyPdfError

from .text import detect_language, printable

MARKDOWN = "text/markdown"
PLAIN = "text/plain"
HTML = "text/html"
PDF = "application/pdf"
FAQ_JSON = "application/json"

# Media type -> (what staff call it, the extensions that mean it).
SUPPORTED: Mapping[str, tuple[str, tuple[str, ...]]] = {
    MARKDOWN: ("Markdown", (".md", ".markdown")),
    PLAIN: ("plain text", (".txt",)),
    HTML: ("HTML", (".html", ".htm")),
    PDF: ("PDF", (".pdf",)),
    FAQ_JSON: ("FAQ JSON", (".json",)),
}
SUPPORTED_TYPES = SUPPORTED
# Other names the same formats travel under.
_ALIASES = {"text/x-markdown": MARKDOWN, "application/xhtml+xml": HTML, "application/x-pdf": PDF}


def supported_description() -> str:
    """`Markdown (.md, .markdown), plain text (.txt), ...`: for the 415 answer and the CLI."""
    return ", ".join(f"{name} ({', '.join(exts)})" for name, exts in SUPPORTED.values())


class UnsupportedType(ValueError):
    def __init__(self, filename: str, media_type: str | None) -> None:
        self.filename = filename
        self.media_type = media_type
        shown = f"{filename!r}" + (f" ({media_type})" if media_type else "")
        super().__init__(f"unsupported file type {shown}: upload one of {supported_description()}")


class UnreadableDocument(ValueError):
    """The file is of a supported type but we cannot get its text; `reason` tells staff what to do."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Section:
    heading_path: tuple[str, ...]
    text: str  # paragraphs separated by one blank line


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    language: str  # th | en | ja
    media_type: str
    sections: list[Section]


def media_type_of(filename: str, declared: str | None = None) -> str:
    """The supported media type of an upload, or `UnsupportedType`."""
    suffix = PurePath(filename).suffix.lower()
    for media_type, (_, extensions) in SUPPORTED.items():
        if suffix in extensions:
            return media_type
    bare = (declared or "").split(";", 1)[0].strip().lower()
    bare = _ALIASES.get(bare, bare)
    if bare in SUPPORTED:
        return bare
    raise UnsupportedType(filename, declared)


def parse(data: bytes, filename: str, media_type: str | None = None) -> ParsedDocument:
    kind = media_type_of(filename, media_type)
    stem = PurePath(filename).stem or filename
    title, sections = _PARSERS[kind](data, stem)
    # What PostgreSQL text cannot hold (U+0000, lone surrogates) and other control characters
    # (a PDF's or a Word export's debris) never reach a chunk.
    sections = [
        Section(tuple(printable(h) for h in s.heading_path), printable(s.text))
        for s in sections
        if printable(s.text).strip()
    ]
    title = printable(title) if title else title
    if not sections:
        raise UnreadableDocument("the file has no text: check that it is the right file")
    language = detect_language("\n".join(s.text for s in sections))
    return ParsedDocument(title=title or stem, language=language, media_type=kind, sections=sections)


# -- text and Markdown --------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or Thai Windows-874 from older editors."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "cp874"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableDocument("the file is not UTF-8 text: save it as UTF-8 and upload it again")


def _paragraphs(lines: list[str]) -> str:
    """Lines -> paragraphs separated by one blank line; spaces inside a line are kept."""
    text = "\n".join(line.rstrip() for line in lines)
    blocks = (block.strip("\n") for block in re.split(r"\n[ \t]*\n", text))
    return "\n\n".join(block for block in blocks if block.strip())


_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$|^ {0,3}(#{1,6})[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|~~)(.+?)\1")


def _inline_markdown(line: str) -> str:
    """Links keep their text, images their alt text, bold/strike marks go; lists stay as written."""
    return _EMPHASIS.sub(r"\2", _LINK.sub(r"\1", line))


def _parse_markdown(data: bytes, stem: str) -> tuple[str, list[Section]]:
    text = _decode(data)
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)  # YAML front matter
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    lines: list[str] = []
    title = ""
    fenced = False

    def flush() -> None:
        sections.append(Section(tuple(h for _, h in path), _paragraphs(lines)))
        lines.clear()

    for raw in text.splitlines():
        if _FENCE.match(raw):
            fenced = not fenced
        heading = None if fenced else _ATX.match(raw)
        if heading is None:
            lines.append(raw if fenced else _inline_markdown(raw))
            continue
        level = len(heading.group(1) or heading.group(3))
        name = _inline_markdown(heading.group(2) or "").strip()
        flush()
        if not name:
            continue
        title = title or name
        path = [(lv, h) for lv, h in path if lv < level] + [(level, name)]
    flush()
    return title, sections


def _parse_plain(data: bytes, stem: str) -> tuple[str, list[Section]]:
    """Paragraphs; a short first line standing alone (no sentence end) is the title and heading."""
    body = _paragraphs(_decode(data).splitlines())
    first, _, rest = body.partition("\n\n")
    if rest and "\n" not in first and len(first) <= 80 and not first.rstrip().endswith((".", "!", "?", "。")):
        return first.strip(), [Section((first.strip(),), rest)]
    return "", [Section((), body)]


# -- HTML -----------------------------------------------------------------------------------------

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_DROPPED = {"script", "style", "noscript", "template", "svg", "head", "nav", "form", "button", "iframe"}
_PARAGRAPHS = {"p", "li", "pre", "blockquote", "dt", "dd", "caption", "figcaption", "address"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_NON_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)


_INLINE = {
    "span",
    "a",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "small",
    "mark",
    "abbr",
    "sup",
    "sub",
    "code",
    "s",
    "q",
}


def _clean(text: str) -> str:
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines() if line.strip())


def _text(tag: Tag) -> str:
    """The visible text of `tag`: inline elements run on, nested blocks start a new line."""
    out: list[str] = []
    for child in tag.children:
        if isinstance(child, NavigableString):
            if not isinstance(child, _NON_TEXT):
                out.append(str(child))
        elif isinstance(child, Tag) and child.name.lower() not in _DROPPED:
            name = child.name.lower()
            inner = _text(child)
            out.append(inner if name in _INLINE else "\n" if name == "br" else f"\n{inner}\n")
    return "".join(out)


class _HtmlSections:
    """Walks the body in document order: a heading starts a section, block text becomes paragraphs."""

    def __init__(self) -> None:
        self.path: list[tuple[int, str]] = []
        self.sections: list[Section] = []
        self.paragraphs: list[str] = []
        self.inline: list[str] = []
        self.first_heading = ""

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, _NON_TEXT):
                    self.inline.append(str(child))
            elif isinstance(child, Tag):
                self._element(child)

    def _element(self, tag: Tag) -> None:
        name = tag.name.lower()
        if name in _DROPPED:
            return
        if name in _HEADINGS:
            self.end_section()
            heading = _clean(_text(tag)).replace("\n", " ")
            if heading:
                level = _HEADINGS[name]
                self.first_heading = self.first_heading or heading
                self.path = [(lv, h) for lv, h in self.path if lv < level] + [(level, heading)]
        elif name == "tr":
            self.end_paragraph()
            cells = [_clean(_text(c)).replace("\n", " ") for c in tag.find_all(["td", "th"])]
            self._add(" | ".join(c for c in cells if c))
        elif name in _PARAGRAPHS:
            self.end_paragraph()
            self._add(_clean(_text(tag)))
        elif name == "br":
            self.inline.append("\n")
        elif name in _INLINE:
            self.walk(tag)
        else:  # div, section, table, ul ...: a block of blocks
            self.end_paragraph()
            self.walk(tag)
            self.end_paragraph()

    def _add(self, text: str) -> None:
        if text:
            self.paragraphs.append(text)

    def end_paragraph(self) -> None:
        self._add(_clean("".join(self.inline)))
        self.inline.clear()

    def end_section(self) -> None:
        self.end_paragraph()
        self.sections.append(Section(tuple(h for _, h in self.path), "\n\n".join(self.paragraphs)))
        self.paragraphs.clear()


def _parse_html(data: bytes, stem: str) -> tuple[str, list[Section]]:
    soup = BeautifulSoup(data, "html.parser")
    page_title = _clean(_text(soup.title)).replace("\n", " ") if soup.title else ""
    walker = _HtmlSections()
    walker.walk(soup.body if soup.body is not None else soup)
    walker.end_section()
    return walker.first_heading or page_title, walker.sections


# -- PDF ------------------------------------------------------------------------------------------

_DAMAGED = "the PDF is damaged or not a PDF: export it again from the original and upload the new copy"


def _pdf_pages(data: bytes) -> Iterator[str]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument("the PDF is password-protected: upload an unlocked copy")
        for page in reader.pages:
            yield page.extract_text() or ""
    except UnreadableDocument:
        raise
    except DependencyError as exc:
        raise UnreadableDocument(
            "the PDF uses an encryption we cannot open: upload an unlocked copy"
        ) from exc
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        # pypdf reports a damaged file with several exception types, not only its own.
        raise UnreadableDocument(_DAMAGED) from exc


def _parse_pdf(data: bytes, stem: str) -> tuple[str, list[Section]]:
    sections = [
        Section((f"Page {number}",), _paragraphs(text.splitlines()))
        for number, text in enumerate(_pdf_pages(data), start=1)
    ]
    if not any(s.text.strip() for s in sections):
        raise UnreadableDocument(
            "the PDF has no text we can read (it may be scanned images): upload a PDF with "
            "selectable text, or the text as a .txt or .md file"
        )
    return "", sections


# -- FAQ JSON -------------------------------------------------------------------------------------

_FAQ_SHAPE = 'a list of {"q": "question", "a": "answer"} pairs'


def _parse_faq(data: bytes, stem: str) -> tuple[str, list[Section]]:
    """Each pair one section headed by its question; the text repeats the question so that a chunk
    alone still says what it answers."""
    try:
        items: Any = json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        raise UnreadableDocument(
            f"the FAQ file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): "
            f"it must be {_FAQ_SHAPE}"
        ) from exc
    if not isinstance(items, list):
        raise UnreadableDocument(f"the FAQ file must be {_FAQ_SHAPE}")
    if not items:
        raise UnreadableDocument("the FAQ file has no questions")
    sections: list[Section] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise UnreadableDocument(
                f"FAQ item {number} is not a {{'q', 'a'}} pair: the file must be {_FAQ_SHAPE}"
            )
        question, answer = item.get("q"), item.get("a")
        if not isinstance(question, str) or not question.strip():
            raise UnreadableDocument(f'FAQ item {number} has no question (a text under "q")')
        if not isinstance(answer, str) or not answer.strip():
            raise UnreadableDocument(f'FAQ item {number} has no answer (a text under "a")')
        q = " ".join(question.split())
        sections.append(Section((q,), f"{q}\n\n{_paragraphs(answer.splitlines())}"))
    return "", sections


_PARSERS: dict[str, Callable[[bytes, str], tuple[str, list[Section]]]] = {
    MARKDOWN: _parse_markdown,
    PLAIN: _parse_plain,
    HTML: _parse_html,
    PDF: _parse_pdf,
    FAQ_JSON: _parse_faq,
}
