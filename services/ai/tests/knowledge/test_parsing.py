"""What the knowledge base reads out of each kind of file the school uploads, and what staff are
told when a file cannot be read."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfWriter

from crm_ai.knowledge.parsing import (
    SUPPORTED,
    ParsedDocument,
    UnreadableDocument,
    UnsupportedType,
    media_type_of,
    parse,
)
from crm_ai.knowledge.text import detect_language

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> ParsedDocument:
    return parse((FIXTURES / name).read_bytes(), name)


def text_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF, written by hand: one Helvetica text line per string, a page per list."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]  # the page tree is filled below
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for lines in pages:
        ops = b"BT /F1 12 Tf 72 720 Td 16 TL " + b" ".join(
            b"(" + line.encode("latin-1").replace(b"(", b"\\(").replace(b")", b"\\)") + b") Tj T*"
            for line in lines
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content, font)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_markdown_headings_become_the_path_of_the_text_under_them() -> None:
    doc = fixture("courses.md")

    assert doc.title == "คอร์สเรียนทำอาหารญี่ปุ่น V School"
    assert doc.language == "th"
    assert doc.media_type == "text/markdown"
    by_path = {s.heading_path: s.text for s in doc.sections}
    top = ("คอร์สเรียนทำอาหารญี่ปุ่น V School",)
    assert by_path[(*top, "คอร์สซูชิ", "ราคา")] == (
        "- ราคาคอร์ส 12,900 บาท รวมวัตถุดิบทั้งหมด\n- ผ่อนชำระได้ 3 เดือนผ่านบัตรเครดิต"
    )
    # Emphasis marks go, a link keeps its text, a `#` line inside a code block is no heading.
    assert "ปั้นนิกิริด้วยตัวเอง" in by_path[(*top, "คอร์สซูชิ")]
    ramen = by_path[(*top, "คอร์สราเมง")]
    assert "ดูรายละเอียดที่ หน้าคอร์ส" in ramen
    assert "https://" not in ramen
    assert "# นี่ไม่ใช่หัวข้อ" in ramen
    assert list(by_path) == [top, (*top, "คอร์สซูชิ"), (*top, "คอร์สซูชิ", "ราคา"), (*top, "คอร์สราเมง")]


def test_markdown_without_headings_is_titled_by_its_file_name() -> None:
    doc = parse(b"Tempura class is one day.\n\nBring an apron.", "tempura-notes.md")

    assert doc.title == "tempura-notes"
    assert doc.sections[0].heading_path == ()
    assert doc.sections[0].text == "Tempura class is one day.\n\nBring an apron."
    assert doc.language == "en"


def test_plain_text_short_first_line_is_the_title_and_paragraphs_are_kept() -> None:
    doc = fixture("travel.txt")

    assert doc.title == "ข้อมูลการเดินทาง"
    assert [s.heading_path for s in doc.sections] == [("ข้อมูลการเดินทาง",)]
    assert doc.sections[0].text.split("\n\n") == [
        "โรงเรียนอยู่ใกล้สถานีรถไฟฟ้า BTS อโศก เดินประมาณ 5 นาที",
        "มีที่จอดรถสำหรับผู้เรียนฟรี",
    ]


def test_plain_text_in_thai_windows_encoding_is_read() -> None:
    doc = parse("ราคาคอร์สซูชิ 12,900 บาท".encode("cp874"), "price.txt")

    assert doc.sections[0].text == "ราคาคอร์สซูชิ 12,900 บาท"
    assert doc.title == "price"


def test_html_headings_paragraphs_lists_and_tables_without_scripts() -> None:
    doc = fixture("school.html")

    assert doc.title == "Japanese Cooking Courses"
    assert doc.language == "en"
    by_path = {s.heading_path: s.text for s in doc.sections}
    assert by_path[("Japanese Cooking Courses",)] == "Learn from Japanese chefs in the heart of Bangkok."
    assert by_path[("Japanese Cooking Courses", "Wagashi")].split("\n\n") == [
        "Traditional Japanese sweets, two days.",
        "Nerikiri flowers",
        "Daifuku with red bean",
    ]
    assert (
        by_path[("Japanese Cooking Courses", "Wagashi", "Price")] == "Course | Price\n\nWagashi | 8,500 THB"
    )
    assert by_path[("Japanese Cooking Courses", "Tempura")] == "One-day class. Bring an apron."
    everything = "\n".join(by_path.values())
    for hidden in ("dataLayer", "track(", "font-family", "internal note", "Home"):
        assert hidden not in everything


def test_html_without_headings_takes_the_page_title() -> None:
    doc = parse(
        b"<html><head><title>Opening hours</title></head><body>Mon-Sat 9:00-18:00</body></html>", "x.htm"
    )

    assert doc.title == "Opening hours"
    assert doc.sections[0].text == "Mon-Sat 9:00-18:00"


def test_pdf_text_is_read_page_by_page() -> None:
    data = text_pdf([["Sushi course: 3 days, 12,900 THB", "Ingredients included"], ["Ramen course: 1 day"]])

    doc = parse(data, "price-list.pdf", "application/pdf")

    assert doc.title == "price-list"
    assert doc.media_type == "application/pdf"
    assert [s.heading_path for s in doc.sections] == [("Page 1",), ("Page 2",)]
    assert "Sushi course: 3 days, 12,900 THB" in doc.sections[0].text
    assert "Ingredients included" in doc.sections[0].text
    assert doc.sections[1].text == "Ramen course: 1 day"


def blank_pdf(password: str | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if password is not None:
        writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_password_protected_pdf_tells_staff_to_upload_an_unlocked_copy() -> None:
    with pytest.raises(UnreadableDocument) as caught:
        parse(blank_pdf(password="vschool"), "prices.pdf")

    assert caught.value.reason == "the PDF is password-protected: upload an unlocked copy"


def test_pdf_locked_only_against_editing_is_read() -> None:
    """An owner password alone (no password to open) is common in exported brochures."""
    writer = PdfWriter(clone_from=io.BytesIO(text_pdf([["Tempura class: 4,500 THB"]])))
    writer.encrypt(user_password="", owner_password="vschool-owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)

    doc = parse(out.getvalue(), "brochure.pdf")

    assert doc.sections[0].text == "Tempura class: 4,500 THB"


def test_pdf_with_no_text_says_it_may_be_scanned() -> None:
    with pytest.raises(UnreadableDocument) as caught:
        parse(blank_pdf(), "scan.pdf")

    assert "no text we can read (it may be scanned images)" in caught.value.reason


@pytest.mark.parametrize(
    "data",
    [b"this is not a pdf at all", b"%PDF-1.4\n1 0 obj << /Type /Catalog", text_pdf([["Sushi"]])[:120]],
    ids=["not-a-pdf", "truncated-header", "cut-in-half"],
)
def test_damaged_pdf_tells_staff_to_export_it_again(data: bytes) -> None:
    with pytest.raises(UnreadableDocument) as caught:
        parse(data, "broken.pdf")

    assert "export it again" in caught.value.reason


def test_faq_pairs_are_sections_headed_by_their_question() -> None:
    doc = fixture("faq.json")

    assert doc.title == "faq"
    assert doc.media_type == "application/json"
    assert doc.language == "th"
    assert [s.heading_path for s in doc.sections] == [
        ("คอร์สซูชิราคาเท่าไหร่คะ",),
        ("Do I need any experience?",),
        ("日本語で受講できますか？",),
    ]
    assert doc.sections[0].text == ("คอร์สซูชิราคาเท่าไหร่คะ\n\nคอร์สซูชิพื้นฐานราคา 12,900 บาท รวมวัตถุดิบทั้งหมดค่ะ")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('[{"q": "ราคา?", "a": "12,900"', "the FAQ file is not valid JSON (line 1"),
        (
            '{"q": "ราคา?", "a": "12,900"}',
            'the FAQ file must be a list of {"q": "question", "a": "answer"} pairs',
        ),
        ("[]", "the FAQ file has no questions"),
        ('[{"q": "ราคา?", "a": "12,900"}, {"q": "เรียนกี่วัน"}]', 'FAQ item 2 has no answer (a text under "a")'),
        ('[{"q": "  ", "a": "3 วัน"}]', 'FAQ item 1 has no question (a text under "q")'),
        ('["ราคาเท่าไหร่"]', "FAQ item 1 is not a {'q', 'a'} pair"),
    ],
    ids=["broken-json", "not-a-list", "empty", "missing-answer", "blank-question", "not-a-pair"],
)
def test_malformed_faq_names_what_is_wrong(content: str, reason: str) -> None:
    with pytest.raises(UnreadableDocument) as caught:
        parse(content.encode(), "faq.json")

    assert caught.value.reason.startswith(reason)


def test_unsupported_type_lists_what_is_supported() -> None:
    with pytest.raises(UnsupportedType) as caught:
        parse(
            b"PK\x03\x04",
            "menu.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )

    message = str(caught.value)
    assert message.startswith("unsupported file type 'menu.docx'")
    for name, extensions in SUPPORTED.values():
        assert name in message
        assert all(ext in message for ext in extensions)


def test_type_comes_from_the_extension_then_the_declared_type() -> None:
    assert media_type_of("notes.MD", "application/octet-stream") == "text/markdown"
    assert media_type_of("upload", "text/html; charset=utf-8") == "text/html"
    assert media_type_of("upload", "text/x-markdown") == "text/markdown"


def test_an_empty_file_is_unreadable() -> None:
    with pytest.raises(UnreadableDocument, match="the file has no text"):
        parse(b"\n \n", "empty.txt")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("คอร์ส Sushi Basic และ Ramen Master เรียนที่ V School Bangkok ราคา 12,900 บาท", "th"),
        ("寿司コースは3日間で、料金は12,900バーツです。", "ja"),
        ("The Sushi course (คอร์สซูชิ) takes three days and costs 12,900 THB including ingredients.", "en"),
        ("12,900", "en"),
    ],
)
def test_document_language_follows_most_of_its_script(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_faq_json_written_by_the_json_module_round_trips() -> None:
    pairs = [{"q": f"คำถามที่ {n}", "a": f"คำตอบที่ {n}"} for n in range(1, 4)]

    doc = parse(json.dumps(pairs, ensure_ascii=False).encode(), "faq-th.json")

    assert [s.heading_path[0] for s in doc.sections] == ["คำถามที่ 1", "คำถามที่ 2", "คำถามที่ 3"]


def test_characters_the_database_cannot_store_never_reach_a_section() -> None:
    """A NUL or a stray control character (an export's debris) would fail the chunks' insert."""
    parsed = parse("# ค่า\x00เรียน\n\nคอร์สซูชิ\x00 12,900\x07 บาท\tรวมวัตถุดิบ\n".encode(), "fees.md")
    [section] = parsed.sections
    assert section.heading_path == ("ค่าเรียน",)
    assert section.text == "คอร์สซูชิ 12,900 บาท\tรวมวัตถุดิบ"
    assert parsed.title == "ค่าเรียน"
