"""Graph API error bodies (`{"error":{...}}`) with realistic messages per code."""

from __future__ import annotations

import secrets
import string
from typing import Any

_POLICY_URL = "https://developers.facebook.com/docs/messenger-platform/policy-overview"
_RATE_URL = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting"

# (code, subcode) first, then (code, None).
MESSAGES: dict[tuple[int, int | None], str] = {
    (1, None): "An unknown error has occurred.",
    (2, None): "An unexpected error has occurred. Please retry your request later.",
    (4, None): "(#4) Application request limit reached",
    (10, None): "(#10) Application does not have permission for this action",
    (10, 2018278): "(#10) This message is sent outside of allowed window. "
    f"Learn more about the new policy here: {_POLICY_URL}",
    (10, 2534022): "(#10) This message is sent outside of allowed window. "
    f"Learn more about the new policy here: {_POLICY_URL}",
    (17, None): "(#17) User request limit reached",
    (32, None): "(#32) Page request limit reached",
    (100, None): "(#100) Invalid parameter",
    (190, None): "Invalid OAuth access token - Cannot parse access token",
    (190, 458): "Error validating access token: The user has not authorized application.",
    (190, 460): "Error validating access token: The session has been invalidated because the "
    "user changed their password or Facebook has changed the session for security reasons.",
    (190, 463): "Error validating access token: Session has expired on Wednesday, 14-Feb-18 "
    "18:00:00 PST. The current time is Thursday, 15-Feb-18 13:46:35 PST.",
    (200, None): "(#200) The user hasn't authorized the application to perform this action",
    (551, None): "(#551) This person isn't available right now.",
    (613, None): "(#613) Calls to this api have exceeded the rate limit.",
    (1200, None): "(#1200) Temporary send message failure. Please try again later",
    (80006, None): "(#80006) There have been too many messages sent to this Messenger thread "
    f"from your page in a short period of time. Wait a bit and try again. See {_RATE_URL}.",
}

TRANSIENT_CODES = frozenset({1, 2, 4, 1200})


def fbtrace_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(23))


def default_message(code: int, subcode: int | None) -> str:
    return MESSAGES.get((code, subcode)) or MESSAGES.get((code, None)) or f"(#{code}) Fake error"


class GraphError(Exception):
    """Raised inside the fake; rendered as a Graph error response."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        subcode: int | None = None,
        http_status: int = 400,
    ) -> None:
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.message = message or default_message(code, subcode)
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": "OAuthException"}
        if self.code in TRANSIENT_CODES:
            error["is_transient"] = True
        error["code"] = self.code
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}
