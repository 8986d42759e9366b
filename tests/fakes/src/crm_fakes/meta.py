"""Fake Meta Graph API: Send API (`/{version}/me/messages`), user profiles, control API."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict

from crm_fakes.echoes import Echoes
from crm_fakes.graph_errors import GraphError, fbtrace_id
from crm_fakes.webhooks import meta_json, new_mid

_VERSION = re.compile(r"^v\d+\.\d+$")
MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY"})
MESSAGE_TAGS = frozenset({"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT"})
SENDER_ACTIONS = frozenset({"typing_on", "typing_off", "mark_seen"})
PROFILE_FIELDS = ("first_name", "last_name", "name", "profile_pic", "id")
MAX_TEXT = 2000


class RecordedSend(BaseModel):
    """An accepted Send API call."""

    model_config = ConfigDict(frozen=True)

    path: str
    body: dict[str, Any]
    recipient_id: str | None
    text: str | None
    sender_action: str | None
    message_id: str | None
    access_token: str
    traceparent: str | None
    received_at: float


class RecordedAttempt(BaseModel):
    """A rejected Send API call and the Graph error it got."""

    model_config = ConfigDict(frozen=True)

    path: str
    body: Any
    status: int
    error: dict[str, Any]
    traceparent: str | None
    received_at: float


class FailSpec(BaseModel):
    code: int
    subcode: int | None = None
    times: int = 1
    http_status: int = 400
    message: str | None = None


class EchoTarget(BaseModel):
    url: str
    app_secret: str


@dataclass
class _Pending:
    spec: FailSpec
    remaining: int


class MetaState:
    """Recorded calls and injected failures; safe to use from any thread.

    `access_token`: if set, any other token is rejected with code 190.
    """

    def __init__(
        self,
        *,
        page_id: str = "100000000000001",
        access_token: str | None = None,
        usage_per_call: float = 0.01,
        usage_recovery_per_second: float = 100 / 3600,
    ):
        self.page_id = page_id
        self.access_token = access_token
        # The usage headers' percentage, as Meta's rolling hour reports it: each call adds
        # `usage_per_call` points, and the window recovers `usage_recovery_per_second` (100 points
        # an hour by default). The default is the generous Send API limit of a page with many
        # engaged users: 10,000 calls an hour before the messenger's throttle starts slowing down.
        self.usage_per_call = usage_per_call
        self.usage_recovery_per_second = usage_recovery_per_second
        self._cond = threading.Condition()
        self._sends: list[RecordedSend] = []
        self._attempts: list[RecordedAttempt] = []
        self._failures: list[_Pending] = []
        self._usage = 0.0
        self._usage_at = time.monotonic()
        # Set with `echo_to`: accepted text sends come back to this webhook as echoes.
        self.echoes: Echoes | None = None

    def echo_to(self, url: str, app_secret: str) -> Echoes:
        """Deliver the echo of every accepted text send to the webhook at `url` (signed)."""
        self.echoes = Echoes(url, app_secret)
        return self.echoes

    def fail_next(
        self,
        code: int,
        *,
        subcode: int | None = None,
        times: int = 1,
        http_status: int = 400,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` Send API calls with this Graph error."""
        spec = FailSpec(code=code, subcode=subcode, times=times, http_status=http_status, message=message)
        with self._cond:
            self._failures.append(_Pending(spec, times))

    def messages(self) -> list[RecordedSend]:
        """Accepted sends, oldest first."""
        with self._cond:
            return list(self._sends)

    def texts(self) -> list[str]:
        return [m.text for m in self.messages() if m.text is not None]

    def attempts(self) -> list[RecordedAttempt]:
        with self._cond:
            return list(self._attempts)

    def wait_for_messages(self, count: int = 1, timeout: float = 5.0) -> list[RecordedSend]:
        """Block until at least `count` sends are recorded (TimeoutError otherwise)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._sends) >= count, timeout):
                raise TimeoutError(f"expected {count} sends, got {len(self._sends)}")
            return list(self._sends)

    def reset(self) -> None:
        with self._cond:
            self._sends.clear()
            self._attempts.clear()
            self._failures.clear()
            self._usage = 0.0
            self._usage_at = time.monotonic()

    # -- used by the app -------------------------------------------------
    def count_call(self) -> int:
        """Count one more call in the usage window; the percentage of the limit now used."""
        with self._cond:
            now = time.monotonic()
            recovered = (now - self._usage_at) * self.usage_recovery_per_second
            self._usage_at = now
            self._usage = min(100.0, max(0.0, self._usage - recovered) + self.usage_per_call)
            return round(self._usage)

    def take_failure(self) -> GraphError | None:
        with self._cond:
            if not self._failures:
                return None
            pending = self._failures[0]
            pending.remaining -= 1
            if pending.remaining <= 0:
                self._failures.pop(0)
        s = pending.spec
        return GraphError(s.code, s.message, subcode=s.subcode, http_status=s.http_status)

    def record_send(self, send: RecordedSend) -> None:
        with self._cond:
            self._sends.append(send)
            self._cond.notify_all()

    def record_attempt(self, attempt: RecordedAttempt) -> None:
        with self._cond:
            self._attempts.append(attempt)
            self._cond.notify_all()


def usage_headers(page_id: str, percent: int) -> dict[str, str]:
    """`x-app-usage` / `x-business-use-case-usage` in Meta's format: `percent` of the limit used."""
    pct = {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
    buc = {page_id: [{"type": "messenger", **pct, "estimated_time_to_regain_access": 0}]}
    return {
        "x-app-usage": json.dumps(pct, separators=(",", ":")),
        "x-business-use-case-usage": json.dumps(buc, separators=(",", ":")),
    }


def _graph_response(body: Any, status: int, headers: dict[str, str]) -> Response:
    return Response(
        meta_json(body),
        status_code=status,
        media_type="application/json; charset=UTF-8",
        headers={**headers, "x-fb-trace-id": fbtrace_id()},
    )


def _token(request: Request) -> str | None:
    token = request.query_params.get("access_token")
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if not token and scheme.lower() in ("bearer", "oauth") and value.strip():
        token = value.strip()
    return token or None


def _check_auth(state: MetaState, version: str, token: str | None) -> str:
    if not _VERSION.match(version):
        raise GraphError(2500, f"Unknown path components: /{version}")
    if token is None or (state.access_token is not None and token != state.access_token):
        raise GraphError(190)
    return token


def _validate_send(body: Any) -> tuple[str | None, str | None, str | None]:
    """Validate a Send API body like Meta; returns (recipient_id, text, sender_action)."""
    if not isinstance(body, dict) or not isinstance(body.get("recipient"), dict):
        raise GraphError(100, "(#100) The parameter recipient is required")
    recipient: dict[str, Any] = body["recipient"]
    rid = recipient.get("id")
    if rid in (None, "") and not (recipient.get("user_ref") or recipient.get("phone_number")):
        raise GraphError(100, "(#100) The parameter recipient is required")
    recipient_id = None if rid in (None, "") else str(rid)
    action, message = body.get("sender_action"), body.get("message")
    if action is not None:
        if message is not None:
            raise GraphError(100, "(#100) Must send either message or sender_action, not both")
        if action not in SENDER_ACTIONS:
            raise GraphError(
                100, "(#100) Param sender_action must be one of {MARK_SEEN, TYPING_ON, TYPING_OFF}"
            )
        return recipient_id, None, str(action)
    if not isinstance(message, dict):
        raise GraphError(100, "(#100) Must send either message or state")
    _validate_messaging_type(body)
    text = message.get("text")
    if text is None and not message.get("attachment"):
        raise GraphError(100, "(#100) Message cannot be empty, must provide valid attachment or text")
    if text is not None and (not isinstance(text, str) or not text):
        raise GraphError(100, "(#100) Param message[text] must be a non-empty UTF-8 encoded string")
    if text is not None and len(text) > MAX_TEXT:
        raise GraphError(
            100, f"(#100) Length of param message[text] must be less than or equal to {MAX_TEXT}"
        )
    _validate_quick_replies(message.get("quick_replies"))
    return recipient_id, text, None


def _validate_messaging_type(body: dict[str, Any]) -> None:
    mtype = body.get("messaging_type")
    if mtype is None:
        raise GraphError(100, "(#100) The parameter messaging_type is required")
    if mtype not in MESSAGING_TYPES:
        raise GraphError(
            100,
            "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG, UTILITY}",
        )
    if mtype == "MESSAGE_TAG" and body.get("tag") not in MESSAGE_TAGS:
        raise GraphError(
            100,
            "(#100) Param tag must be one of {CONFIRMED_EVENT_UPDATE, "
            "POST_PURCHASE_UPDATE, ACCOUNT_UPDATE, HUMAN_AGENT}",
        )


def _validate_quick_replies(replies: Any) -> None:
    if replies is None:
        return
    if not isinstance(replies, list) or not 1 <= len(replies) <= 13:
        raise GraphError(100, "(#100) param message[quick_replies] must have 1 to 13 elements")
    for qr in replies:
        if not isinstance(qr, dict):
            raise GraphError(100, "(#100) param message[quick_replies] must be an array of objects")
        if qr.get("content_type", "text") != "text":
            continue
        title, payload = qr.get("title"), qr.get("payload")
        if not isinstance(title, str) or not title or len(title) > 20:
            raise GraphError(100, "(#100) Quick reply title must be 1 to 20 characters")
        if not isinstance(payload, str | int) or len(str(payload)) > 1000:
            raise GraphError(100, "(#100) Quick reply payload must be at most 1000 characters")


def profile(psid: str, fields: list[str]) -> dict[str, Any]:
    """Deterministic user profile: "Customer" + last 4 chars of the PSID."""
    first, last = "Customer", psid[-4:]
    known = {
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "profile_pic": f"https://platform-lookaside.fbsbx.com/platform/profilepic/?psid={psid}",
        "id": psid,
    }
    out = {f: known[f] for f in fields}
    out["id"] = psid
    return out


def create_meta_app(state: MetaState | None = None) -> FastAPI:
    state = state if state is not None else MetaState()
    app = FastAPI(title="fake-meta-graph", openapi_url=None)
    _add_control_routes(app, state)

    @app.post("/{version}/{node}/messages")
    async def send(version: str, node: str, request: Request) -> Response:
        headers = usage_headers(state.page_id, state.count_call())
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        traceparent = request.headers.get("traceparent")
        try:
            failure = state.take_failure()
            if failure is not None:
                raise failure
            token = _check_auth(state, version, _token(request))
            recipient_id, text, action = _validate_send(body)
        except GraphError as err:
            error = err.body()
            state.record_attempt(
                RecordedAttempt(
                    path=request.url.path,
                    body=body,
                    status=err.http_status,
                    error=error["error"],
                    traceparent=traceparent,
                    received_at=time.time(),
                )
            )
            return _graph_response(error, err.http_status, headers)
        message_id = None if action else new_mid()
        result: dict[str, Any] = {}
        if recipient_id is not None:
            result["recipient_id"] = recipient_id
        if message_id is not None:
            result["message_id"] = message_id
        if state.echoes is not None and message_id is not None and recipient_id is not None:
            state.echoes.echo(state.page_id, recipient_id, message_id, body["message"])
        state.record_send(
            RecordedSend(
                path=request.url.path,
                body=body,
                recipient_id=recipient_id,
                text=text,
                sender_action=action,
                message_id=message_id,
                access_token=token,
                traceparent=traceparent,
                received_at=time.time(),
            )
        )
        return _graph_response(result, 200, headers)

    @app.get("/{version}/{psid}")
    async def get_profile(version: str, psid: str, request: Request) -> Response:
        headers = usage_headers(state.page_id, state.count_call())
        raw_fields = request.query_params.get("fields") or "first_name,last_name,profile_pic"
        fields = [f.strip() for f in raw_fields.split(",") if f.strip()]
        try:
            _check_auth(state, version, _token(request))
            for f in fields:
                if f not in PROFILE_FIELDS:
                    raise GraphError(
                        100, f"(#100) Tried accessing nonexisting field ({f}) on node type (User)"
                    )
        except GraphError as err:
            return _graph_response(err.body(), err.http_status, headers)
        return _graph_response(profile(psid, fields), 200, headers)

    return app


def _add_control_routes(app: FastAPI, state: MetaState) -> None:
    @app.get("/_fake/messages")
    async def list_messages() -> list[RecordedSend]:
        return state.messages()

    @app.get("/_fake/attempts")
    async def list_attempts() -> list[RecordedAttempt]:
        return state.attempts()

    @app.post("/_fake/fail")
    async def fail(spec: FailSpec) -> dict[str, bool]:
        state.fail_next(
            spec.code,
            subcode=spec.subcode,
            times=spec.times,
            http_status=spec.http_status,
            message=spec.message,
        )
        return {"ok": True}

    @app.post("/_fake/echoes")
    async def echoes(target: EchoTarget) -> dict[str, bool]:
        state.echo_to(target.url, target.app_secret)
        return {"ok": True}

    @app.post("/_fake/reset")
    async def reset() -> dict[str, bool]:
        state.reset()
        return {"ok": True}
