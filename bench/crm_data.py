"""A realistic CRM for the gateway benchmark, generated in memory and loaded with COPY.

Customers get a mix of Thai names in Thai script and their romanisations, nicknames, E.164 Thai
mobile numbers, e-mail addresses, tags, lifecycle stages with their history, notes, Messenger
identities (the `FB` customers) and `created_at` spread over two years; ids follow the gateway's
`TVS-CUS-<channel>-<yy>-<seq>` per channel and Bangkok year, and `customer_id_sequences` is set so
the next customer created through the API gets the next number. Every customer has the same
number of orders (one or two lines from a small catalog, courses booked on a session, payments
and refunds as their status says) and a timeline of all of it.

Rows go in with asyncpg `copy_records_to_table` after the gateway's migrations, so the indexes
are the migrations' own. Identity columns are left to PostgreSQL, so new rows follow.

What the benchmark asks for comes back as `Terms`: the ids, names, phone numbers, tags and
products it picks from at random for each request.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import asyncpg
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from crm_contracts.snapshots import (
    LATEST_CUSTOMERS_PATH,
    LATEST_CUSTOMERS_SIZE,
    CustomerListSnapshot,
    customer_path,
)
from crm_gateway.customers import repository
from crm_gateway.customers.ids import CustomerChannel, bangkok_year, format_customer_id
from crm_gateway.customers.models import customers as cust

GIVEN = [
    ("สมชาย", "Somchai"), ("สมศักดิ์", "Somsak"), ("สมพงษ์", "Somphong"), ("ประเสริฐ", "Prasert"),
    ("วิชัย", "Wichai"), ("สุชาติ", "Suchat"), ("อนุชา", "Anucha"), ("ธนพล", "Thanaphon"),
    ("ณัฐวุฒิ", "Nattawut"), ("กิตติพงษ์", "Kittiphong"), ("ชัยวัฒน์", "Chaiwat"), ("พงศกร", "Phongsakorn"),
    ("ศุภชัย", "Supachai"), ("ธีรวัฒน์", "Theerawat"), ("อภิชาติ", "Aphichat"), ("วีระ", "Weera"),
    ("สุรศักดิ์", "Surasak"), ("ปิยะ", "Piya"), ("นพดล", "Noppadol"), ("จักรพันธ์", "Jakkaphan"),
    ("สมหญิง", "Somying"), ("สุดา", "Suda"), ("มาลี", "Malee"), ("วันเพ็ญ", "Wanphen"),
    ("กาญจนา", "Kanchana"), ("ศิริพร", "Siriporn"), ("นภัสสร", "Napatsorn"), ("พิมพ์ชนก", "Pimchanok"),
    ("ณัฐธิดา", "Natthida"), ("ปวีณา", "Paweena"), ("อรอุมา", "Onuma"), ("จิราพร", "Jiraporn"),
    ("สุภาพร", "Supaporn"), ("รัตนา", "Rattana"), ("วรรณา", "Wanna"), ("ชนิดา", "Chanida"),
    ("ธิดารัตน์", "Thidarat"), ("กมลชนก", "Kamonchanok"), ("เบญจวรรณ", "Benjawan"), ("ปิยะนุช", "Piyanuch"),
]  # fmt: skip
SURNAMES = [
    ("ใจดี", "Jaidee"), ("สุขสวัสดิ์", "Suksawat"), ("ศรีสุข", "Srisuk"), ("วงศ์สวัสดิ์", "Wongsawat"),
    ("แสงทอง", "Saengthong"), ("บุญมา", "Boonma"), ("ทองดี", "Thongdee"), ("รัตนพันธ์", "Rattanaphan"),
    ("ศักดิ์สิทธิ์", "Saksit"), ("พรหมมา", "Phromma"), ("จันทร์เพ็ญ", "Chanphen"), ("สมบูรณ์", "Somboon"),
    ("เจริญผล", "Charoenphon"), ("กิตติศักดิ์", "Kittisak"), ("มั่นคง", "Mankhong"), ("อินทร์แก้ว", "Inkaew"),
    ("ชัยมงคล", "Chaimongkol"), ("ศรีวงศ์", "Sriwong"), ("ปัญญาดี", "Panyadee"), ("ธนากร", "Thanakorn"),
    ("วัฒนา", "Wattana"), ("สายทอง", "Saithong"), ("ทองคำ", "Thongkham"), ("แก้วมณี", "Kaewmanee"),
    ("บุญเรือง", "Boonruang"), ("พึ่งบุญ", "Phuengboon"), ("นาคสวัสดิ์", "Naksawat"), ("เพชรรัตน์", "Phetcharat"),
    ("ศรีประเสริฐ", "Siprasert"), ("ลิ้มเจริญ", "Limcharoen"),
]  # fmt: skip
NICKNAMES = ["ต้น", "บอย", "แบงค์", "เอ", "ฝน", "นุ่น", "แพร", "มิ้นท์", "ปลา", "กุ้ง", "หนิง", "เบียร์", "โอ๊ต", "พลอย"]
TAGS = ["sushi", "ramen", "bakery", "thai-cuisine", "coffee", "weekend", "evening", "corporate", "vip",
        "promo", "returning", "line-oa"]  # fmt: skip
STAGES = ["lead", "contacted", "qualified", "enrolled", "alumni", "lost"]
STAGE_WEIGHTS = [35, 20, 15, 15, 10, 5]
STAGE_PATHS = {
    "lead": ["lead"],
    "contacted": ["lead", "contacted"],
    "qualified": ["lead", "contacted", "qualified"],
    "enrolled": ["lead", "contacted", "qualified", "enrolled"],
    "alumni": ["lead", "contacted", "qualified", "enrolled", "alumni"],
    "lost": ["lead", "contacted", "lost"],
}
CHANNELS = ["FB", "LINE", "WEB", "WALKIN"]
CHANNEL_WEIGHTS = [55, 15, 15, 15]
# Mobile prefixes the phone-number library accepts as Thai mobiles (after +66).
MOBILE_PREFIXES = ["61", "62", "63", "64", "65", "81", "82", "83", "84", "85", "86", "87", "88", "89",
                   "91", "92", "93", "94", "95", "96", "97", "98", "99"]  # fmt: skip
DOMAINS = ["gmail.com", "hotmail.com", "yahoo.co.th", "outlook.com"]
NOTES = ["สนใจคอร์สซูชิรอบเดือนหน้า", "ขอใบเสนอราคาสำหรับบริษัท", "โทรกลับช่วงเย็น", "ชำระมัดจำแล้ว รอโอนส่วนที่เหลือ"]
PAGE_ID = "104857600123456"
# (kind, Thai name, English name, price, sessions): a small catalog, courses booked on sessions.
CATALOG = [
    ("course", "คอร์สซูชิมืออาชีพ", "Professional sushi", "35000.00", 3),
    ("course", "คอร์สราเมง", "Ramen course", "25000.00", 3),
    ("course", "คอร์สเบเกอรี่", "Bakery course", "18000.00", 3),
    ("course", "คอร์สอาหารไทย", "Thai cuisine", "12000.00", 3),
    ("package", "แพ็กเกจเปิดร้านซูชิ", "Sushi shop package", "89000.00", 0),
    ("equipment", "ชุดมีดญี่ปุ่น", "Japanese knife set", "4500.00", 0),
    ("equipment", "เขียงไม้ฮิโนกิ", "Hinoki board", "1800.00", 0),
    ("menu_item", "ชุดทดลองชิม", "Tasting set", "450.00", 0),
]
# The benchmark books seats too: sessions get this much room beyond the seats loaded orders took.
SEAT_HEADROOM = 1_000_000
ORDER_STATUSES = ["pending", "paid", "cancelled", "refunded"]
ORDER_STATUS_WEIGHTS = [25, 55, 10, 10]


@dataclass(frozen=True)
class Product:
    id: uuid.UUID
    kind: str
    sessions: list[uuid.UUID]


@dataclass
class Terms:
    """What the benchmark's requests pick from."""

    customer_ids: list[str] = field(default_factory=list)
    thai_names: list[str] = field(default_factory=list)
    """Parts of Thai names as staff type them: a given name, a surname or both."""
    local_phones: list[str] = field(default_factory=list)
    """Loaded numbers in a local form (`081-234-5678`, `0812345678`)."""
    tag_stages: list[tuple[str, str]] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)


@dataclass
class Tables:
    """Rows per table, in the column order of `COLUMNS`."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in COLUMNS})

    def add(self, table: str, *values: Any) -> None:
        self.rows[table].append(values)

    def counts(self) -> dict[str, int]:
        return {t: len(r) for t, r in self.rows.items()}


COLUMNS: dict[str, list[str]] = {
    "staff_users": ["id", "email", "password_hash", "role", "name"],
    "customers": [
        "id",
        "channel",
        "display_name",
        "lifecycle_stage",
        "first_touch",
        "latest_touch",
        "created_at",
        "updated_at",
        "first_name",
        "last_name",
        "name_th",
        "name_latin",
        "nickname",
        "phone",
        "email",
        "tags",
        "assigned_staff_id",
        "consent_status",
        "consent_at",
        "consent_method",
    ],
    "customer_identities": ["customer_id", "channel", "page_id", "external_id"],
    "customer_stage_changes": ["customer_id", "from_stage", "to_stage", "changed_at"],
    "customer_notes": ["customer_id", "body", "created_at"],
    "customer_timeline": ["customer_id", "kind", "occurred_at", "detail"],
    "products": ["id", "kind", "name_th", "name_en", "category", "price"],
    "course_sessions": ["id", "product_id", "starts_at", "ends_at", "capacity", "seats_taken"],
    "orders": ["id", "customer_id", "status", "total", "attribution", "created_at", "updated_at", "paid"],
    "order_lines": [
        "order_id",
        "product_id",
        "session_id",
        "quantity",
        "unit_price",
        "discount",
        "line_total",
    ],
    "payments": ["order_id", "kind", "method", "amount", "received_at", "reference"],
    "customer_id_sequences": ["channel", "year", "last_value"],
}


class Generator:
    """Deterministic for a seed: the same data (but `now`) on every run."""

    def __init__(self, customers: int, orders_per_customer: int, seed: int, now: datetime | None = None):
        self.rng = random.Random(seed)
        self.customers = customers
        self.orders_per_customer = orders_per_customer
        self.now = now or datetime.now(UTC)
        self.tables = Tables()
        self.terms = Terms()
        self.staff = [uuid.UUID(int=self.rng.getrandbits(128), version=4) for _ in range(5)]
        self.catalog: list[tuple[Product, Decimal, str]] = []
        self.seats: Counter[uuid.UUID] = Counter()

    def generate(self) -> tuple[Tables, Terms]:
        for i, staff_id in enumerate(self.staff):
            # Not a password hash anyone can sign in with: these agents only own customers.
            self.tables.add("staff_users", staff_id, f"agent{i}@bench.vschool.test", "!", "agent", None)
        self._catalog()
        self._customers()
        self._sessions_and_sequences()
        return self.tables, self.terms

    def _catalog(self) -> None:
        for kind, name_th, name_en, price, sessions in CATALOG:
            product_id = uuid.UUID(int=self.rng.getrandbits(128), version=4)
            session_ids = [uuid.UUID(int=self.rng.getrandbits(128), version=4) for _ in range(sessions)]
            self.tables.add("products", product_id, kind, name_th, name_en, "bench", Decimal(price))
            product = Product(product_id, kind, session_ids)
            self.catalog.append((product, Decimal(price), name_th))
            self.terms.products.append(product)

    def _sessions_and_sequences(self) -> None:
        for product, _, _ in self.catalog:
            for n, session_id in enumerate(product.sessions):
                starts = self.now + timedelta(days=30 * (n + 1))
                taken = self.seats[session_id]
                self.tables.add(
                    "course_sessions",
                    session_id,
                    product.id,
                    starts,
                    starts + timedelta(days=5),
                    taken + SEAT_HEADROOM,
                    taken,
                )

    def _customers(self) -> None:
        rng = self.rng
        span = timedelta(days=730).total_seconds()
        created = sorted(self.now - timedelta(seconds=rng.random() * span) for _ in range(self.customers))
        numbers: Counter[tuple[str, int]] = Counter()
        phones = rng.sample(range(10_000_000), self.customers)  # unique 7-digit tails
        for index, created_at in enumerate(created):
            channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
            year = bangkok_year(created_at)
            numbers[(channel, year)] += 1
            customer_id = format_customer_id(cast(CustomerChannel, channel), year, numbers[(channel, year)])
            self._customer(customer_id, channel, created_at, phones[index])
        for (channel, year), last in numbers.items():
            self.tables.add("customer_id_sequences", channel, year, last)

    def _customer(self, customer_id: str, channel: str, created_at: datetime, digits: int) -> None:
        rng = self.rng
        given_th, given_latin = rng.choice(GIVEN)
        surname_th, surname_latin = rng.choice(SURNAMES)
        name_th = f"{given_th} {surname_th}" if rng.random() < 0.85 else None
        name_latin = f"{given_latin} {surname_latin}" if rng.random() < 0.7 else None
        phone = f"+66{rng.choice(MOBILE_PREFIXES)}{digits:07d}" if rng.random() < 0.75 else None
        email = None
        if rng.random() < 0.5:
            email = f"{given_latin}.{surname_latin}{rng.randrange(1000)}@{rng.choice(DOMAINS)}".lower()
        first_name = last_name = touch = None
        if channel == "FB":  # a Messenger contact: named by its public profile, maybe from an ad
            first_name, last_name = (
                (given_latin, surname_latin) if rng.random() < 0.6 else (given_th, surname_th)
            )
            psid = str(24_000_000_000_000_000 + rng.getrandbits(50))
            self.tables.add("customer_identities", customer_id, "messenger", PAGE_ID, psid)
            if rng.random() < 0.5:
                touch = json.dumps(
                    {"source": "ADS", "type": "OPEN_THREAD", "ad_id": str(rng.randrange(10**12))}
                )
        display_name = f"{first_name} {last_name}" if first_name else (name_th or name_latin)
        stage = rng.choices(STAGES, STAGE_WEIGHTS)[0]
        tags = rng.sample(TAGS, rng.choice([0, 1, 1, 2, 2, 3]))
        updated_at = min(self.now, created_at + timedelta(days=rng.random() * 60))
        consent = rng.random() < 0.4
        self.tables.add(
            "customers",
            customer_id,
            channel,
            display_name,
            stage,
            touch,
            touch,
            created_at,
            updated_at,
            first_name,
            last_name,
            name_th,
            name_latin,
            rng.choice(NICKNAMES) if rng.random() < 0.4 else None,
            phone,
            email,
            tags,
            rng.choice(self.staff) if rng.random() < 0.5 else None,
            "granted" if consent else None,
            created_at if consent else None,
            "form" if consent else None,
        )
        self._terms(customer_id, name_th, given_th, surname_th, phone, tags, stage)
        self._history(customer_id, channel, stage, created_at, updated_at)
        for _ in range(self.orders_per_customer):
            self._order(customer_id, created_at, touch)

    def _terms(
        self,
        customer_id: str,
        name_th: str | None,
        given: str,
        surname: str,
        phone: str | None,
        tags: list[str],
        stage: str,
    ) -> None:
        terms, rng = self.terms, self.rng
        terms.customer_ids.append(customer_id)
        if name_th:
            terms.thai_names.append(rng.choice([given, given, surname, surname, name_th]))
        if phone:
            local = "0" + phone[3:]
            terms.local_phones.append(
                f"{local[:3]}-{local[3:6]}-{local[6:]}" if rng.random() < 0.5 else local
            )
        if tags:
            terms.tag_stages.append((rng.choice(tags), stage))

    def _history(
        self, customer_id: str, channel: str, stage: str, created: datetime, updated: datetime
    ) -> None:
        rng, add = self.rng, self.tables.add
        add("customer_timeline", customer_id, "customer_created", created, json.dumps({"channel": channel}))
        if channel == "FB":
            detail = json.dumps({"conversation_id": str(uuid.UUID(int=rng.getrandbits(128), version=4))})
            add("customer_timeline", customer_id, "conversation_started", created, detail)
        path = STAGE_PATHS[stage]
        step = (updated - created) / len(path)
        for n, to_stage in enumerate(path):
            at = created + step * n
            from_stage = path[n - 1] if n else None
            add("customer_stage_changes", customer_id, from_stage, to_stage, at)
            if n:
                add(
                    "customer_timeline",
                    customer_id,
                    "stage_changed",
                    at,
                    json.dumps({"from": from_stage, "to": to_stage}),
                )
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
            at = created + (updated - created) * rng.random()
            add("customer_notes", customer_id, rng.choice(NOTES), at)
            add("customer_timeline", customer_id, "note_added", at, "{}")

    def _order(self, customer_id: str, customer_created: datetime, touch: str | None) -> None:
        rng, add = self.rng, self.tables.add
        order_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        created = customer_created + (self.now - customer_created) * rng.random()
        status = rng.choices(ORDER_STATUSES, ORDER_STATUS_WEIGHTS)[0]
        total = Decimal("0.00")
        for product, price, _ in rng.sample(self.catalog, rng.choice([1, 1, 1, 2])):
            session_id = rng.choice(product.sessions) if product.sessions else None
            discount = (
                Decimal("500.00") if product.kind == "course" and rng.random() < 0.2 else Decimal("0.00")
            )
            add("order_lines", order_id, product.id, session_id, 1, price, discount, price - discount)
            total += price - discount
            if session_id is not None and status in ("pending", "paid"):
                self.seats[session_id] += 1
        paid = total if status == "paid" else Decimal("0.00")
        attribution = json.dumps(
            {
                "first_touch": json.loads(touch) if touch else None,
                "latest_touch": json.loads(touch) if touch else None,
            }
        )
        add("orders", order_id, customer_id, status, total, attribution, created, created, paid)
        add(
            "customer_timeline",
            customer_id,
            "order_created",
            created,
            json.dumps({"order_id": str(order_id), "amount": str(total), "status": "pending"}),
        )
        if status in ("paid", "refunded"):
            received = created + timedelta(hours=rng.randrange(1, 72))
            method = rng.choice(["transfer", "card", "cash", "promptpay"])
            add("payments", order_id, "payment", method, total, received, f"REF-{order_id.hex[:12]}")
            if status == "refunded":
                add("payments", order_id, "refund", method, total, received + timedelta(days=3), None)
        if status != "pending":
            add(
                "customer_timeline",
                customer_id,
                "order_status_changed",
                created,
                json.dumps({"order_id": str(order_id), "status": status}),
            )


LOAD_ORDER = list(COLUMNS)


async def load(database_url: str, tables: Tables) -> dict[str, int]:
    """COPY every table (parents first), then ANALYZE so the planner knows the sizes."""
    conn = await asyncpg.connect(database_url)
    try:
        for table in LOAD_ORDER:
            rows = tables.rows[table]
            if rows:
                await conn.copy_records_to_table(
                    table, schema_name="gateway", columns=COLUMNS[table], records=rows
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return tables.counts()


async def write_snapshots(database_url: str, root: Path, batch: int = 2000) -> int:
    """Every customer's snapshot and the newest-customers list, as the cache-writer keeps them.

    The snapshots come from the gateway's own mapping of its rows (`repository.with_identities`),
    which is what its `customer.created` / `customer.updated` events carry to the cache-writer;
    the files are serialised as the cache-writer serialises them. Not written atomically: the
    gateway reads none of them until this returns.
    """
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    written = 0
    try:
        async with AsyncSession(engine) as session:
            ids = (await session.execute(select(cust.c.id).order_by(cust.c.id))).scalars().all()
            for start in range(0, len(ids), batch):
                rows = (
                    await session.execute(select(cust).where(cust.c.id.in_(ids[start : start + batch])))
                ).all()
                for snapshot in await repository.with_identities(session, rows):
                    _write(root / customer_path(snapshot.customer_id), snapshot)
                    written += 1
            newest = (
                await session.execute(
                    select(cust)
                    .where(cust.c.state == "active")
                    .order_by(cust.c.created_at.desc(), cust.c.id.desc())
                    .limit(LATEST_CUSTOMERS_SIZE)
                )
            ).all()
            items = await repository.with_identities(session, newest)
            _write(
                root / LATEST_CUSTOMERS_PATH,
                CustomerListSnapshot(generated_at=datetime.now(UTC), items=items),
            )
    finally:
        await engine.dispose()
    return written


def _write(path: Path, model: BaseModel) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.model_dump_json(indent=2).encode())
