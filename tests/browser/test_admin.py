"""Staff administration and the audit log in the staff web app: an admin adds a staff member and
changes their role in the UI; the audit log shows both (`staff.create`, `staff.update` with the
role before and after), its filters narrow the list; a manager reads the log but has no Staff page."""

from __future__ import annotations

import re
import secrets
from typing import Any

from playwright.sync_api import Page, expect

from .helpers import admin_api, shot, wait_until


def _staff_by_email(system: Any, email: str) -> dict[str, Any] | None:
    with admin_api(system) as api:
        response = api.get("/api/v1/staff")
        assert response.status_code == 200, response.text
        found = [s for s in response.json()["items"] if s["email"] == email]
    return found[0] if found else None


def test_an_admin_adds_a_staff_member_and_the_audit_log_shows_it(system: Any, admin_page: Page) -> None:
    page = admin_page
    suffix = secrets.token_hex(4)
    name, email = f"Khun Fah {suffix}", f"fah-{suffix}@vschool.example.com"

    page.goto("/staff")
    expect(page.get_by_role("heading", name="Staff", level=1)).to_be_visible()
    page.get_by_role("button", name="Add a staff member").click()
    form = page.get_by_test_id("staff-add-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Role").select_option("agent")
    form.get_by_label("First password").fill("short")
    form.get_by_role("button", name="Add", exact=True).click()
    expect(form).to_contain_text("At least 12 characters.")
    form.get_by_label("First password").fill(f"first-pass-{secrets.token_hex(6)}")
    form.get_by_role("button", name="Add", exact=True).click()

    row = page.locator(f"[data-testid='staff-row'][data-email='{email}']")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Active")
    staff = wait_until(lambda: _staff_by_email(system, email))
    assert staff["role"] == "agent"

    # A new role, through the row's select (PATCH with If-Match from GET one).
    row.get_by_label(f"Role of {name}").select_option("marketer")
    expect(page.get_by_text(f"{name} is now Marketer")).to_be_visible()
    wait_until(lambda: (_staff_by_email(system, email) or {}).get("role") == "marketer")

    # The audit log: filtered to this staff member's record.
    page.goto("/audit")
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    expect(page.get_by_test_id("audit-entry").first).to_be_visible()
    filters = page.get_by_test_id("audit-filters")
    filters.get_by_label("Kind of record").select_option("staff")
    filters.get_by_label("Record id").fill(staff["id"])
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"entity_type=staff"))
    entries = page.get_by_test_id("audit-entry")
    expect(entries).to_have_count(2)
    created = page.locator("[data-testid='audit-entry'][data-action='staff.create']")
    expect(created).to_contain_text(staff["id"])
    expect(created.get_by_test_id("audit-changes")).to_contain_text("role")
    expect(created.get_by_test_id("audit-changes")).to_contain_text("Agent")
    updated = page.locator("[data-testid='audit-entry'][data-action='staff.update']")
    changes = updated.get_by_test_id("audit-changes")
    expect(changes.get_by_role("row", name=re.compile(r"role"))).to_contain_text("Agent")
    expect(changes.get_by_role("row", name=re.compile(r"role"))).to_contain_text("Marketer")
    expect(page.get_by_text("{")).to_have_count(0)  # readable, not raw JSON

    # Another filter: the action alone.
    filters.get_by_label("Record id").fill("")
    filters.get_by_label("Action").fill("staff.create")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"action=staff\.create"))
    expect(page.locator("[data-testid='audit-entry'][data-entity-id='" + staff["id"] + "']")).to_have_count(1)
    expect(page.locator("[data-testid='audit-entry']:not([data-action='staff.create'])")).to_have_count(0)
    shot(page, "audit")


def test_a_manager_reads_the_audit_log_but_has_no_staff_page(page_as: Any) -> None:
    page = page_as("manager")
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="Audit log")).to_be_visible()
    expect(nav.get_by_role("link", name="Staff", exact=True)).to_have_count(0)
    page.goto("/audit")
    expect(page.get_by_test_id("audit-entry").first).to_be_visible()
    # Undoing a merge is an admin's: no manager sees the button.
    expect(page.get_by_role("button", name="Undo merge")).to_have_count(0)
    page.goto("/staff")
    expect(page.get_by_text("Not available for your role")).to_be_visible()


def test_an_admin_undoes_a_merge_from_the_audit_log(system: Any, admin_page: Page) -> None:
    suffix = secrets.token_hex(3)
    with admin_api(system) as api:
        survivor, merged = (
            api.post("/api/v1/customers", json={"channel": "WALKIN", "name_latin": f"{who} {suffix}"}).json()
            for who in ("Nok Survivor", "Nok Duplicate")
        )
        response = api.post(
            f"/api/v1/customers/{survivor['customer_id']}/merge", json={"merged_id": merged["customer_id"]}
        )
        assert response.status_code == 200, response.text
        merge_id = response.json()["merge_id"]

    page = admin_page
    page.goto(f"/audit?entity_type=customer&entity_id={survivor['customer_id']}&action=customer.merge")
    entry = page.locator("[data-testid='audit-entry'][data-action='customer.merge']")
    expect(entry).to_have_count(1)
    entry.get_by_role("button", name="Undo merge").click()
    entry.get_by_role("button", name="Yes, undo the merge").click()
    done = f"Merge undone: {merged['customer_id']} exists on its own again."
    expect(page.get_by_text(done)).to_be_visible()
    expect(entry).to_contain_text("Undone")
    expect(entry.get_by_role("button", name="Undo merge")).to_have_count(0)
    with admin_api(system) as api:
        params = {"action": "customer.merge", "entity_id": survivor["customer_id"]}
        page_of = api.get("/api/v1/audit", params=params)
        [audited] = [e for e in page_of.json()["items"] if e["id"] == merge_id]
    assert audited["undone_at"] is not None
    assert audited["undoable"] is False
