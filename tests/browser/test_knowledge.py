"""The knowledge base in the staff web app: files uploaded through the page (several at once, each
with its own outcome) show their indexing and become ready; the passages can be read and a
question shows which of them a reply would use.
"""

from __future__ import annotations

import secrets

from playwright.sync_api import FilePayload, Page, expect

from .helpers import shot

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
INDEXING_MS = 90_000  # the ai indexes in the background; a loaded 2-core machine is slow


def test_an_uploaded_markdown_document_shows_progress_and_becomes_ready(
    app_url: str, admin_page: Page
) -> None:
    token = secrets.token_hex(3)
    name = f"wagyu-{token}.md"
    thai = (
        f"คอร์สย่างเนื้อวากิว {token} สอนเลือกเนื้อ หั่น และย่างบนเตาถ่านแบบญี่ปุ่น "
        "เรียนวันเสาร์ 10:00 ถึง 15:00 น. ราคา 4,500 บาท รวมวัตถุดิบทั้งหมด"
    )
    markdown = f"# Wagyu grilling {token}\n\n## รายละเอียดคอร์ส\n\n{thai}\n"

    page = admin_page
    page.goto(f"{app_url}/knowledge")
    expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
    page.get_by_test_id("file-input").set_input_files(
        [
            FilePayload(name=name, mimeType="text/markdown", buffer=markdown.encode()),
            FilePayload(name=f"photo-{token}.png", mimeType="image/png", buffer=PNG),
        ]
    )

    # Each file has its own outcome: the Markdown is uploaded, the picture refused in words.
    uploaded = page.get_by_test_id("upload-item").filter(has_text=name)
    expect(uploaded).to_contain_text("Uploaded")
    refused = page.get_by_test_id("upload-item").filter(has_text=f"photo-{token}.png")
    expect(refused).to_have_attribute("data-status", "failed")
    expect(refused).to_contain_text("cannot read this type of file")

    # The document is listed with its state (a progress bar while it indexes), then ready.
    row = page.get_by_test_id("doc-row").filter(has_text=name)
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("doc-status")).to_have_attribute("data-status", "ready", timeout=INDEXING_MS)
    expect(row).to_contain_text("Ready")
    expect(row).to_contain_text("Thai")
    expect(row).to_contain_text("v1")
    shot(page, "knowledge")

    # Its passages, in order, with the Thai paragraph.
    row.get_by_role("link").first.click()
    expect(page.get_by_test_id("doc-page")).to_be_visible()
    expect(page.get_by_test_id("doc-chunks")).to_contain_text(f"คอร์สย่างเนื้อวากิว {token}")

    # Try a question: the passage comes back among those found.
    page.goto(f"{app_url}/knowledge")
    box = page.get_by_test_id("try-question")
    box.get_by_label("Question").fill(f"คอร์สย่างเนื้อวากิว {token} ราคาเท่าไหร่")
    box.get_by_role("button", name="Find passages").click()
    expect(box.get_by_role("listitem").first).to_be_visible(timeout=30_000)
