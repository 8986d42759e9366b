"""Customers in the staff web app, as staff see them: a lead from an ad in the customer 360 with
its lead score and AI insights, search by a phone number typed in another form, an edit that
meets someone else's change (the conflict view, then saving on top), and a viewer's read-only 360.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import System

from .helpers import admin_api, customer_writes, shot, wait_until

LONG = 30_000  # ms: the ai scores a lead and writes insights a few seconds after a conversation goes quiet


def _customer_by_psid(api: httpx.Client, psid: str) -> dict[str, Any] | None:
    items = api.get("/api/v1/customers", params={"psid": psid}).json()["items"]
    return items[0] if items else None


def _new_customer(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/customers", json={"channel": "WALKIN", **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _patch(api: httpx.Client, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    etag = api.get(f"/api/v1/customers/{customer_id}/overview").headers["etag"]
    response = api.patch(f"/api/v1/customers/{customer_id}", json=body, headers={"If-Match": etag})
    assert response.status_code == 200, response.text
    patched: dict[str, Any] = response.json()
    return patched


def _thai_mobile() -> tuple[str, str]:
    """A random Thai mobile number: as the API stores it (E.164) and as staff type it locally."""
    rest = f"{secrets.randbelow(10**8):08d}"
    return f"+668{rest}", f"08{rest[:1]}-{rest[1:4]}-{rest[4:]}"


def test_a_lead_from_an_ad_shows_with_its_ad_lead_score_and_insights(
    system: System, app_url: str, admin_page: Page
) -> None:
    psid = f"2497{secrets.randbelow(10**12):012d}"
    ad_id = f"1202{secrets.randbelow(10**12):012d}"
    customer_writes(system, psid, "สวัสดีค่ะ สนใจคอร์สทำซูชิ ราคาเท่าไหร่คะ เรียนวันเสาร์ได้ไหม", referral_ad_id=ad_id)
    with admin_api(system) as api:
        customer = wait_until(lambda: _customer_by_psid(api, psid))
    customer_id = customer["customer_id"]

    page = admin_page
    page.goto(f"{app_url}/customers/{customer_id}")
    expect(page.get_by_test_id("customer-360")).to_be_visible()
    expect(page.get_by_test_id("customer-id")).to_have_text(customer_id)
    attribution = page.get_by_test_id("attribution-card")
    expect(attribution).to_contain_text("First touch")
    expect(attribution).to_contain_text(f"Ad {ad_id}")
    expect(attribution).to_contain_text(ad_id)
    # The ai's lead score and insights arrive live, without a reload.
    expect(page.get_by_test_id("lead-score")).to_have_text(re.compile(r"^\d{1,3}$"), timeout=LONG)
    expect(page.get_by_test_id("lead-card")).to_contain_text(re.compile(r"Hot|Warm|Cold"))
    expect(page.get_by_test_id("insights-summary")).not_to_be_empty(timeout=LONG)
    expect(page.get_by_test_id("stage-pipeline")).to_contain_text("Lead")
    shot(page, "customer-360")


def test_search_finds_a_customer_by_a_phone_number_typed_in_another_form(
    system: System, app_url: str, admin_page: Page
) -> None:
    e164, local = _thai_mobile()
    with admin_api(system) as api:
        customer = _new_customer(api, name_th="สมหญิง รักเรียน", name_latin="Somying Rakrian")
        _patch(api, customer["customer_id"], {"phone": e164})

    page = admin_page
    page.goto(f"{app_url}/customers")
    search = page.get_by_label("Search customers")
    search.fill(local)
    expect(page.get_by_text("Searching by phone number")).to_be_visible()
    rows = page.get_by_test_id("customer-list").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(customer["customer_id"])
    expect(rows.first).to_contain_text("สมหญิง รักเรียน")
    expect(rows.first).to_contain_text(e164)

    # A Thai name, partly typed, finds them too.
    search.fill("สมหญิง")
    # The box searches 250 ms after the last key: wait for it, not for the phone search's rows.
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(quote("สมหญิง"))))
    expect(page.get_by_test_id("customer-list")).to_contain_text(customer["customer_id"])
    shot(page, "customers")

    # On a phone the rows are cards, each value with its label.
    page.set_viewport_size({"width": 390, "height": 844})
    card = page.get_by_test_id("customer-list").locator("tbody tr").first
    expect(card).to_have_css("display", "block")
    expect(card.get_by_text(customer["customer_id"])).to_be_visible()
    shot(page, "customers-phone")
    page.set_viewport_size({"width": 1366, "height": 900})

    # Back on a desktop the list renders again as a table: open the customer from it.
    link = rows.get_by_role("link", name="สมหญิง รักเรียน")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_test_id("customer-id")).to_have_text(customer["customer_id"])


def test_an_edit_that_meets_someone_elses_change_shows_the_conflict_and_saves_on_top(
    system: System, app_url: str, admin_page: Page
) -> None:
    with admin_api(system) as api:
        customer = _new_customer(api, name_latin="Kanya Sae-Lim", nickname="Kan")
    customer_id = customer["customer_id"]

    page = admin_page
    page.goto(f"{app_url}/customers/{customer_id}")
    profile = page.get_by_test_id("profile-card")
    profile.get_by_role("button", name="Edit profile").click()
    expect(profile.get_by_label("Nickname")).to_have_value("Kan")

    # Someone else changes the customer after this form was loaded.
    with admin_api(system) as api:
        _patch(api, customer_id, {"nickname": "Kanny", "name_latin": "Kanya Saelim"})

    profile.get_by_label("Nickname").fill("Kanya-chan")
    profile.get_by_label("E-mail").fill("kanya@example.com")
    profile.get_by_role("button", name="Save").click()

    conflict = page.get_by_test_id("edit-conflict")
    expect(conflict).to_contain_text("Someone else changed this customer since you opened it")
    expect(conflict).to_contain_text("Kanny")  # theirs
    expect(conflict).to_contain_text("Kanya-chan")  # mine
    expect(conflict).to_contain_text("Kanya Saelim")  # only they changed it
    shot(page, "customer-edit-conflict")

    conflict.get_by_role("button", name="Re-apply mine on top").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    expect(profile).to_contain_text("Kanya-chan")
    expect(profile).to_contain_text("kanya@example.com")
    expect(profile).to_contain_text("Kanya Saelim")

    with admin_api(system) as api:
        now = api.get(f"/api/v1/customers/{customer_id}/overview").json()["customer"]
    assert (now["nickname"], now["email"], now["name_latin"]) == (
        "Kanya-chan",
        "kanya@example.com",
        "Kanya Saelim",
    )


def test_a_viewer_sees_the_360_without_edit_merge_or_erase(
    system: System, app_url: str, page_as: Callable[..., Page]
) -> None:
    e164, _ = _thai_mobile()
    with admin_api(system) as api:
        customer = _new_customer(api, name_latin="Preecha Viewer", phone=e164)
        twin = _new_customer(api, name_latin="Preecha Viewer", phone=e164)
        note = api.post(
            f"/api/v1/customers/{customer['customer_id']}/notes", json={"body": "Asked about sushi"}
        )
        assert note.status_code == 201, note.text

    page = page_as("viewer")
    page.goto(f"{app_url}/customers/{customer['customer_id']}")
    expect(page.get_by_test_id("customer-360")).to_be_visible()
    expect(page.get_by_test_id("profile-card")).to_contain_text("Preecha Viewer")
    expect(page.get_by_test_id("notes-card")).to_contain_text("Asked about sushi")
    duplicates = page.get_by_test_id("duplicates-card")
    expect(duplicates).to_contain_text(twin["customer_id"])
    expect(duplicates).to_contain_text("Same phone")

    for name in ("Edit profile", "Merge into this customer", "Erase this customer", "Add note"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_test_id("pdpa-card")).to_have_count(0)
    expect(page.get_by_label("New note")).to_have_count(0)
    # The stage pipeline is shown, but not as buttons.
    expect(page.get_by_test_id("stage-pipeline").get_by_role("button")).to_have_count(0)
