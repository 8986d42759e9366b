from __future__ import annotations

import httpx
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from crm_fakes import OtlpState

from .conftest import Fake


def test_real_exporter_spans_are_received(otlp: Fake[OtlpState]) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "x"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp.url}/v1/traces")))
    tracer = provider.get_tracer("crm.test")
    with (
        tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent,
        tracer.start_as_current_span("child", kind=SpanKind.CLIENT) as child,
    ):
        child.set_attribute("psid", "123")
        child.set_attribute("attempt", 2)
        child.set_attribute("ok", True)
        child.set_attribute("ratio", 0.5)
        child.set_attribute("tags", ["a", "b"])
        child.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()

    spans = {s.name: s for s in otlp.state.wait_for_spans(2)}
    p, c = spans["parent"], spans["child"]
    assert p.service_name == c.service_name == "x"
    assert c.trace_id == p.trace_id == format(parent.get_span_context().trace_id, "032x")
    assert c.parent_span_id == p.span_id == format(parent.get_span_context().span_id, "016x")
    assert p.parent_span_id is None
    assert (p.kind, c.kind) == ("SERVER", "CLIENT")
    assert c.attributes == {
        "psid": "123",
        "attempt": 2,
        "ok": True,
        "ratio": 0.5,
        "tags": ["a", "b"],
    }
    assert (c.status_code, c.status_message) == ("ERROR", "boom")
    assert c.scope_name == "crm.test"
    assert c.start_ns <= c.end_ns
    assert list(otlp.state.traces()) == [p.trace_id]


def test_otlp_json_and_control_api(otlp: Fake[OtlpState]) -> None:
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "y"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "s"},
                        "spans": [
                            {
                                "traceId": "5B8EFFF798038103D269B633813FC60C",
                                "spanId": "EEE19B7EC3C1B174",
                                "name": "op",
                                "kind": 2,
                                "startTimeUnixNano": "1544712660000000000",
                                "endTimeUnixNano": "1544712661000000000",
                                "attributes": [{"key": "n", "value": {"intValue": "7"}}],
                                "status": {"code": 1},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    with httpx.Client() as http:
        r = http.post(f"{otlp.url}/v1/traces", json=doc)
        assert r.status_code == 200
        assert r.json() == {}
        listed = http.get(f"{otlp.url}/_fake/spans").json()
        assert (
            http.post(
                f"{otlp.url}/v1/traces", content=b"x", headers={"content-type": "text/plain"}
            ).status_code
            == 415
        )
    assert listed[0]["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert listed[0]["service_name"] == "y"
    assert listed[0]["attributes"] == {"n": 7}
    assert listed[0]["kind"] == "SERVER"
    assert listed[0]["status_code"] == "OK"
    assert listed[0]["start_ns"] == 1544712660000000000
