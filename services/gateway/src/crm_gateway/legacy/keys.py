"""Which key of an old record means which field.

The old files were written by hand and by scripts over the years, in English and Thai, in
snake_case, camelCase and with spaces, sometimes nested (`{"contact": {"tel": ...}}`). A key is
first reduced to one spelling (`fullName`, `Full Name` and `full-name` all become `full_name`),
then looked up in the table of the object it is in: the top level and generic containers such
as `contact` know every field; `facebook`, `line`, `name` and `attribution` objects know the few
keys that mean something inside them (`facebook.id` is a PSID, `name.th` a Thai name).
"""

from __future__ import annotations

import re
from typing import Literal

Field = Literal[
    "name",
    "first_name",
    "last_name",
    "name_th",
    "name_latin",
    "nickname",
    "phone",
    "email",
    "psid",
    "page_id",
    "line_id",
    "stage",
    "tags",
    "notes",
    "created",
    "consent",
    "consent_at",
    "consent_method",
    "ad_id",
    "source",
    "campaign",
    "ref",
    "ad_title",
    "customer_id",
]
Context = Literal["base", "facebook", "line", "attribution", "name"]


def canonical(key: str) -> str:
    """`fullName`, `Full Name`, `full-name`, ` FULL_NAME ` → `full_name`; `ชื่อ - นามสกุล` → `ชื่อ_นามสกุล`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key.strip())
    return re.sub(r"[\s\-./]+|_+", "_", spaced.lower()).strip("_")


def _table(**aliases: list[str]) -> dict[str, Field]:
    return {canonical(alias): field for field, words in aliases.items() for alias in words}  # type: ignore[misc]


BASE = _table(
    name=[
        "name",
        "full_name",
        "fullname",
        "customer_name",
        "display_name",
        "ชื่อ",
        "ชื่อ-นามสกุล",
        "ชื่อนามสกุล",
        "ชื่อ-สกุล",
        "ชื่อสกุล",
        "ชื่อลูกค้า",
    ],
    first_name=["first_name", "firstname", "given_name", "fname", "ชื่อจริง"],
    last_name=["last_name", "lastname", "surname", "family_name", "lname", "นามสกุล"],
    name_th=["name_th", "thai_name", "ชื่อไทย", "ชื่อภาษาไทย"],
    name_latin=["name_en", "name_latin", "english_name", "name_eng", "ชื่อภาษาอังกฤษ", "ชื่ออังกฤษ"],
    nickname=["nickname", "nick_name", "nick", "ชื่อเล่น"],
    phone=[
        "phone",
        "phones",
        "tel",
        "telephone",
        "mobile",
        "mobile_phone",
        "phone_number",
        "phone_no",
        "เบอร์โทร",
        "เบอร์",
        "โทร",
        "โทรศัพท์",
        "เบอร์โทรศัพท์",
        "มือถือ",
        "เบอร์มือถือ",
    ],
    email=["email", "emails", "e-mail", "mail", "email_address", "อีเมล", "อีเมล์"],
    psid=["psid", "facebook_id", "fb_psid", "messenger_id", "fb_id", "facebook_psid", "messenger_psid"],
    page_id=["page_id", "fb_page_id", "facebook_page_id"],
    line_id=["line_id", "line", "line_user_id", "ไลน์", "ไอดีไลน์"],
    stage=["stage", "status", "lifecycle", "lifecycle_stage", "สถานะ"],
    tags=["tags", "tag", "labels", "label", "แท็ก", "ป้าย", "ป้ายกำกับ"],
    notes=["notes", "note", "remark", "remarks", "comment", "comments", "หมายเหตุ", "บันทึก"],
    created=[
        "created",
        "created_at",
        "create_date",
        "created_date",
        "date_created",
        "registered_at",
        "register_date",
        "signup_date",
        "วันที่สมัคร",
        "วันที่สร้าง",
        "วันที่ลงทะเบียน",
    ],
    consent=["consent", "marketing_consent", "pdpa", "pdpa_consent", "ความยินยอม"],
    consent_at=["consent_at", "consent_date", "consented_at", "วันที่ยินยอม"],
    consent_method=["consent_method", "consent_via"],
    ad_id=["ad_id", "facebook_ad_id", "fb_ad_id"],
    source=["source", "lead_source", "utm_source", "ที่มา", "แหล่งที่มา"],
    campaign=["campaign", "campaign_name", "utm_campaign", "แคมเปญ"],
    ref=["ref"],
    customer_id=["id", "customer_id", "customer_code", "รหัส", "รหัสลูกค้า"],
)
FACEBOOK = _table(
    psid=["id", "psid", "user_id", "fb_psid", "messenger_id", "facebook_id"], page_id=["page_id"]
)
LINE = _table(line_id=["id", "user_id", "line_id", "userid"])
ATTRIBUTION = _table(
    ad_id=["id", "ad_id"],
    source=["source", "utm_source"],
    campaign=["campaign", "utm_campaign", "campaign_name"],
    ref=["ref"],
    ad_title=["ad_title", "ad_name", "title"],
)
NAME = _table(
    name=["full", "display", "full_name"],
    name_th=["th", "thai", "ไทย"],
    name_latin=["en", "eng", "english", "latin"],
    first_name=["first", "first_name", "given"],
    last_name=["last", "last_name", "family", "surname"],
    nickname=["nick", "nickname"],
)
TABLES: dict[Context, dict[str, Field]] = {
    "base": BASE,
    "facebook": FACEBOOK,
    "line": LINE,
    "attribution": ATTRIBUTION,
    "name": NAME,
}

# Objects whose keys are read too (only when the value is an object), and as what.
CONTAINERS: dict[str, Context] = {
    **{
        canonical(k): "base"
        for k in [
            *["contact", "contacts", "contact_info", "contact_information", "profile", "personal"],
            *["personal_info", "info", "customer", "details", "ข้อมูลติดต่อ", "ติดต่อ", "ช่องทางติดต่อ"],
            *["ข้อมูลส่วนตัว", "ข้อมูลลูกค้า"],
        ]
    },
    **{canonical(k): "facebook" for k in ["facebook", "fb", "messenger", "facebook_messenger"]},
    **{canonical(k): "line" for k in ["line", "ไลน์"]},
    **{
        canonical(k): "attribution"
        for k in ["attribution", "marketing", "utm", "ad", "ads", "tracking", "source", "ที่มา", "referral"]
    },
    **{canonical(k): "name" for k in ["name", "full_name", "ชื่อ"]},
}

# Inside one note or one consent object.
NOTE_BODY = {canonical(k) for k in ["text", "note", "body", "message", "content", "detail", "ข้อความ"]}
NOTE_AT = {canonical(k) for k in ["date", "at", "created", "created_at", "time", "when", "วันที่"]}
NOTE_AUTHOR = {canonical(k) for k in ["by", "author", "staff", "user", "โดย", "ผู้บันทึก"]}
CONSENT_STATUS = {canonical(k) for k in ["status", "given", "value", "consent", "agreed", "granted"]}
CONSENT_AT = {canonical(k) for k in ["at", "date", "consent_at", "when", "time", "วันที่"]}
CONSENT_METHOD = {canonical(k) for k in ["method", "via", "channel", "how", "วิธี"]}
