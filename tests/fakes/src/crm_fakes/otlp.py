"""OTLP/HTTP trace receiver (`POST /v1/traces`, protobuf or JSON) that keeps spans in memory."""

from __future__ import annotations

import base64
import gzip
import json
import string
import threading
import zlib
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from pydantic import BaseModel, ConfigDict

AttrValue = str | int | float | bool | list[Any] | dict[str, Any] | None

SPAN_KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUS_CODES = ("UNSET", "OK", "ERROR")


class ReceivedSpan(BaseModel):
    """One exported span, flattened. `kind` is e.g. "SERVER"; `status_code` "UNSET"/"OK"/"ERROR"."""

    model_config = ConfigDict(frozen=True)

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    service_name: str
    attributes: dict[str, AttrValue]
    start_ns: int
    end_ns: int
    status_code: str
    status_message: str = ""
    scope_name: str = ""
    resource_attributes: dict[str, AttrValue] = {}
    events: list[str] = []


class OtlpState:
    """Received spans, in arrival order; thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._spans: list[ReceivedSpan] = []

    def add(self, spans: list[ReceivedSpan]) -> None:
        with self._cond:
            self._spans.extend(spans)
            self._cond.notify_all()

    def spans(self) -> list[ReceivedSpan]:
        with self._cond:
            return list(self._spans)

    def traces(self) -> dict[str, list[ReceivedSpan]]:
        out: dict[str, list[ReceivedSpan]] = {}
        for span in self.spans():
            out.setdefault(span.trace_id, []).append(span)
        return out

    def wait_for_spans(
        self, count: int = 1, timeout: float = 5.0, *, name: str | None = None
    ) -> list[ReceivedSpan]:
        """Block until `count` spans (named `name`, if given) arrived; returns them."""

        def matching() -> list[ReceivedSpan]:
            return [s for s in self._spans if name is None or s.name == name]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                raise TimeoutError(f"expected {count} spans (name={name!r}), got {len(matching())}")
            return matching()

    def reset(self) -> None:
        with self._cond:
            self._spans.clear()


def _enum_name(value: Any, names: tuple[str, ...], prefix: str) -> str:
    if isinstance(value, int):
        return names[value] if 0 <= value < len(names) else str(value)
    return str(value).removeprefix(prefix) if value else names[0]


# -- protobuf ----------------------------------------------------------------
def _pb_value(v: AnyValue) -> AttrValue:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_pb_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return _pb_attrs(v.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(v.bytes_value).decode("ascii")
    if kind is None:
        return None
    value: AttrValue = getattr(v, kind)
    return value


def _pb_attrs(kvs: Any) -> dict[str, AttrValue]:
    items: list[KeyValue] = list(kvs)
    return {kv.key: _pb_value(kv.value) for kv in items}


def _from_protobuf(body: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    out: list[ReceivedSpan] = []
    for rs in request.resource_spans:
        resource = _pb_attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for sp in ss.spans:
                out.append(
                    ReceivedSpan(
                        trace_id=sp.trace_id.hex(),
                        span_id=sp.span_id.hex(),
                        parent_span_id=sp.parent_span_id.hex() or None,
                        name=sp.name,
                        kind=_enum_name(int(sp.kind), SPAN_KINDS, "SPAN_KIND_"),
                        service_name=str(resource.get("service.name", "")),
                        attributes=_pb_attrs(sp.attributes),
                        start_ns=sp.start_time_unix_nano,
                        end_ns=sp.end_time_unix_nano,
                        status_code=_enum_name(int(sp.status.code), STATUS_CODES, "STATUS_CODE_"),
                        status_message=sp.status.message,
                        scope_name=ss.scope.name,
                        resource_attributes=resource,
                        events=[e.name for e in sp.events],
                    )
                )
    return out


# -- OTLP JSON ---------------------------------------------------------------
def _hex_id(value: Any) -> str:
    """OTLP JSON ids are hex; tolerate base64 (proto3 JSON mapping) too."""
    text = str(value or "")
    if len(text) in (16, 32) and all(c in string.hexdigits for c in text):
        return text.lower()
    return base64.b64decode(text).hex()


def _json_value(v: dict[str, Any]) -> AttrValue:
    if "arrayValue" in v:
        return [_json_value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return _json_attrs(v["kvlistValue"].get("values", []))
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    for key in ("stringValue", "boolValue", "bytesValue"):
        if key in v:
            value: AttrValue = v[key]
            return value
    return None


def _json_attrs(kvs: list[dict[str, Any]]) -> dict[str, AttrValue]:
    return {kv["key"]: _json_value(kv.get("value") or {}) for kv in kvs}


def _from_json(body: bytes) -> list[ReceivedSpan]:
    doc = json.loads(body)
    out: list[ReceivedSpan] = []
    for rs in doc.get("resourceSpans", []):
        resource = _json_attrs(rs.get("resource", {}).get("attributes", []))
        for ss in rs.get("scopeSpans", rs.get("instrumentationLibrarySpans", [])):
            for sp in ss.get("spans", []):
                status = sp.get("status") or {}
                out.append(
                    ReceivedSpan(
                        trace_id=_hex_id(sp["traceId"]),
                        span_id=_hex_id(sp["spanId"]),
                        parent_span_id=_hex_id(sp.get("parentSpanId")) or None,
                        name=sp["name"],
                        kind=_enum_name(sp.get("kind", 0), SPAN_KINDS, "SPAN_KIND_"),
                        service_name=str(resource.get("service.name", "")),
                        attributes=_json_attrs(sp.get("attributes", [])),
                        start_ns=int(sp.get("startTimeUnixNano", 0)),
                        end_ns=int(sp.get("endTimeUnixNano", 0)),
                        status_code=_enum_name(status.get("code", 0), STATUS_CODES, "STATUS_CODE_"),
                        status_message=status.get("message", ""),
                        scope_name=(ss.get("scope") or {}).get("name", ""),
                        resource_attributes=resource,
                        events=[e.get("name", "") for e in sp.get("events", [])],
                    )
                )
    return out


_DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
    "identity": lambda b: b,
    "": lambda b: b,
}


def create_otlp_app(state: OtlpState | None = None) -> FastAPI:
    state = state if state is not None else OtlpState()
    app = FastAPI(title="fake-otlp", openapi_url=None)

    @app.post("/v1/traces")
    async def traces(request: Request) -> Response:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        encoding = request.headers.get("content-encoding", "").strip().lower()
        if encoding not in _DECOMPRESS:
            return Response(f"unsupported content-encoding {encoding}", status_code=415)
        try:
            body = _DECOMPRESS[encoding](await request.body())
            if ctype in ("application/x-protobuf", "application/protobuf"):
                state.add(_from_protobuf(body))
                empty = ExportTraceServiceResponse().SerializeToString()
                return Response(empty, media_type="application/x-protobuf")
            if ctype == "application/json":
                state.add(_from_json(body))
                return Response("{}", media_type="application/json")
        except Exception as exc:  # malformed payload -> 400 like a collector
            return Response(f"bad OTLP payload: {exc}", status_code=400)
        return Response(f"unsupported content-type {ctype}", status_code=415)

    @app.get("/_fake/spans")
    async def list_spans(trace_id: str | None = None) -> list[ReceivedSpan]:
        return [s for s in state.spans() if trace_id is None or s.trace_id == trace_id]

    @app.post("/_fake/reset")
    async def reset() -> dict[str, bool]:
        state.reset()
        return {"ok": True}

    return app
