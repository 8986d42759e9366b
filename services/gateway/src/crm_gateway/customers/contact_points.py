"""Phone numbers and e-mail addresses as the CRM stores them: E.164 (Thai numbers by default)
and lowercased addresses. The rules are Google's libphonenumber and `email-validator`'s, not ours.
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = "TH"


class InvalidContactPoint(ValueError):
    """A phone number or e-mail address that cannot be one; the message says why, for a UI."""


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """`081-234-5678`, `+66 81 234 5678`, `0812345678` → `+66812345678`.

    A number without a country code is read as Thai. Thai digits (๐-๙) are read too.
    """
    text = raw.strip().translate(_THAI_DIGITS)
    if not text:
        raise InvalidContactPoint("A phone number is empty.")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        reason = exc.args[0] if exc.args else "unreadable"
        raise InvalidContactPoint(f"Not a phone number: {reason}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidContactPoint("Not a valid phone number (check the digits and the country code).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_key(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """The E.164 form of a search term that is a whole phone number, else None."""
    try:
        return normalise_phone(raw, region)
    except InvalidContactPoint:
        return None


def normalise_email(raw: str) -> str:
    """A syntactically valid address, lowercased (no DNS lookup: staff type what customers say)."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContactPoint(str(exc)) from exc
    return result.normalized.lower()


_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
