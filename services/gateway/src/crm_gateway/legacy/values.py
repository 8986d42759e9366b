"""Readers for the single values the old system wrote by hand and by scripts over the years.

Each reader returns the value as the CRM stores it or raises `Unreadable` with a reason a person
can act on. A reason never repeats the value: reports and logs must not carry personal data.
Nothing here guesses: a date whose year has two digits, or a duration without a unit, is
unreadable rather than read one of two ways.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from crm_gateway.customers.contact_points import InvalidContactPoint, normalise_email, normalise_phone
from crm_gateway.customers.ids import BANGKOK
from crm_gateway.customers.service import LIFECYCLE_STAGES
from crm_servicekit.storable import unstorable


class Unreadable(ValueError):
    """A recognised field whose value cannot be read; `str()` is the reason (never the value)."""


THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# Years past this are Buddhist-era (พ.ศ. 2568 = 2025 CE); no customer record is older than 1857.
BUDDHIST_ERA_FROM = 2400
BUDDHIST_ERA_OFFSET = 543
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100


def text(value: object) -> str:
    """A non-empty string with its whitespace collapsed, that PostgreSQL can store (no U+0000,
    no lone surrogate: `crm_servicekit.storable`)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Unreadable("not text")
    collapsed = " ".join(str(value).split())
    if not collapsed:
        raise Unreadable("empty")
    return storable_text(collapsed)


def storable_text(value: str) -> str:
    if (why := unstorable(value)) is not None:
        raise Unreadable(why)
    return value


# --- dates ---------------------------------------------------------------------------------------

_MONTHS = {
    **{m: i for i, m in enumerate(["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน"], 1)},
    **{m: i for i, m in enumerate(["กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"], 7)},
    **{
        m: i
        for i, m in enumerate(["มค", "กพ", "มีค", "เมย", "พค", "มิย", "กค", "สค", "กย", "ตค", "พย", "ธค"], 1)
    },
    **{
        m: i
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
        )
    },
    **{
        m: i
        for i, m in enumerate(
            [
                *["january", "february", "march", "april", "may", "june", "july", "august"],
                *["september", "october", "november", "december"],
            ],
            1,
        )
    },
}
_TIME = r"(?:[ T,]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?\s*(?:น\.?)?"
_ISO = re.compile(r"(\d{4})(-\d{2}-\d{2}(?:[T ].*)?)")
_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})" + _TIME)
_YEAR_FIRST = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})" + _TIME)
_NAMED = re.compile(r"(\d{1,2})\s*([^\W\d_][^\d\s,]*)\.?\s*,?\s*(\d{2}|\d{4})" + _TIME)
_NAMED_US = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})" + _TIME)
_EPOCH = re.compile(r"\d{9,13}(?:\.\d+)?")


def when(value: object) -> datetime:
    """ISO 8601, `dd/mm/yyyy [HH:MM]`, `1 มี.ค. 2568`, `March 1, 2025`, epoch seconds or ms.

    Buddhist-era years become CE; a time without a zone is Bangkok's, where the school is.
    """
    if isinstance(value, bool):
        raise Unreadable("not a date")
    if isinstance(value, int | float):
        return _epoch(float(value))
    if not isinstance(value, str):
        raise Unreadable("not a date")
    raw = value.strip().translate(THAI_DIGITS)
    if _EPOCH.fullmatch(raw):
        return _epoch(float(raw))
    if m := _ISO.fullmatch(raw):
        try:
            parsed = datetime.fromisoformat(f"{_year(m[1]):04d}{m[2].replace('Z', '+00:00')}")
        except ValueError as exc:
            raise Unreadable("not a valid date") from exc
        return _checked(parsed if parsed.tzinfo else parsed.replace(tzinfo=BANGKOK))
    if m := _NUMERIC.fullmatch(raw):
        return _date(m[3], int(m[2]), m[1], m.group(4, 5, 6))
    if m := _YEAR_FIRST.fullmatch(raw):
        return _date(m[1], int(m[2]), m[3], m.group(4, 5, 6))
    if m := _NAMED.fullmatch(raw):
        return _date(m[3], _month(m[2]), m[1], m.group(4, 5, 6))
    if m := _NAMED_US.fullmatch(raw):
        return _date(m[3], _month(m[1]), m[2], m.group(4, 5, 6))
    raise Unreadable("not a date in a known format (ISO 8601, dd/mm/yyyy, epoch)")


def _year(digits: str) -> int:
    if len(digits) == 2:
        raise Unreadable("a two-digit year could be CE or Buddhist era; write all four digits")
    year = int(digits)
    return year - BUDDHIST_ERA_OFFSET if year >= BUDDHIST_ERA_FROM else year


def _month(name: str) -> int:
    month = _MONTHS.get(name.lower().replace(".", ""))
    if month is None:
        raise Unreadable("not a month name")
    return month


def _date(year: str, month: int, day: str, clock: tuple[str | None, ...]) -> datetime:
    hour, minute, second = (int(part or 0) for part in clock)
    ce_year = _year(year)
    try:
        parsed = datetime(ce_year, month, int(day), hour, minute, second, tzinfo=BANGKOK)
    except ValueError as exc:  # 31/02, month 13 (a mm/dd date), 25:00
        raise Unreadable("not a valid day, month or time (dates are read dd/mm/yyyy)") from exc
    return _checked(parsed)


def _epoch(number: float) -> datetime:
    seconds = number / 1000 if number >= 1e11 else number
    try:
        return _checked(datetime.fromtimestamp(seconds, UTC))
    except (OverflowError, OSError, ValueError) as exc:
        raise Unreadable("not a plausible epoch time") from exc


def _checked(moment: datetime) -> datetime:
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise Unreadable(f"a date outside {EARLIEST_YEAR}-{LATEST_YEAR}")
    return moment


# --- contact points ------------------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"\s*(?:[,;/|\n]|หรือ|\bor\b)\s*")


def phone_items(item: object) -> list[object]:
    """The separate numbers of one value: `081-234-5678 / 02-123-4567` is two."""
    if isinstance(item, str):
        return [part for part in _PHONE_SEPARATORS.split(item) if part.strip()]
    return [item]


def phone(value: object) -> str:
    """E.164. A number without its leading 0 (a spreadsheet ate it) is still read as Thai."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Unreadable("not a phone number")
    try:
        return normalise_phone(str(value))
    except InvalidContactPoint as exc:  # the reason is libphonenumber's; it never repeats the digits
        raise Unreadable(str(exc)) from exc


def email(value: object) -> str:
    if not isinstance(value, str):
        raise Unreadable("not an e-mail address")
    try:
        return normalise_email(value)
    except InvalidContactPoint as exc:  # email-validator's reasons can quote the address: not shown
        raise Unreadable("not a valid e-mail address") from exc


def numeric_id(value: object) -> str:
    """A Facebook id (PSID, page id): digits, as a string (a script may have written a number)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Unreadable("not an id")
    digits = str(value).strip()
    if not re.fullmatch(r"[0-9]{5,25}", digits):
        raise Unreadable("a Facebook id is 5 to 25 digits")
    return digits


# --- lists and words -----------------------------------------------------------------------------

_TAG_SEPARATORS = re.compile(r"[,，、;|\n]")


def tags(value: object) -> list[str]:
    """A list, or one string separated by commas (ASCII or full-width), semicolons or bars."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise Unreadable("tags are text or a list of text")
        for part in _TAG_SEPARATORS.split(str(item)):
            tag = storable_text(" ".join(part.split()).lstrip("#"))
            if tag and tag not in out:
                out.append(tag)
    return out


def _word(value: str) -> str:
    return re.sub(r"[\s_\-]+", " ", value.strip().lower())


_STAGES = {
    "lead": ["lead", "new", "new lead", "prospect", "ใหม่", "ลูกค้าใหม่", "ลีด", "ทักมา"],
    "contacted": ["contacted", "in contact", "follow up", "ติดต่อแล้ว", "คุยแล้ว", "ตอบแล้ว", "ติดตาม"],
    "qualified": ["qualified", "interested", "hot", "สนใจ", "สนใจมาก", "พร้อมสมัคร", "รอชำระ"],
    "enrolled": [
        *["enrolled", "registered", "paid", "student", "customer", "สมัครแล้ว", "ลงทะเบียนแล้ว"],
        *["ชำระแล้ว", "จ่ายแล้ว", "โอนแล้ว", "นักเรียน", "กำลังเรียน"],
    ],
    "alumni": ["alumni", "graduated", "completed", "finished", "เรียนจบ", "จบแล้ว", "ศิษย์เก่า"],
    "lost": ["lost", "cancelled", "canceled", "not interested", "dead", "ไม่สนใจ", "ยกเลิก", "ติดต่อไม่ได้"],
}
STAGE_WORDS = {_word(w): stage for stage, words in _STAGES.items() for w in words}
assert set(_STAGES) == set(LIFECYCLE_STAGES)


def stage(value: object) -> str:
    if not isinstance(value, str) or (found := STAGE_WORDS.get(_word(value))) is None:
        raise Unreadable(f"not a known stage (one of {', '.join(LIFECYCLE_STAGES)}, or its Thai word)")
    return found


_YES = {"true", "yes", "y", "1", "granted", "agree", "agreed", "ok", "ยินยอม", "ให้", "ใช่", "ตกลง", "รับ"}
_NO = {"false", "no", "n", "0", "withdrawn", "denied", "refused", "disagree", "ไม่ยินยอม", "ไม่ให้", "ไม่"}
_ON = {"active", "open", "enabled", "on", "เปิด", "เปิดรับสมัคร", "ขาย", "ใช้งาน"}
_OFF = {"inactive", "closed", "disabled", "off", "ปิด", "ปิดรับสมัคร", "เลิกขาย", "ไม่ใช้งาน"}


def yes_no(value: object) -> bool:
    """`true`/`"yes"`/`"ยินยอม"`/`"เปิด"`, or their opposites."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    word = _word(value) if isinstance(value, str) else None
    if word in _YES or word in _ON:
        return True
    if word in _NO or word in _OFF:
        return False
    raise Unreadable("not yes or no")


# --- the catalog ---------------------------------------------------------------------------------

_MONEY_NOISE = re.compile(r"฿|บาท|thb|baht|\.-$|,|\s", re.IGNORECASE)
MAX_PRICE = Decimal("9999999999.99")  # NUMERIC(12, 2)


def price(value: object) -> Decimal:
    """THB, exact: `12500`, `"12,500"`, `"฿12,500.00"`, `"12500 บาท"`. Never through a float's bits."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Unreadable("not an amount")
    raw = _MONEY_NOISE.sub("", str(value).translate(THAI_DIGITS))
    if not re.fullmatch(r"[0-9]+(?:\.[0-9]{1,2})?", raw):
        raise Unreadable("not an amount in baht (at most two decimals, not negative)")
    try:
        amount = Decimal(raw).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise Unreadable("not an amount") from exc
    if amount > MAX_PRICE:
        raise Unreadable("too large for a price")
    return amount


_UNITS = {"minute": 1, "hour": 60, "day": 60 * 24}
_UNIT_WORDS = {
    "minute": ["m", "min", "mins", "minute", "minutes", "นาที"],
    "hour": ["h", "hr", "hrs", "hour", "hours", "ชม", "ชั่วโมง"],
    "day": ["d", "day", "days", "วัน"],
}
_UNIT_OF = {w: u for u, words in _UNIT_WORDS.items() for w in words}
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_AMOUNT_AND_UNIT = rf"({_NUMBER})\s*([^\s0-9.,]+)\.?"


def duration_minutes(value: object, unit: str | None = None) -> int:
    """`"3 ชั่วโมง"`, `"90 min"`, `"2h 30m"`; a bare number only when the key names its unit."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Unreadable("not a duration")
    raw = str(value).translate(THAI_DIGITS).strip().lower()
    if re.fullmatch(_NUMBER, raw):
        if unit is None:
            raise Unreadable("a duration needs a unit (e.g. '3 hours', '90 นาที')")
        raw = f"{raw} {unit}"
    parts = re.findall(_AMOUNT_AND_UNIT, raw)
    if not parts or re.sub(_AMOUNT_AND_UNIT, "", raw).strip(" ,"):
        raise Unreadable("not a duration")
    total = Decimal(0)
    for number, word in parts:
        found = _UNIT_OF.get(word)
        if found is None:
            raise Unreadable("not a duration unit (minutes, hours, days)")
        total += Decimal(number) * _UNITS[found]
    if total <= 0 or total != total.to_integral_value():
        raise Unreadable("not a whole number of minutes")
    return int(total)
