"""Catalog and orders in the staff web app, as staff see them: an order taken in the UI for a
customer books seats (the session's seats left drop live, without a reload), a payment of the full
amount recorded in the UI makes it paid and moves today's dashboard revenue by exactly that amount;
a viewer sees products and orders but none of the actions.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from .helpers import admin_api, shot, wait_until

BANGKOK = timedelta(hours=7)


def _course(api: httpx.Client, suffix: str, price: str) -> dict[str, Any]:
    response = api.post(
        "/api/v1/products",
        json={
            "kind": "course",
            "name_th": f"คอร์สราเมนโฮมเมด {suffix}",
            "name_en": f"Homemade ramen {suffix}",
            "category": "ramen",
            "price": price,
            "duration_minutes": 240,
            "description_th": "ทำเส้นราเมนและน้ำซุปทงคตสึด้วยตัวเอง",
            "description_en": "Make ramen noodles and tonkotsu broth from scratch.",
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _session(api: httpx.Client, product_id: str, capacity: int) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    response = api.post(
        f"/api/v1/products/{product_id}/sessions",
        json={
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=4)).isoformat(),
            "capacity": capacity,
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _customer(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.post("/api/v1/customers", json={"channel": "WALKIN", "name_latin": name})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _revenue_today(api: httpx.Client) -> Decimal:
    summary = api.get("/api/v1/dashboards/summary").json()
    today = next(p for p in summary["periods"] if p["name"] == "today")
    return Decimal(today["kpis"]["revenue"])


def test_an_order_taken_and_paid_in_the_ui_books_seats_and_moves_todays_revenue(
    app_url: str, admin_page: Page, system: Any
) -> None:
    suffix = secrets.token_hex(3)
    with admin_api(system) as api:
        course = _course(api, suffix, "2450.50")
        session = _session(api, course["id"], capacity=8)
        customer = _customer(api, f"Browser Buyer {suffix}")
        revenue_before = _revenue_today(api)

    page = admin_page
    # The catalog: search as you type finds the course.
    page.goto(f"{app_url}/catalog")
    page.get_by_label("Search products").fill(f"ramen {suffix}")
    row = page.get_by_test_id("product-row").filter(has_text=f"Homemade ramen {suffix}")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("฿2,450.50")
    shot(page, "catalog")

    # The course's page, open in a second tab: its session has 8 seats left.
    watcher = page.context.new_page()
    watcher.goto(f"{app_url}/catalog/products/{course['id']}")
    seats = watcher.locator(f'[data-session-id="{session["id"]}"]').get_by_test_id("seats-left")
    expect(seats).to_have_text("8")
    expect(watcher.get_by_test_id("product-price")).to_have_text("฿2,450.50")

    # Take the order: find the customer, the course, its session, two seats.
    page.goto(f"{app_url}/catalog/orders")
    page.get_by_role("link", name="Take order").click()
    page.get_by_label("Find the customer").fill(f"Browser Buyer {suffix}")
    results = page.get_by_test_id("customer-results")
    match = results.get_by_role("listitem").filter(has_text=customer["customer_id"])
    match.get_by_role("button", name="Choose").click()
    expect(page.get_by_test_id("picked-customer")).to_contain_text(customer["customer_id"])
    page.get_by_label("Product").select_option(label=f"Homemade ramen {suffix} · ฿2,450.50")
    page.get_by_label("Session").select_option(value=session["id"])
    page.get_by_label("Quantity").fill("2")
    expect(page.get_by_test_id("order-preview")).to_contain_text("฿4,901.00")
    page.get_by_role("button", name="Create order").click()

    # The order as the server computed it.
    expect(page).to_have_url(re.compile(r"/catalog/orders/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("order-total")).to_have_text("฿4,901.00")
    expect(page.get_by_test_id("order-status")).to_have_text("Pending")
    expect(page.get_by_test_id("order-due")).to_have_text("฿4,901.00")

    # The other tab's seats left dropped by the quantity, without a reload (live).
    expect(seats).to_have_text("6")

    # Record a payment of the full amount (the form offers what is due).
    page.get_by_role("button", name="Record payment").click()
    form = page.get_by_test_id("payment-form")
    expect(form.get_by_label("Amount (THB)")).to_have_value("4901.00")
    form.get_by_label("Reference (optional)").fill(f"KBANK-{suffix}")
    form.get_by_role("button", name="Record payment").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("order-paid")).to_have_text("฿4,901.00")
    expect(page.get_by_test_id("order-due")).to_have_text("฿0.00")
    expect(page.get_by_test_id("order-payments")).to_contain_text(f"KBANK-{suffix}")
    expect(page.get_by_role("button", name="Record payment")).to_have_count(0)
    shot(page, "order")

    # Today's revenue on the dashboard moves by exactly the amount paid.
    with admin_api(system) as api:
        # The cache-writer renders within seconds of the payment.
        (revenue_after,) = wait_until(
            lambda: (r,) if (r := _revenue_today(api)) != revenue_before else None, timeout=90.0, interval=1.0
        )
    assert revenue_after - revenue_before == Decimal("4901.00")
    # And the dashboard screen shows today's revenue at that figure, to the satang.
    page.goto(f"{app_url}/dashboards?range=today")
    expect(page.get_by_test_id("kpi-revenue-value")).to_have_text(f"฿{revenue_after:,.2f}", timeout=30_000)


def test_a_viewer_sees_products_and_orders_but_no_actions(app_url: str, page_as: Any, system: Any) -> None:
    suffix = secrets.token_hex(3)
    with admin_api(system) as api:
        course = _course(api, suffix, "1800.00")
        session = _session(api, course["id"], capacity=5)
        customer = _customer(api, f"Viewer Case {suffix}")
        response = api.post(
            "/api/v1/orders",
            json={
                "customer_id": customer["customer_id"],
                "lines": [{"product_id": course["id"], "session_id": session["id"], "quantity": 1}],
            },
        )
        assert response.status_code == 201, response.text
        order = response.json()
        paid = api.post(
            f"/api/v1/orders/{order['id']}/payments",
            json={"method": "cash", "amount": "500.00", "received_at": datetime.now(UTC).isoformat()},
        )
        assert paid.status_code == 201, paid.text

    page = page_as("viewer")
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Catalog & orders")).to_be_visible()
    expect(nav.get_by_role("link", name="Knowledge base")).to_have_count(0)

    def no_action(name: str) -> None:
        expect(page.get_by_role("button", name=name)).to_have_count(0)
        expect(page.get_by_role("link", name=name)).to_have_count(0)

    page.goto(f"{app_url}/catalog")
    page.get_by_label("Search products").fill(suffix)
    expect(page.get_by_test_id("product-row").filter(has_text=f"Homemade ramen {suffix}")).to_have_count(1)
    no_action("Add product")

    page.goto(f"{app_url}/catalog/products/{course['id']}")
    expect(page.get_by_test_id("sessions")).to_contain_text("Seats left")
    no_action("Save price")
    no_action("Schedule a session")

    page.goto(f"{app_url}/catalog/orders")
    expect(page.get_by_test_id("order-table")).to_be_visible()
    no_action("Take order")

    page.goto(f"{app_url}/catalog/orders/{order['id']}")
    expect(page.get_by_test_id("order-status")).to_have_text("Pending")
    expect(page.get_by_test_id("order-paid")).to_have_text("฿500.00")
    for action in ("Record payment", "Refund", "Cancel order"):
        no_action(action)

    page.goto(f"{app_url}/knowledge")
    expect(page.get_by_text("Not available for your role")).to_be_visible()
