"""What a signed delivery from Meta becomes: refused (not JSON), stored as Meta sent it, or stored
as text when it is JSON we cannot keep as JSON; and, when it is applied, whether the whole body is
something we handle (ADR 8).

Every signed JSON object is stored and answered 200, including what we do not handle (another
`object` such as `instagram`, `user` or `permissions`, an unreadable shape, no entries): those
are quarantined whole, with the reason, when they are applied. A number or a nesting that Python
could not read back from PostgreSQL (a stored body that could never be applied would stop the
inbox) is stored as text in a wrapper (`UNREADABLE`) and quarantined the same way.
"""

from __future__ import annotations

import contextlib
import json
import re
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from crm_messenger.meta.webhook import WebhookPayload
from crm_servicekit.storable import storable, storable_json

UNREADABLE = "crm_unreadable_delivery"
# Meta's bodies nest about six levels; Python reads JSON back to about a thousand.
MAX_DEPTH = 100
# Beyond this, `jsonb` writes a number out in plain digits Python will not read back (4300 digits)
# or refuses it (past 1e131071 or below 1e-16383).
MAX_EXPONENT = 1000


# Text PostgreSQL cannot store, as Meta writes it (it escapes all but ASCII): `\u0000`, or half
# of a surrogate pair without its other half. Emoji come as whole pairs and do not match.
_UNSTORABLE_ESCAPE = re.compile(
    rb"\\u0000"
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def storable_body(body: bytes, document: Any) -> str:
    """The webhook body as it is stored: as Meta sent it, or, when it holds text PostgreSQL cannot
    store (`jsonb` refuses `\\u0000`; a lone surrogate is not UTF-8), re-encoded from `document`
    (the parsed body) with NUL removed and lone surrogates replaced (`storable_json`). The message
    is kept without them rather than lost to a 500 that Meta retries for a day."""
    if _UNSTORABLE_ESCAPE.search(body) is None:
        with contextlib.suppress(UnicodeDecodeError):  # raw surrogate bytes: cleaned below
            return body.decode()
    return json.dumps(storable_json(document), ensure_ascii=False)


class NotJson(ValueError):
    """The body is not a JSON object: answered 400."""


class _Constant(ValueError):
    """`NaN`, `Infinity`: Python reads them, JSON (and `jsonb`) has no such values."""


class _Unreadable(ValueError):
    """JSON, but not JSON we can store and read back as such."""


def _constant(name: str) -> Any:
    raise _Constant(name)


def _float(text: str) -> float:
    number = Decimal(text)
    if number and abs(number.adjusted()) > MAX_EXPONENT:
        raise _Unreadable(f"a number beyond 1e±{MAX_EXPONENT}")
    return float(text)


def stored_text(body: bytes) -> str:
    """The delivery as it is stored in the inbox: the JSON text Meta sent (cleaned of text
    PostgreSQL cannot store, see `storable_body`), or `unreadable` text. Raises `NotJson`."""
    try:
        document = json.loads(body, parse_constant=_constant, parse_float=_float)
    except (json.JSONDecodeError, UnicodeDecodeError, _Constant) as exc:
        raise NotJson("body is not JSON") from exc
    except _Unreadable as exc:
        return unreadable(body, str(exc))
    except ValueError:  # an integer of more than 4300 digits
        return unreadable(body, "an integer too long to read")
    except RecursionError:
        return unreadable(body, f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(document, dict):
        raise NotJson("body is not a JSON object")
    if _depth(document) > MAX_DEPTH:
        return unreadable(body, f"nested deeper than {MAX_DEPTH} levels")
    return storable_body(body, document)


def unreadable(body: bytes, why: str) -> str:
    """A body kept as text (what PostgreSQL can store of it), to be quarantined with `why`."""
    text = storable(body.decode("utf-8", "replace"))
    return json.dumps({UNREADABLE: f"JSON we cannot read back ({why}), kept as text", "body": text})


def _depth(document: Any) -> int:
    deepest = 0
    level = [document]
    while level:
        deepest += 1
        if deepest > MAX_DEPTH:
            break
        level = [
            child
            for value in level
            if isinstance(value, dict | list)
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
    return deepest


def handled(body: Any) -> WebhookPayload | str:
    """A stored body as the webhook it is, or why it is not one we handle (it is quarantined
    whole): only Messenger webhooks for a Page are."""
    if isinstance(body, dict) and isinstance(body.get(UNREADABLE), str):
        return str(body[UNREADABLE])
    try:
        payload = WebhookPayload.model_validate(body)
    except ValidationError as exc:
        return why(exc)
    if payload.object != "page":
        shown = json.dumps(payload.object[:64], ensure_ascii=False)
        return f'object {shown} is not handled: only Messenger webhooks for a Page (object "page") are'
    if not payload.entry:
        return "a Page webhook without entries"
    return payload


def why(exc: ValidationError) -> str:
    """What could not be read: field locations and error types only (the input may hold personal
    data)."""
    return "unreadable: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
