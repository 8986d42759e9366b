"""Signing in and out of the staff web app, as staff see it: a wrong password, the admin's round
trip, the Thai UI that stays chosen, what a viewer is (not) offered, and an account an admin
deactivates thrown out at its next step."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN, System

from .helpers import admin_api, api_token, new_staff, shot, sign_in

SIGN_IN_HEADING = {"en": "Sign in", "th": "เข้าสู่ระบบ"}


def _on_sign_in(page: Page, lang: str = "en") -> None:
    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("heading", name=SIGN_IN_HEADING[lang])).to_be_visible()
    expect(page.get_by_label("E-mail" if lang == "en" else "อีเมล")).to_be_visible()


def test_a_wrong_password_says_so_and_stays_on_sign_in(system: System, page: Page, app_url: str) -> None:
    email, _ = new_staff(system, "agent")
    page.goto(app_url + "/")
    _on_sign_in(page)
    shot(page, "sign-in")

    sign_in(page, email, "not-the-password-at-all")

    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    _on_sign_in(page)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("navigation")).to_have_count(0)


def test_the_admin_signs_in_sees_the_inbox_and_signs_out(page: Page, app_url: str) -> None:
    page.goto(app_url + "/inbox")
    _on_sign_in(page)  # not signed in: the app sends them to sign in

    sign_in(page, *ADMIN)

    expect(page).to_have_url(re.compile(r"/inbox$"))
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Inbox", exact=True)).to_be_visible()
    banner = page.get_by_role("banner")
    expect(banner.get_by_text(ADMIN[0], exact=True)).to_be_visible()
    expect(banner.get_by_text("Admin", exact=True)).to_be_visible()
    shot(page, "inbox")

    banner.get_by_role("button", name="Sign out").click()
    _on_sign_in(page)
    expect(page.get_by_text(ADMIN[0])).to_have_count(0)

    page.reload()
    _on_sign_in(page)
    page.goto(app_url + "/inbox")
    _on_sign_in(page)


def test_thai_is_shown_once_chosen_and_survives_a_reload(
    admin_page: Page, page_as: Callable[..., Page]
) -> None:
    nav = admin_page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="Inbox", exact=True)).to_be_visible()

    admin_page.get_by_role("banner").get_by_role("button", name="ไทย").click()

    thai_nav = admin_page.get_by_role("navigation", name="เมนูหลัก")
    expect(thai_nav.get_by_role("link", name="กล่องข้อความ", exact=True)).to_be_visible()
    expect(thai_nav.get_by_role("link", name="ลูกค้า", exact=True)).to_be_visible()
    expect(admin_page.get_by_role("banner").get_by_role("button", name="ออกจากระบบ")).to_be_visible()
    expect(admin_page.locator("html")).to_have_attribute("lang", "th")

    admin_page.reload()

    expect(thai_nav.get_by_role("link", name="กล่องข้อความ", exact=True)).to_be_visible()
    expect(admin_page.get_by_role("banner").get_by_role("button", name="ไทย")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(nav.get_by_role("link", name="Inbox", exact=True)).to_have_count(0)
    shot(admin_page, "inbox-th")

    # Someone whose app was set to Thai before signing in gets Thai from the first screen on.
    manager = page_as("manager", "th")
    expect(
        manager.get_by_role("navigation", name="เมนูหลัก").get_by_role("link", name="กล่องข้อความ")
    ).to_be_visible()
    expect(manager.get_by_role("banner").get_by_text("ผู้จัดการ", exact=True)).to_be_visible()


def test_a_viewer_is_offered_no_write_actions_and_the_api_refuses_them(
    system: System, app_url: str, page: Page
) -> None:
    email, password = new_staff(system, "viewer")
    page.goto(app_url + "/signin")
    sign_in(page, email, password)

    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Inbox", exact=True)).to_be_visible()
    expect(page.get_by_role("banner").get_by_text("Viewer", exact=True)).to_be_visible()
    for hidden in ("Knowledge base", "Staff", "Audit log"):
        expect(nav.get_by_role("link", name=hidden, exact=True)).to_have_count(0)
    # What the role may read is offered.
    for shown in ("Customers", "Dashboards"):
        expect(nav.get_by_role("link", name=shown, exact=True)).to_be_visible()

    token = api_token(system, email, password)
    with httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        assert api.get("/api/v1/customers").status_code == 200
        refused = api.post(
            "/api/v1/staff",
            json={
                "email": "by-a-viewer@vschool.example.com",
                "name": "Nope",
                "role": "admin",
                "password": "x" * 16,
            },
        )
        assert refused.status_code == 403, refused.text
        refused = api.post("/api/v1/customers", json={"channel": "WALKIN", "name": "Walk-in by a viewer"})
        assert refused.status_code == 403, refused.text


def test_a_deactivated_account_is_sent_back_to_sign_in(system: System, page: Page, app_url: str) -> None:
    email, password = new_staff(system, "agent")
    page.goto(app_url + "/signin")
    sign_in(page, email, password)
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Inbox", exact=True)).to_be_visible()

    with admin_api(system) as api:
        [me] = [s for s in api.get("/api/v1/staff").json()["items"] if s["email"] == email]
        current = api.get(f"/api/v1/staff/{me['id']}")
        response = api.patch(
            f"/api/v1/staff/{me['id']}",
            json={"is_active": False},
            headers={"If-Match": current.headers["etag"]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["is_active"] is False

    # Their next step in the app asks the API, which refuses the account: back to sign in.
    nav.get_by_role("link", name="Customers", exact=True).click()
    _on_sign_in(page)
    expect(page.get_by_role("alert")).to_have_text("Your session ended. Please sign in again.")

    page.reload()
    _on_sign_in(page)
    sign_in(page, email, password)
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    _on_sign_in(page)
