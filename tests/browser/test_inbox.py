"""The inbox in the staff web app, as staff see it: a new chat appears live, the AI's reply is
marked as the AI's, a handover waits under "Needs a person" and a staff reply reaches Messenger,
the Thai labels, and a viewer who may read but not act.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from .helpers import admin_api, customer_writes, shot, wait_until

LONG = 30_000  # ms: the AI answers a few seconds after the customer writes, more on a busy machine


def _psid() -> str:
    # The fake Graph API names a customer "Customer <last 4 digits of the PSID>".
    return f"2498{secrets.randbelow(10**12):012d}"


def _name(psid: str) -> str:
    return f"Customer {psid[-4:]}"


def _row(page: Page, psid: str) -> Locator:
    return page.locator(f'[data-testid="conversation-row"][data-psid="{psid}"]')


def _conversation(api: httpx.Client, psid: str) -> dict[str, Any] | None:
    cursor = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/api/v1/conversations", params=params).json()
        for c in body["items"]:
            if c["psid"] == psid:
                found: dict[str, Any] = c
                return found
        cursor = body.get("next_cursor")
        if not cursor:
            return None
    return None


def _ai_reply(api: httpx.Client, conversation_id: str) -> dict[str, Any] | None:
    thread = api.get(f"/api/v1/conversations/{conversation_id}").json()
    for m in thread["messages"]:
        if m.get("sent_by") == "ai" and m.get("text"):
            found: dict[str, Any] = m
            return found
    return None


def _tab(page: Page, name: str) -> Locator:
    return page.get_by_role("tab", name=name, exact=True)


def test_a_new_chat_appears_live_and_the_ai_reply_is_marked(
    system: Any, app_url: str, admin_page: Page
) -> None:
    page = admin_page
    _tab(page, "All").click()
    expect(page.get_by_role("tab", name="All", selected=True)).to_be_visible()
    psid = _psid()
    # The inbox is open; a signed webhook from a new customer arrives: no reload.
    customer_writes(system, psid, "สวัสดีค่ะ สนใจคอร์สทำซูชิ เรียนวันเสาร์ได้ไหมคะ")
    row = _row(page, psid)
    expect(row).to_be_visible(timeout=3_000)
    expect(row).to_contain_text(_name(psid))
    shot(page, "inbox")

    row.click()
    expect(page).to_have_url(re.compile(r"/inbox/[0-9a-f-]{36}"))
    expect(row).to_have_attribute("aria-current", "page")
    thread = page.get_by_test_id("thread")
    expect(thread.get_by_test_id("thread-name")).to_have_text(_name(psid))
    expect(thread.get_by_test_id("message").filter(has_text="สนใจคอร์สทำซูชิ")).to_have_attribute(
        "data-sender", "customer"
    )
    # The AI's reply arrives live and is marked as the AI's.
    ai = thread.locator('[data-testid="message"][data-sender="ai"]').first
    expect(ai).to_be_visible(timeout=LONG)
    expect(ai.get_by_test_id("ai-mark")).to_have_text("AI")
    with admin_api(system) as api:
        conversation = wait_until(lambda: _conversation(api, psid))
        reply = wait_until(lambda: _ai_reply(api, conversation["id"]))
        # The thread marks it read when opened.
        wait_until(lambda: (_conversation(api, psid) or {}).get("unread_count") == 0)
    if reply.get("sources"):
        # The passages it was grounded on (their titles), when the API gives them.
        sources = thread.get_by_test_id("ai-sources")
        expect(sources.first).to_contain_text(reply["sources"][0]["title"])
    # The customer panel: the CRM's customer, linked to its 360.
    panel = thread.get_by_test_id("customer-panel")
    expect(panel.get_by_role("link")).to_have_attribute(
        "href", re.compile(r"^/customers/TVS-CUS-FB-"), timeout=LONG
    )
    shot(page, "inbox-thread")


def test_a_chat_from_an_ad_shows_the_ad_in_the_customer_panel(
    system: Any, app_url: str, admin_page: Page
) -> None:
    psid = _psid()
    ad_id = f"1203{secrets.randbelow(10**12):012d}"
    customer_writes(system, psid, "สนใจคอร์สราเมงค่ะ", referral_ad_id=ad_id)
    page = admin_page
    _tab(page, "All").click()
    _row(page, psid).click()
    panel = page.get_by_test_id("customer-panel")
    expect(panel.get_by_test_id("inbox-first-touch")).to_contain_text(ad_id, timeout=LONG)


def test_a_handover_waits_under_needs_a_person_and_the_staff_reply_reaches_messenger(
    system: Any, app_url: str, admin_page: Page
) -> None:
    page = admin_page
    psid = _psid()
    customer_writes(system, psid, "ขอคุยกับเจ้าหน้าที่ค่ะ")
    # "Needs a person" is the first tab; the conversation comes there live.
    expect(page.get_by_role("tab", name="Needs a person", selected=True)).to_be_visible()
    row = _row(page, psid)
    expect(row).to_be_visible(timeout=LONG)
    expect(row.get_by_test_id("needs-human")).to_have_text("Needs a person")

    row.click()
    box = page.get_by_label(f"Reply to {_name(psid)}")
    expect(box).to_be_enabled()
    expect(page.get_by_test_id("reply-window")).to_have_attribute("data-state", "open")
    text = f"สวัสดีค่ะ เจ้าหน้าที่ V School ยินดีช่วยค่ะ ({secrets.token_hex(3)})"
    box.fill(text)
    box.press("Enter")
    # The reply shows in the thread as "You", then the fake Send API receives exactly that text.
    mine = page.locator('[data-testid="message"][data-sender="me"]').filter(has_text=text)
    expect(mine).to_be_visible()
    expect(mine).to_contain_text("You")
    expect(box).to_have_value("")
    wait_until(
        lambda: [m for m in system.meta.messages() if m.recipient_id == psid and m.text == text],
        timeout=30,
    )
    # The server's truth: a staff reply puts the conversation in human mode, and Meta's answer
    # moves the message past "Sending…".
    expect(mine.get_by_test_id("delivery")).not_to_have_text("Sending…", timeout=LONG)
    expect(page.get_by_test_id("thread").get_by_role("button", name="Hand back to AI")).to_be_visible()


def test_the_inbox_in_thai_and_a_handover_answered_there(system: Any, page_as: Any) -> None:
    psid = _psid()
    customer_writes(system, psid, "ขอคุยกับเจ้าหน้าที่")
    page = page_as("admin", lang="th")
    expect(page.get_by_role("heading", name="กล่องข้อความ", level=1)).to_be_visible()
    for label in ("รอเจ้าหน้าที่", "ของฉัน", "ยังไม่มีผู้รับผิดชอบ", "ทั้งหมด"):
        expect(_tab(page, label)).to_be_visible()
    row = _row(page, psid)
    expect(row).to_be_visible(timeout=LONG)
    expect(row.get_by_test_id("needs-human")).to_have_text("รอเจ้าหน้าที่")
    row.click()
    expect(page.get_by_role("button", name="ส่ง", exact=True)).to_be_visible()
    expect(page.get_by_text("Enter เพื่อส่ง · Shift+Enter ขึ้นบรรทัดใหม่")).to_be_visible()
    shot(page, "inbox-th")
    # The handover journey in Thai: staff answer, Messenger receives exactly that text.
    box = page.get_by_label(f"ตอบ {_name(psid)}")
    text = f"สวัสดีค่ะ เจ้าหน้าที่ยินดีช่วยค่ะ ({secrets.token_hex(3)})"
    box.fill(text)
    box.press("Enter")
    mine = page.locator('[data-testid="message"][data-sender="me"]').filter(has_text=text)
    expect(mine).to_contain_text("คุณ")
    wait_until(
        lambda: [m for m in system.meta.messages() if m.recipient_id == psid and m.text == text],
        timeout=30,
    )
    expect(page.get_by_test_id("thread").get_by_role("button", name="ส่งคืนให้ AI")).to_be_visible()


def test_a_viewer_reads_the_thread_but_cannot_reply_or_take_over(system: Any, page_as: Any) -> None:
    psid = _psid()
    customer_writes(system, psid, "ขอคุยกับเจ้าหน้าที่ค่ะ")
    page = page_as("viewer")
    row = _row(page, psid)
    expect(row).to_be_visible(timeout=LONG)
    row.click()
    thread = page.get_by_test_id("thread")
    expect(thread.get_by_test_id("message").filter(has_text="ขอคุยกับเจ้าหน้าที่ค่ะ")).to_be_visible()
    expect(page.get_by_test_id("reply-box")).to_have_count(0)
    for name in ("Take over", "Hand back to AI", "Assign to me", "Unassign", "Send"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)


def test_keyboard_moves_through_conversations_and_the_shortcut_list_opens(
    system: Any, admin_page: Page
) -> None:
    first, second = _psid(), _psid()
    customer_writes(system, first, "ขอคุยกับเจ้าหน้าที่ 1")
    customer_writes(system, second, "ขอคุยกับเจ้าหน้าที่ 2")
    page = admin_page
    expect(_row(page, first)).to_be_visible(timeout=LONG)
    expect(_row(page, second)).to_be_visible(timeout=LONG)
    page.locator("body").press("j")
    expect(page.locator('[data-testid="conversation-row"][aria-current="page"]')).to_have_count(1)
    page.locator("body").press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    page.locator("body").press("r")
    expect(page.locator("#inbox-reply")).to_be_focused()


def test_on_a_phone_the_list_opens_the_thread_and_back_returns(system: Any, admin_page: Page) -> None:
    psid = _psid()
    customer_writes(system, psid, "ขอคุยกับเจ้าหน้าที่ค่ะ")
    page = admin_page
    page.set_viewport_size({"width": 390, "height": 844})
    row = _row(page, psid)
    expect(row).to_be_visible(timeout=LONG)
    row.click()
    expect(page.get_by_test_id("thread")).to_be_visible()
    expect(page.get_by_test_id("conversation-list")).to_be_hidden()
    shot(page, "inbox-phone-thread")
    page.get_by_role("button", name="Back to conversations").click()
    expect(page).to_have_url(re.compile(r"/inbox(\?.*)?$"))
    expect(row).to_be_visible()
    row.click()
    page.locator("body").press("Escape")
    expect(row).to_be_visible()
