"""What browser journeys do besides clicking: sign in through the form, let a customer write to
the Page, call the API as the admin, create staff, take screenshots.

Everything here is synchronous: Playwright's sync API marks its own event loop as running in the
test's thread, so no asyncio (nor `asyncio.run`) can run in a browser test. Use `wait_until` where
an end-to-end test would `await eventually(...)`.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
from playwright.sync_api import Page

from crm_fakes.webhooks import meta_json, page_webhook, referral, sign, text_message_event
from tests.e2e.conftest import ADMIN, APP_SECRET, PAGE_ID, System

__all__ = [
    "ADMIN",
    "SCREENSHOTS",
    "admin_api",
    "api_token",
    "customer_writes",
    "new_staff",
    "shot",
    "sign_in",
    "wait_until",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
"""Where `shot` writes (`var/` is git-ignored)."""

T = TypeVar("T")


def sign_in(page: Page, email: str, password: str) -> None:
    """Fill the sign-in form by its labels (English or Thai) and submit it. The page must show
    the form; wait for what the journey expects next (the inbox, an error)."""
    page.get_by_label(re.compile(r"^(E-mail|อีเมล)$")).fill(email)
    page.get_by_label(re.compile(r"^(Password|รหัสผ่าน)$")).fill(password)
    page.get_by_role("button", name=re.compile(r"^(Sign in|เข้าสู่ระบบ)$")).click()


def customer_writes(system: System, psid: str, text: str, *, referral_ad_id: str | None = None) -> None:
    """A customer (new or known by `psid`) writes `text` to the school's Page: a signed Messenger
    webhook delivery to the messenger, as Meta posts it. With `referral_ad_id`, the message comes
    from a click-to-Messenger ad. What follows (the AI's reply, the inbox) is asynchronous."""
    ad = referral(referral_ad_id) if referral_ad_id is not None else None
    body = meta_json(page_webhook(PAGE_ID, [text_message_event(PAGE_ID, psid, text, referral=ad)]))
    response = httpx.post(
        system.stack.url("messenger") + "/webhooks/meta",
        content=body,
        headers={"content-type": "application/json", "x-hub-signature-256": sign(APP_SECRET, body)},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def api_token(system: System, email: str, password: str) -> str:
    """An access token for a staff user, from the API's sign-in (`POST /api/v1/auth/token`)."""
    response = httpx.post(
        system.stack.url("gateway") + "/api/v1/auth/token",
        data={"username": email, "password": password},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def admin_api(system: System) -> httpx.Client:
    """A client of the gateway's API signed in as the e2e admin (bearer token, 30 s timeout).
    Close it (`with admin_api(system) as api:`)."""
    return httpx.Client(
        base_url=system.stack.url("gateway"),
        headers={"Authorization": f"Bearer {api_token(system, *ADMIN)}"},
        timeout=30,
    )


def new_staff(system: System, role: str) -> tuple[str, str]:
    """A new active staff user of this role (`admin`, `manager`, `marketer`, `agent`, `viewer`),
    created by the admin through the API; its (email, password)."""
    suffix = secrets.token_hex(4)
    email = f"{role}-{suffix}@vschool.example.com"
    password = f"browser-{secrets.token_hex(8)}"
    with admin_api(system) as api:
        response = api.post(
            "/api/v1/staff",
            json={"email": email, "name": f"{role.title()} {suffix}", "role": role, "password": password},
        )
    assert response.status_code == 201, response.text
    return email, password


def shot(page: Page, name: str) -> Path:
    """A full-page PNG of what the page shows, to `var/screenshots/<name>.png` under the repo root."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until(check: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.25) -> T:
    """Call `check` until it returns something truthy, and return that; fail after `timeout` s.
    For what the API or the fakes see (for the page, use `expect`, which waits by itself)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {check!r}")
        time.sleep(interval)
