"""What the PDPA tests seed and talk to: a customer with every kind of row the gateway keeps (its
values listed in PERSONAL, to search for after an erasure), and a fake of the messenger's and the
ai service's `POST /internal/v1/pdpa/export`, answering in their JSON shapes (written out here by
hand, never through the gateway's models)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import insert

from crm_contracts.snapshots import CustomerSnapshot, customer_path
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Role, Staff
from crm_gateway.catalog.models import products
from crm_gateway.customers.models import (
    customer_identities,
    customer_notes,
    customer_stage_changes,
    customer_timeline,
    customers,
)
from crm_gateway.db import outbox
from crm_gateway.orders.models import order_lines, orders, payments
from crm_servicekit.runtime import Runtime

from .conftest import INTERNAL_TOKEN, PAGE_ID

CUSTOMER = "TVS-CUS-FB-26-0042"
MERGED = "TVS-CUS-FB-26-0043"
PSID, MERGED_PSID = "7100200300400500", "7100200300400599"
NOTE = "แพ้อาหารทะเล; lives at 12 Soi Erasetest"
REFUND_REASON = "Somying Erasetest was in hospital"
PAY_REFERENCE = "KBANK-REF-991122"
PROFILE: dict[str, Any] = {
    "display_name": "Somying Erasetest",
    "first_name": "Somying",
    "last_name": "Erasetest",
    "profile_pic": "https://example.test/pic/somying-erasetest.jpg",
    "name_th": "สมหญิง ทดสอบลบ",
    "name_latin": "Somying Erasetest",
    "nickname": "Noonerase",
    "phone": "+66812345099",
    "email": "somying.erase@example.com",
    "tags": ["vip-erasetest"],
    "extra": {"line_id": "somying-line-erase"},
    "consent_status": "granted",
    "consent_at": datetime(2026, 4, 1, tzinfo=UTC),
    "consent_method": "web_form",
}
MERGED_NAME = "Noon Oldaccount"
# Everything above that names the person: none of it may be left after an erasure.
PERSONAL = [
    PSID,
    MERGED_PSID,
    NOTE,
    PAY_REFERENCE,
    REFUND_REASON,
    MERGED_NAME,
    "Somying",
    "Erasetest",
    "สมหญิง",
    "Noonerase",
    "+66812345099",
    "812345099",
    "somying.erase@example.com",
    "somying-erasetest.jpg",
    "somying-line-erase",
    "vip-erasetest",
]


@dataclass
class ExportFake:
    """`POST /internal/v1/pdpa/export` answering from `held` (by PSID), or `down_with` a status."""

    service: str
    section: str
    held: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bodies: list[Any] = field(default_factory=list)
    down_with: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.held.clear()
            self.bodies.clear()
            self.down_with = None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/internal/v1/pdpa/export", response_model=None)
        async def export(request: Request) -> JSONResponse:
            if request.headers.get("x-internal-token") != INTERNAL_TOKEN:
                return JSONResponse({"detail": "token"}, status_code=401)
            body = await request.json()
            with self.lock:
                self.bodies.append(body)
                if self.down_with is not None:
                    return JSONResponse({"detail": "down"}, status_code=self.down_with)
                wanted = {i["external_id"] for i in body["identities"] if i["channel"] == "messenger"}
                items = [item for psid in wanted for item in self.held.get(psid, [])]
            return JSONResponse({"service": self.service, self.section: items, "later_section": []})

        return app


@dataclass(frozen=True)
class Seeded:
    order_id: uuid.UUID
    admin_id: uuid.UUID


async def seed(runtime: Runtime, admin_id: uuid.UUID, cache_dir: Path) -> Seeded:
    """A customer with every kind of row the gateway keeps, one customer merged into it, an
    unpublished event and a cache snapshot naming them."""
    now = datetime.now(UTC)
    async with runtime.sessionmaker() as session, session.begin():
        touch = {"source": "ADS", "ad_id": "ad-77", "ref": "somying-line-erase"}
        await session.execute(
            insert(customers).values(
                id=CUSTOMER, channel="FB", first_touch=touch, latest_touch=None, **PROFILE
            )
        )
        await session.execute(
            insert(customers).values(
                id=MERGED, channel="FB", display_name=MERGED_NAME, state="merged", merged_into=CUSTOMER
            )
        )
        await session.execute(
            insert(customer_identities),
            [
                {"customer_id": CUSTOMER, "channel": "messenger", "page_id": PAGE_ID, "external_id": PSID},
                {
                    "customer_id": MERGED,
                    "channel": "messenger",
                    "page_id": PAGE_ID,
                    "external_id": MERGED_PSID,
                },
            ],
        )
        await session.execute(
            insert(customer_notes).values(customer_id=CUSTOMER, body=NOTE, author_id=admin_id)
        )
        await session.execute(
            insert(customer_stage_changes).values(
                customer_id=CUSTOMER, from_stage="lead", to_stage="qualified"
            )
        )
        product_id = (
            await session.execute(
                insert(products)
                .values(kind="course", name_th="คอร์สซูชิ", price=Decimal("12500.00"))
                .returning(products.c.id)
            )
        ).scalar_one()
        order_id = (
            await session.execute(
                insert(orders)
                .values(
                    customer_id=CUSTOMER,
                    total=Decimal("12000.00"),
                    paid=Decimal("12000.00"),
                    status="paid",
                    attribution={"first_touch": {"ad_id": "ad-77", "ref": "somying-line-erase"}},
                )
                .returning(orders.c.id)
            )
        ).scalar_one()
        await session.execute(
            insert(order_lines).values(
                order_id=order_id,
                product_id=product_id,
                quantity=1,
                unit_price=Decimal("12500.00"),
                discount=Decimal("500.00"),
                line_total=Decimal("12000.00"),
            )
        )
        await session.execute(
            insert(payments).values(
                order_id=order_id,
                method="transfer",
                amount=Decimal("12000.00"),
                received_at=now,
                reference=PAY_REFERENCE,
            )
        )
        await session.execute(
            insert(payments).values(
                order_id=order_id,
                kind="refund",
                method="transfer",
                amount=Decimal("500.00"),
                received_at=now + timedelta(minutes=1),
                reason=REFUND_REASON,
            )
        )
        await session.execute(
            insert(customer_timeline),
            [
                {"customer_id": CUSTOMER, "kind": "note_added", "occurred_at": now, "detail": {"chars": 40}},
                {
                    "customer_id": CUSTOMER,
                    "kind": "order_created",
                    "occurred_at": now,
                    "detail": {"total": "12000.00"},
                },
                {"customer_id": CUSTOMER, "kind": "ad_touch", "occurred_at": now, "detail": {"psid": PSID}},
            ],
        )
        staff = Staff(
            id=admin_id, email="admin@vschool.example", role=Role.ADMIN, is_active=True, password_hash=""
        )
        await audit.record(
            session,
            actor=staff,
            action="customer.update",
            at=now - timedelta(minutes=3),
            entity=("customer", CUSTOMER),
            before={"phone": None, "lifecycle_stage": "lead"},
            after={"phone": PROFILE["phone"], "name_th": PROFILE["name_th"], "lifecycle_stage": "qualified"},
        )
        await audit.record(
            session,
            actor=staff,
            action="customer.merge",
            at=now - timedelta(minutes=2),
            entity=("customer", CUSTOMER),
            after={"merged": MERGED},
            undo={"customer": {"display_name": MERGED_NAME, "identities": [MERGED_PSID]}},
        )
        await audit.record(
            session,
            actor=staff,
            action="order.pay",
            at=now - timedelta(minutes=1),
            entity=("order", str(order_id)),
            after={"reference": PAY_REFERENCE, "amount": Decimal("12000.00")},
        )
        # Committed but not yet sent (the relay only sends rows older than a moment).
        await session.execute(
            insert(outbox).values(
                event_id=uuid.uuid4(),
                type="customer.updated",
                payload={
                    "data": {"customer_id": CUSTOMER, "display_name": PROFILE["display_name"], "psid": PSID}
                },
                headers={},
                created_at=now + timedelta(hours=1),
            )
        )
    stale = CustomerSnapshot(
        customer_id=CUSTOMER,
        channel="FB",
        display_name=PROFILE["display_name"],
        lifecycle_stage="qualified",
        identities=[],
        created_at=now,
        updated_at=now,
        phone=PROFILE["phone"],
    )
    path = cache_dir / customer_path(CUSTOMER)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(stale.model_dump_json())
    return Seeded(order_id, admin_id)
