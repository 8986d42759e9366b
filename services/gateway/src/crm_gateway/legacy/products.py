"""One product of the old catalog → a product row. Pure, like `mapping`.

The catalog has courses with Thai and English names, prices written as numbers or as text
(`"12,500"`, `"฿12,500.00"`), durations with units, a category and whether it is sold. Products
have no `extra` column: a key that is not recognised is reported, so nothing is dropped unseen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from crm_gateway.catalog.service import PRODUCT_KINDS
from crm_servicekit.storable import storable

from . import values
from .keys import canonical
from .mapping import Problem, split_by_script
from .values import Unreadable

T = TypeVar("T")


@dataclass(frozen=True)
class ProductRecord:
    """The columns a catalog entry gives; None: it does not say (a new product gets the default)."""

    legacy_id: str | None
    name_th: str
    price: Decimal
    kind: str = "course"
    name_en: str | None = None
    description_th: str | None = None
    description_en: str | None = None
    category: str | None = None
    duration_minutes: int | None = None
    active: bool | None = None
    image_urls: tuple[str, ...] | None = None

    def columns(self) -> dict[str, Any]:
        """The `products` columns it sets."""
        out = {k: v for k, v in vars(self).items() if v is not None}
        if self.image_urls is not None:
            out["image_urls"] = list(self.image_urls)
        return out

    def digest(self) -> str:
        encoded = json.dumps(vars(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class MappedProduct:
    record: ProductRecord | None  # None: it cannot be a product (no Thai name, no price)
    problems: tuple[Problem, ...]


def _keys(*words: str) -> frozenset[str]:
    return frozenset(canonical(w) for w in words)


LEGACY_ID = _keys("id", "code", "sku", "product_id", "course_id", "course_code", "รหัส", "รหัสคอร์ส")
NAME = _keys("name", "title", "course_name", "product_name", "ชื่อ", "ชื่อคอร์ส", "ชื่อหลักสูตร")
NAME_TH = _keys("name_th", "title_th", "thai_name", "ชื่อไทย", "ชื่อภาษาไทย")
NAME_EN = _keys("name_en", "title_en", "english_name", "name_eng", "ชื่อภาษาอังกฤษ", "ชื่ออังกฤษ")
DESCRIPTION = _keys("description", "desc", "details", "รายละเอียด")
DESCRIPTION_TH = _keys("description_th", "desc_th", "รายละเอียดภาษาไทย")
DESCRIPTION_EN = _keys("description_en", "desc_en", "รายละเอียดภาษาอังกฤษ")
CATEGORY = _keys("category", "group", "หมวด", "หมวดหมู่")
KIND = _keys("kind", "type", "product_type", "ประเภท")
PRICE = _keys("price", "fee", "amount", "cost", "price_thb", "ราคา", "ค่าเรียน")
DURATION = {
    **dict.fromkeys(_keys("duration", "length", "ระยะเวลา")),
    **dict.fromkeys(_keys("duration_minutes", "minutes", "duration_min", "นาที"), "minute"),
    **dict.fromkeys(_keys("duration_hours", "hours", "duration_hrs", "ชั่วโมง"), "hour"),
    **dict.fromkeys(_keys("duration_days", "days", "จำนวนวัน"), "day"),
}
ACTIVE = _keys("active", "is_active", "enabled", "available", "status", "สถานะ", "เปิดขาย")
IMAGES = _keys("image", "images", "image_url", "image_urls", "photo", "photos", "รูป")
KIND_WORDS = {
    **{k: k for k in PRODUCT_KINDS},
    **dict.fromkeys(["คอร์ส", "หลักสูตร", "class", "workshop"], "course"),
    **dict.fromkeys(["แพ็กเกจ", "แพคเกจ", "แพ็คเกจ", "bundle"], "package"),
    **dict.fromkeys(["อุปกรณ์", "tool", "tools"], "equipment"),
    **dict.fromkeys(["เมนู", "menu", "food"], "menu_item"),
}


def map_product(raw: Mapping[str, Any]) -> MappedProduct:
    # Keys are named in the report as the file spells them, made storable (printable) there.
    by_key = {canonical(str(k)): (storable(str(k)), v) for k, v in raw.items() if v not in (None, "", [])}
    problems: list[Problem] = []
    used: set[str] = set()

    def pick(keys: frozenset[str] | set[str], reader: Callable[[Any], T]) -> T | None:
        matches = sorted(keys & by_key.keys())
        used.update(matches)
        for ck in matches:
            key, value = by_key[ck]
            try:
                return reader(value)
            except Unreadable as exc:
                problems.append(Problem(key, str(exc)))
        return None

    name_th, name_en = _names(by_key, used, problems)
    description = pick(DESCRIPTION, values.text)
    description_th = pick(DESCRIPTION_TH, values.text)
    description_en = pick(DESCRIPTION_EN, values.text)
    if description is not None:
        is_thai = split_by_script(description)[0] is not None
        description_th = description_th or (description if is_thai else None)
        description_en = description_en or (None if is_thai else description)
    duration = next(
        (d for ck, unit in DURATION.items() if ck in by_key and (d := pick({ck}, _minutes(unit)))),
        None,
    )
    fields: dict[str, Any] = {
        "legacy_id": pick(LEGACY_ID, values.text),
        "price": pick(PRICE, values.price),
        "kind": pick(KIND, _kind),
        "category": pick(CATEGORY, values.text),
        "active": pick(ACTIVE, values.yes_no),
        "image_urls": pick(IMAGES, _urls),
    }
    for ck in by_key.keys() - used:
        problems.append(Problem(by_key[ck][0], "not a product field; not imported"))
    if name_th is None:
        problems.append(Problem("name_th", "missing: a product needs its Thai name"))
    if not PRICE & by_key.keys():
        problems.append(Problem("price", "missing"))
    if name_th is None or fields["price"] is None:
        return MappedProduct(None, tuple(problems))
    record = ProductRecord(
        name_th=name_th,
        name_en=name_en,
        description_th=description_th,
        description_en=description_en,
        duration_minutes=duration,
        **{k: v for k, v in fields.items() if v is not None or k == "legacy_id"},
    )
    return MappedProduct(record, tuple(problems))


def _names(
    by_key: dict[str, tuple[str, Any]], used: set[str], problems: list[Problem]
) -> tuple[str | None, str | None]:
    """A product's name is not split by script: a Thai name may well hold English words."""
    name_th = name_en = None
    for ck in sorted((NAME | NAME_TH | NAME_EN) & by_key.keys()):
        used.add(ck)
        key, value = by_key[ck]
        if isinstance(value, dict):  # {"th": ..., "en": ...}
            inner = {canonical(k): v for k, v in value.items()}
            value_th, value_en = inner.get("th"), inner.get("en")
        elif ck in NAME:
            thai = isinstance(value, str) and split_by_script(value)[0] is not None
            value_th, value_en = (value, None) if thai else (None, value)
        else:
            value_th, value_en = (value, None) if ck in NAME_TH else (None, value)
        try:
            name_th = name_th or (values.text(value_th) if value_th is not None else None)
            name_en = name_en or (values.text(value_en) if value_en is not None else None)
        except Unreadable as exc:
            problems.append(Problem(key, str(exc)))
    return name_th, name_en


def _kind(value: Any) -> str:
    kind = KIND_WORDS.get(value.strip().lower()) if isinstance(value, str) else None
    if kind is None:
        raise Unreadable(f"not a product kind ({', '.join(PRODUCT_KINDS)})")
    return kind


def _minutes(unit: str | None) -> Callable[[Any], int]:
    return lambda value: values.duration_minutes(value, unit)


def _urls(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, str) and i.startswith(("http://", "https://")) for i in items):
        raise Unreadable("not a list of http(s) links")
    return tuple(values.storable_text(i) for i in items)
