"""`python -m crm_gateway.legacy`: the old system's customer files, CSV and catalog come in once,
with what could not be read reported per file and field, and a rerun changes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from crm_contracts import ContactSeen
from crm_gateway.audit.models import audit_log
from crm_gateway.catalog.models import products
from crm_gateway.customers import repository, service
from crm_gateway.customers.models import (
    customer_id_sequences,
    customer_identities,
    customer_notes,
    customer_stage_changes,
    customer_timeline,
    customers,
)
from crm_gateway.db import outbox
from crm_gateway.legacy import values
from crm_gateway.legacy.__main__ import main
from crm_gateway.legacy.importer import Options, run
from crm_gateway.legacy.keys import canonical
from crm_gateway.legacy.mapping import map_customer, split_by_script
from crm_gateway.legacy.products import map_product
from crm_gateway.legacy.report import Report
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder, eventually

DATA = Path(__file__).parent / "legacy_data"
PAGE_ID = "1029384756"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CATALOG_IDS = ("C-SUSHI-01", "C-RAMEN-01", "EQ-KNIFE", "C-PKG-01")
BAD_FILES = {"TVS-CUS-FB-25-0006.json", "somchai-backup.json", "customers.csv:3", "customers.csv:5"}


# --- mapping (pure) --------------------------------------------------------------------------------


def test_keys_are_one_field_however_they_are_spelt() -> None:
    for spelling in ["fullName", "full_name", "Full Name", "full-name", " FULL_NAME "]:
        assert canonical(spelling) == "full_name"
    assert canonical("ชื่อ - นามสกุล") == canonical("ชื่อ-นามสกุล") == "ชื่อ_นามสกุล"
    assert canonical("createdAt") == canonical("Created At") == "created_at"
    for key in ["name", "fullName", "full_name", "ชื่อ", "ชื่อ-นามสกุล"]:
        assert map_customer({key: "สมชาย ใจดี"}, customer_id="x").record.name_th == "สมชาย ใจดี"
    for key in ["phone", "tel", "mobile", "เบอร์โทร", "Phone Number"]:
        assert map_customer({key: "0812345678"}, customer_id="x").record.phone == "+66812345678"


def test_names_are_split_by_script_and_first_and_last_names_joined() -> None:
    assert split_by_script("สมชาย ใจดี (Somchai Jaidee)") == ("สมชาย ใจดี", "Somchai Jaidee")
    assert split_by_script("Jane Doe") == (None, "Jane Doe")
    record = map_customer({"first_name": "วิภา", "last_name": "สุขใจ"}, customer_id="x").record
    assert (record.display_name, record.name_th, record.name_latin) == ("วิภา สุขใจ", "วิภา สุขใจ", None)
    thai_form = map_customer({"ชื่อ": "สมชาย", "นามสกุล": "ใจดี"}, customer_id="x").record
    assert thai_form.name_th == "สมชาย ใจดี"
    full = map_customer({"name": "Jane Doe", "first_name": "Jane", "surname": "Doe"}, customer_id="x")
    assert full.record.name_latin == "Jane Doe"
    nested = map_customer({"ชื่อ": {"th": "วิชัย", "en": "Wichai"}}, customer_id="x").record
    assert (nested.name_th, nested.name_latin) == ("วิชัย", "Wichai")


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("2025-01-15T10:30:00+07:00", datetime(2025, 1, 15, 3, 30, tzinfo=UTC)),
        ("15/08/2568", datetime(2025, 8, 14, 17, 0, tzinfo=UTC)),  # Buddhist era, midnight in Bangkok
        ("๑๕/๐๘/๒๕๖๘", datetime(2025, 8, 14, 17, 0, tzinfo=UTC)),
        ("29/02/2567", datetime(2024, 2, 28, 17, 0, tzinfo=UTC)),  # 2567 BE is the leap year 2024
        ("3 มี.ค. 2567", datetime(2024, 3, 2, 17, 0, tzinfo=UTC)),
        ("1 มีนาคม 2568 10:30 น.", datetime(2025, 3, 1, 3, 30, tzinfo=UTC)),
        ("March 3, 2025", datetime(2025, 3, 2, 17, 0, tzinfo=UTC)),
        (1735689600, datetime(2025, 1, 1, tzinfo=UTC)),
        (1767312000000, datetime(2026, 1, 2, tzinfo=UTC)),
        ("1735689600", datetime(2025, 1, 1, tzinfo=UTC)),
    ],
)
def test_dates_in_every_form_the_old_files_use(written: object, meant: datetime) -> None:
    assert values.when(written) == meant


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("1/2/69", "two-digit year"),
        ("31/04/2025", "not a valid day"),
        ("12/25/2025", "not a valid day"),  # mm/dd is not guessed
        ("sometime last year", "not a date"),
        (True, "not a date"),
    ],
)
def test_a_date_that_is_not_one_is_unreadable_not_guessed(written: object, reason: str) -> None:
    with pytest.raises(values.Unreadable, match=reason):
        values.when(written)


def test_phones_in_lists_thai_digits_and_without_their_zero() -> None:
    record = map_customer(
        {"tel": ["089 111 2222", "02-123-4567 / ๐๘๑-๙๘๗-๖๕๔๓", "call after 6"], "mobile": 812345670},
        customer_id="x",
    )
    assert record.record.phone == "+66891112222"
    assert record.record.extra == {
        "other_phones": ["+6621234567", "+66819876543", "+66812345670"],
        "tel": ["call after 6"],
    }
    assert [p.field for p in record.problems] == ["tel[2]"]
    assert "call after 6" not in record.problems[0].reason  # reasons never repeat a value


def test_unrecognised_keys_stay_in_extra_as_they_came_and_unreadable_ones_too() -> None:
    raw = {
        "name": "Kanya",
        "shoe_size": 38,
        "contact": {"email": "kanya at gmail", "fax": "02-999-9999", "phone": "0812345678"},
        "stage": "VIP",
        "history": [{"course": {"name": "Sushi"}}],
    }
    mapped = map_customer(raw, customer_id="x")
    assert mapped.record.extra == {
        "shoe_size": 38,
        "contact": {"email": "kanya at gmail", "fax": "02-999-9999"},
        "stage": "VIP",
        "history": [{"course": {"name": "Sushi"}}],
    }
    assert mapped.record.phone == "+66812345678"
    assert mapped.record.stage is None
    assert {p.field for p in mapped.problems} == {"contact.email", "stage"}


def test_stages_tags_notes_consent_and_attribution() -> None:
    raw = {
        "สถานะ": "สมัครแล้ว",
        "tags": "ซูชิ, ราเมน，ขนมไทย; ซูชิ",
        "notes": [{"text": "ถามราคา", "date": "03/01/2569", "by": "Nok"}, "โทรกลับ", "โทรกลับ"],
        "pdpa": {"status": "ไม่ยินยอม", "date": "2025-01-01", "via": "phone"},
        "facebook": {"id": 3456789012345678},
        "attribution": {"ad_id": "120210000000007", "campaign": "May intake"},
    }
    record = map_customer(raw, customer_id="x", default_page_id=PAGE_ID).record
    assert record.stage == "enrolled"
    assert record.tags == ("ซูชิ", "ราเมน", "ขนมไทย")
    assert [n.body for n in record.notes] == ["Nok: ถามราคา", "โทรกลับ"]
    assert record.notes[0].at is not None
    assert record.notes[0].at.date() == date(2026, 1, 3)
    assert record.consent is not None
    assert (record.consent.status, record.consent.method) == (
        "withdrawn",
        "phone",
    )
    assert [(i.channel, i.page_id, i.external_id) for i in record.identities] == [
        ("messenger", PAGE_ID, "3456789012345678")
    ]
    assert record.touch is not None
    assert (record.touch.ad_id, record.touch.ref) == (
        "120210000000007",
        "May intake",
    )
    assert record.extra == {}
    no_answer = map_customer({"consent_date": "2025-01-01", "consent_method": "form"}, customer_id="x")
    assert no_answer.record.consent is None
    assert no_answer.record.extra == {"consent_date": "2025-01-01", "consent_method": "form"}


def test_the_same_record_spelt_differently_has_the_same_digest() -> None:
    one = map_customer({"fullName": "Jane Doe", "tel": "081-234-5678"}, customer_id="x").record
    two = map_customer({"name": "Jane  Doe", "contact": {"phone": "+66 81 234 5678"}}, customer_id="x").record
    assert one.digest() == two.digest()
    assert one.digest() != map_customer({"name": "Jane Doe"}, customer_id="x").record.digest()


def test_catalog_prices_are_exact_and_durations_need_a_unit() -> None:
    sushi = map_product({"id": "C-1", "ชื่อคอร์ส": "ซูชิ", "price": "฿12,500.00", "duration": "3 ชั่วโมง"})
    assert sushi.record is not None
    assert (sushi.record.price, sushi.record.duration_minutes) == (Decimal("12500.00"), 180)
    assert map_product({"name_th": "มีด", "price": 2500.5}).record.price == Decimal("2500.50")  # type: ignore[union-attr]
    assert values.price("12,500.-") == Decimal("12500")
    bad = map_product({"name": "Mystery course", "price": "ask us", "duration": 3})
    assert bad.record is None
    assert {p.field for p in bad.problems} == {"price", "name_th", "duration"}


# --- the import, against the real database ---------------------------------------------------------


@pytest.fixture
async def clean(runtime: Runtime, no_customers: None) -> None:
    """No customers (conftest), and none of the catalog's products."""
    async with runtime.engine.begin() as conn:  # notes, stages and the timeline went with customers
        await conn.execute(delete(products).where(products.c.legacy_id.in_(CATALOG_IDS)))


def options(folder: Path = DATA / "customers", base: Path = DATA) -> Options:
    return Options(folder, base / "customers.csv", base / "catalog.json", page_id=PAGE_ID)


async def import_(runtime: Runtime, opts: Options | None = None, now: datetime = NOW) -> Report:
    return await run(runtime.uow, opts or options(), now=now)


async def counts(runtime: Runtime) -> dict[str, int]:
    tables = {
        "customers": customers,
        "identities": customer_identities,
        "notes": customer_notes,
        "stage_changes": customer_stage_changes,
        "timeline": customer_timeline,
        "audit": audit_log,
        "products": products,
    }
    async with runtime.sessionmaker() as session:
        return {
            name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for name, t in tables.items()
        }


async def snapshots(runtime: Runtime) -> dict[str, dict[str, Any]]:
    """Every customer as events carry it, plus the columns events do not (extra)."""
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(customers).order_by(customers.c.id))).all()
        out = {}
        for row in rows:
            snap = await repository.customer(session, row.id)
            assert snap is not None
            out[row.id] = {**snap.model_dump(mode="json"), "extra": row.extra}
        return out


async def product_rows(runtime: Runtime) -> dict[str, dict[str, Any]]:
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(products).where(products.c.legacy_id.in_(CATALOG_IDS)))).all()
    return {r.legacy_id: dict(r._mapping) for r in rows}


def statuses(report: Report) -> dict[str, str]:
    return {i.source: i.status for i in report.items}


def problems(report: Report, source: str) -> dict[str, str]:
    return {p.field: p.reason for p in report.item(source).problems}


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_the_import_maps_each_file_and_reports_what_it_could_not_read(runtime: Runtime) -> None:
    report = await import_(runtime)

    got = statuses(report)
    assert {s for s, st in got.items() if st == "failed"} == BAD_FILES | {"catalog.json#4"}
    assert got["TVS-CUS-FB-25-0001.json"] == got["customers.csv:2"] == got["catalog.json#1"] == "created"
    assert not report.all_read
    assert problems(report, "TVS-CUS-FB-25-0006.json")["file"].startswith("invalid JSON")
    assert "not a customer id" in problems(report, "somchai-backup.json")["file"]
    assert problems(report, "customers.csv:3") == {"id": "missing: each row needs a customer id"}
    assert set(problems(report, "TVS-CUS-WEB-26-0004.json")) == {"phone", "email"}
    assert set(problems(report, "TVS-CUS-FB-25-0005.json")) == {"stage", "created_at"}
    assert set(problems(report, "TVS-CUS-FB-26-0003.json")) == {"created", "messenger_id", "id"}
    assert set(problems(report, "catalog.json#4")) == {"price", "name_th"}
    summary = report.summary()
    for bad in [*BAD_FILES, "TVS-CUS-WEB-26-0004.json", "phone: Not a phone number"]:
        assert bad in summary
    assert "โทรหลัง" not in summary + report.dumps()  # the unreadable value itself is never shown

    found = await snapshots(runtime)
    assert len(found) == 13  # 11 files and 2 CSV rows
    manee = found["TVS-CUS-FB-26-0002"]
    assert (manee["name_th"], manee["name_latin"], manee["phone"]) == (
        "มานี มีนา",
        "Manee Meena",
        "+66891112222",
    )
    assert manee["identities"] == [
        {"channel": "messenger", "page_id": PAGE_ID, "external_id": "3456789012345678"}
    ]
    assert manee["created_at"] == "2026-01-02T00:00:00Z"
    assert manee["extra"] == {"other_phones": ["+6621234567"]}
    somying = found["TVS-CUS-FB-25-0002"]
    assert (somying["nickname"], somying["phone"], somying["lifecycle_stage"]) == (
        "หญิง",
        "+66819876543",
        "qualified",
    )
    assert somying["created_at"] == "2025-08-14T17:00:00Z"  # 15/08/2568 in Bangkok
    peter = found["TVS-CUS-FB-26-0007"]
    assert [i["channel"] for i in peter["identities"]] == ["messenger", "line"]
    assert peter["first_touch"] == peter["latest_touch"]
    touch = {k: v for k, v in peter["first_touch"].items() if v is not None}
    assert touch == {"ad_id": "120210000000007", "ref": "Sushi May intake"}
    assert peter["extra"] == {"contact": {"fax": "02-999-9999"}, "Favourite Dish": "Tom yum"}
    kanya = found["TVS-CUS-WEB-26-0004"]
    assert kanya["phone"] is None
    assert kanya["email"] is None
    assert kanya["extra"] == {
        "phone": "โทรหลัง 6 โมงเย็น",
        "email": "kanya at gmail",
        "favourite_dish": "ต้มยำกุ้ง",
        "shoe_size": 38,
    }
    assert found["TVS-CUS-WALKIN-25-0010"]["consent"]["status"] == "withdrawn"
    assert found["TVS-CUS-WALKIN-26-0001"]["identities"][0]["external_id"] == "suda.line"

    catalog = await product_rows(runtime)
    assert set(catalog) == set(CATALOG_IDS)
    assert catalog["C-SUSHI-01"]["price"] == Decimal("12500.00")
    assert catalog["C-SUSHI-01"]["duration_minutes"] == 180
    assert (catalog["EQ-KNIFE"]["kind"], catalog["EQ-KNIFE"]["active"]) == ("equipment", False)
    assert problems(report, "catalog.json#5") == {"teacher": "not a product field; not imported"}

    async with runtime.sessionmaker() as session:
        audits = (await session.execute(select(audit_log.c.action, audit_log.c.actor_id))).all()
        created = await session.scalar(
            select(func.count()).where(customer_timeline.c.kind == "customer_created")
        )
    assert {(a.action, a.actor_id) for a in audits} == {("customer.import", None), ("product.import", None)}
    assert created == 13


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_a_second_run_with_the_same_files_changes_nothing_and_publishes_nothing(
    runtime: Runtime, rabbitmq_url: str, make_contact: Callable[..., ContactSeen]
) -> None:
    async with EventRecorder(rabbitmq_url) as events:
        await import_(runtime)
        first = await events.wait_for("customer.created", count=13)
        await events.wait_for("catalog.product_changed", count=4)
    before, rows_before = await snapshots(runtime), await counts(runtime)
    assert {e["data"]["customer_id"] for e in first} == set(before)

    async with EventRecorder(rabbitmq_url) as events:
        again = await import_(runtime, now=datetime(2026, 3, 2, tzinfo=UTC))
        after, rows_after = await snapshots(runtime), await counts(runtime)
        # A marker published after the import: once it arrives, anything the import sent has too.
        async with runtime.uow() as uow:
            await service.contact_seen(uow, make_contact("psid-marker"), now=NOW)
        [marker] = await events.wait_for("customer.created")

    assert marker["data"]["identities"][0]["external_id"] == "psid-marker"
    assert [e["type"] for e in events.events] == ["customer.created"]
    read = {src: st for src, st in statuses(again).items() if src not in BAD_FILES | {"catalog.json#4"}}
    assert set(read.values()) == {"unchanged"}
    assert len(read) == 17
    assert after == before
    assert rows_after == rows_before


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_a_changed_file_updates_only_that_customer(
    runtime: Runtime, rabbitmq_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "customers"
    shutil.copytree(DATA / "customers", folder)
    await import_(runtime, options(folder))
    before = await snapshots(runtime)
    changed = folder / "TVS-CUS-FB-25-0002.json"
    raw = json.loads(changed.read_text(encoding="utf-8"))
    raw |= {"สถานะ": "สมัครแล้ว", "เบอร์โทร": "089-000-1111", "หมายเหตุ": ["อยากเรียนซูชิวันเสาร์", "โอนแล้ว 12,500"]}
    changed.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")

    async with EventRecorder(rabbitmq_url) as events:
        report = await import_(runtime, options(folder), now=datetime(2026, 3, 5, tzinfo=UTC))
        [updated] = await events.wait_for("customer.updated")

    assert {s for s, st in statuses(report).items() if st == "updated"} == {"TVS-CUS-FB-25-0002.json"}
    assert updated["data"]["customer_id"] == "TVS-CUS-FB-25-0002"
    assert updated["data"]["changed"] == ["phone", "lifecycle_stage", "notes"]
    after = await snapshots(runtime)
    one = after.pop("TVS-CUS-FB-25-0002")
    was = before.pop("TVS-CUS-FB-25-0002")
    assert after == before
    assert (one["phone"], one["lifecycle_stage"], one["version"]) == (
        "+66890001111",
        "enrolled",
        was["version"] + 1,
    )
    async with runtime.sessionmaker() as session:
        notes = (
            await session.execute(
                select(customer_notes.c.body).where(customer_notes.c.customer_id == "TVS-CUS-FB-25-0002")
            )
        ).scalars()
        stages = (
            await session.execute(
                select(customer_stage_changes.c.from_stage, customer_stage_changes.c.to_stage)
                .where(customer_stage_changes.c.customer_id == "TVS-CUS-FB-25-0002")
                .order_by(customer_stage_changes.c.id)
            )
        ).all()
        timeline = (
            await session.execute(
                select(customer_timeline.c.kind, func.count())
                .where(customer_timeline.c.customer_id == "TVS-CUS-FB-25-0002")
                .group_by(customer_timeline.c.kind)
            )
        ).all()
        audited = await session.scalar(
            select(func.count()).where(
                audit_log.c.entity_id == "TVS-CUS-FB-25-0002", audit_log.c.action == "customer.import"
            )
        )
    assert sorted(notes) == sorted(["อยากเรียนซูชิวันเสาร์", "โอนแล้ว 12,500"])
    assert [tuple(s) for s in stages] == [(None, "qualified"), ("qualified", "enrolled")]
    assert dict(timeline) == {"customer_created": 1, "note_added": 2, "stage_changed": 1}  # type: ignore[arg-type]
    assert audited == 2


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_staff_changes_since_the_import_survive_a_rerun_of_the_same_files(runtime: Runtime) -> None:
    await import_(runtime)
    async with runtime.engine.begin() as conn:  # what a staff edit leaves behind
        await conn.execute(
            update(customers)
            .where(customers.c.id == "TVS-CUS-FB-25-0001")
            .values(phone="+66899999999", version=customers.c.version + 1)
        )

    report = await import_(runtime)

    assert report.item("TVS-CUS-FB-25-0001.json").status == "unchanged"
    assert (await snapshots(runtime))["TVS-CUS-FB-25-0001"]["phone"] == "+66899999999"


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_customers_made_after_the_import_get_the_next_free_number(
    runtime: Runtime, make_contact: Callable[..., ContactSeen]
) -> None:
    await import_(runtime)

    async with runtime.uow() as uow:
        new = await service.contact_seen(uow, make_contact("psid-after-import"), now=NOW)

    assert new == "TVS-CUS-FB-26-0008"  # FB-26-0007 was the highest imported FB id of 2026
    async with runtime.sessionmaker() as session:
        counters = {
            (r.channel, r.year): r.last_value for r in await session.execute(select(customer_id_sequences))
        }
    assert counters[("WALKIN", 26)] == 5
    assert counters[("LINE", 25)] == 3
    assert counters[("FB", 25)] == 8  # the broken file's id is taken too: it exists in the old system


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_an_id_the_crm_gave_a_customer_is_never_overwritten(
    runtime: Runtime, make_contact: Callable[..., ContactSeen], tmp_path: Path
) -> None:
    async with runtime.uow() as uow:
        crm_made = await service.contact_seen(uow, make_contact("psid-crm"), now=NOW)
    assert crm_made == "TVS-CUS-FB-26-0001"
    (tmp_path / f"{crm_made}.json").write_text(json.dumps({"name": "Someone Else", "stage": "lost"}))

    report = await import_(runtime, Options(tmp_path))

    assert report.item(f"{crm_made}.json").status == "failed"
    assert "made in the CRM" in problems(report, f"{crm_made}.json")["id"]
    kept = (await snapshots(runtime))[crm_made]
    assert (kept["display_name"], kept["lifecycle_stage"], kept["version"]) == (None, "lead", 1)


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_the_command_prints_the_report_writes_it_as_json_and_exits_1_when_a_file_was_unreadable(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = runtime.settings
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RABBITMQ_URL", settings.rabbitmq_url)
    out = tmp_path / "report.json"
    argv = [str(DATA / "customers"), "--customers-csv", str(DATA / "customers.csv"), "--report", str(out)]

    code = await asyncio.to_thread(main, [*argv, "--page-id", PAGE_ID])

    assert code == 1
    printed = capsys.readouterr().out
    assert "customers: 17 (13 created, 4 failed)" in printed
    written = json.loads(out.read_text(encoding="utf-8"))
    failed = {i["source"]: i["problems"] for i in written["items"] if i["status"] == "failed"}
    assert set(failed) == BAD_FILES
    assert failed["TVS-CUS-FB-25-0006.json"][0]["field"] == "file"

    async def published() -> bool:
        async with runtime.sessionmaker() as session:
            return await session.scalar(select(func.count()).select_from(outbox)) == 0

    await eventually(published)


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_a_psid_that_reached_the_crm_first_is_reported_and_the_rest_imported(
    runtime: Runtime, make_contact: Callable[..., ContactSeen], tmp_path: Path
) -> None:
    async with runtime.uow() as uow:
        owner = await service.contact_seen(uow, make_contact("7777777777"), now=NOW)
    raw = {"name": "Somsri", "psid": "7777777777", "phone": "0812345678"}
    (tmp_path / "TVS-CUS-FB-25-0100.json").write_text(json.dumps(raw), encoding="utf-8")

    report = await import_(runtime, Options(tmp_path, page_id=PAGE_ID))

    item = report.item("TVS-CUS-FB-25-0100.json")
    assert item.status == "created"
    assert problems(report, item.source) == {"psid": f"belongs to customer {owner} already; not added"}
    imported = (await snapshots(runtime))["TVS-CUS-FB-25-0100"]
    assert (imported["phone"], imported["identities"]) == ("+66812345678", [])


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_an_erased_customer_is_not_imported_again(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "TVS-CUS-FB-25-0200.json"
    path.write_text(json.dumps({"name": "Somsri", "phone": "0812345678"}), encoding="utf-8")
    await import_(runtime, Options(tmp_path))
    async with runtime.engine.begin() as conn:  # what a PDPA erasure leaves: the id, nothing else
        await conn.execute(
            update(customers)
            .where(customers.c.id == "TVS-CUS-FB-25-0200")
            .values(state="erased", display_name=None, name_latin=None, phone=None, extra={})
        )
    path.write_text(json.dumps({"name": "Somsri", "phone": "0899999999"}), encoding="utf-8")

    report = await import_(runtime, Options(tmp_path))

    assert report.item(path.name).status == "unchanged"
    assert problems(report, path.name) == {"customer": "erased on request; not imported again"}
    erased = (await snapshots(runtime))["TVS-CUS-FB-25-0200"]
    assert (erased["display_name"], erased["phone"]) == (None, None)


# --- text the database cannot store, and files that are no customer files -------------------------

NUL = "contains U+0000 (NUL), which cannot be stored"
SURROGATE = "contains U+D800 (a lone surrogate, not UTF-8), which cannot be stored"


def test_text_the_database_cannot_store_is_unreadable_and_kept_in_extra_without_it() -> None:
    raw = {
        "name": "Somchai\x00 Jaidee",
        "nickname": "\ud800",
        "phone": "0812345678",
        "tags": ["sushi", "a\x00b"],
        "notes": [{"text": "called back", "by": "Ken\x00"}],
        "favourite\x00": "ramen\x00",
    }

    mapped = map_customer(raw, customer_id="TVS-CUS-FB-25-0300")

    assert sorted((p.field, p.reason) for p in mapped.problems) == [
        ("favourite", f"{NUL}; kept in extra without it"),
        ("favourite", f"the name {NUL}; kept in extra without it"),
        ("name", NUL),
        ("nickname", SURROGATE),
        ("notes[0].author", NUL),
        ("tags", NUL),
    ]
    record = mapped.record
    assert (record.display_name, record.nickname, record.tags, record.phone) == (
        None,
        None,
        None,
        "+66812345678",
    )
    assert [n.body for n in record.notes] == ["called back"]  # without its unreadable author
    assert record.extra == {
        "favourite": "ramen",
        "name": "Somchai Jaidee",
        "nickname": "\ufffd",
        "tags": ["sushi", "ab"],
        "notes": [{"text": "called back", "by": "Ken"}],
    }
    record.digest()  # a record that can be stored can be digested (UTF-8) too


def test_a_product_with_text_the_database_cannot_store_reports_those_fields() -> None:
    raw = {
        "id": "C-NUL",
        "name_th": "ซูชิ",
        "name_en": "Sushi\x00",
        "price": "100",
        "image": ["https://x.example/\x00"],
    }

    mapped = map_product(raw)

    assert {p.field: p.reason for p in mapped.problems} == {"name_en": NUL, "image": NUL}
    assert mapped.record is not None
    assert (mapped.record.name_th, mapped.record.name_en, mapped.record.image_urls) == ("ซูชิ", None, None)


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_a_file_with_text_the_database_cannot_store_is_imported_with_the_fields_reported(
    runtime: Runtime, tmp_path: Path
) -> None:
    raw = '{"name": "Somchai\\u0000", "name_latin": "Somchai", "phone": "0812345678", "note\\ud800": "x"}'
    (tmp_path / "TVS-CUS-FB-25-0301.json").write_text(raw, encoding="utf-8")
    (tmp_path / os.fsdecode(b"backup-\xff.json")).write_text("{}", encoding="utf-8")  # a name not UTF-8

    report = await import_(runtime, Options(tmp_path))

    assert problems(report, "TVS-CUS-FB-25-0301.json") == {
        "name": NUL,
        "note\ufffd": f"the name {SURROGATE}; kept in extra without it",
    }
    assert report.item("TVS-CUS-FB-25-0301.json").status == "created"
    assert report.item("backup-\ufffd.json").status == "failed"
    json.loads(report.dumps())
    report.summary().encode()
    stored = (await snapshots(runtime))["TVS-CUS-FB-25-0301"]
    assert (stored["name_latin"], stored["phone"]) == ("Somchai", "+66812345678")
    assert stored["extra"] == {"name": "Somchai", "note\ufffd": "x"}


@pytest.mark.integration
@pytest.mark.usefixtures("clean")
async def test_a_report_or_a_catalog_in_the_folder_is_skipped_with_a_note(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("RABBITMQ_URL", runtime.settings.rabbitmq_url)
    (tmp_path / "TVS-CUS-FB-25-0400.json").write_text(json.dumps({"name": "Somsri"}), encoding="utf-8")
    shutil.copy(DATA / "catalog.json", tmp_path / "catalog.json")
    argv = [str(tmp_path), "--report", str(tmp_path / "report.json")]

    first = await asyncio.to_thread(main, argv)
    capsys.readouterr()
    second = await asyncio.to_thread(main, argv)  # the first run's report is in the folder now

    assert (first, second) == (0, 0)
    printed = capsys.readouterr().out
    assert "customers: 1 (1 unchanged)" in printed
    assert "other files: 2 (2 skipped)" in printed
    written = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert written["all_read"] is True
    skipped = {i["source"]: i["problems"] for i in written["items"] if i["status"] == "skipped"}
    assert skipped == {
        "catalog.json": [
            {
                "field": "file",
                "reason": "a product catalog (import it with --catalog), not a customer file; skipped",
            }
        ],
        "report.json": [
            {"field": "file", "reason": "an import report (--report), not a customer file; skipped"}
        ],
    }
    assert len(await snapshots(runtime)) == 1
