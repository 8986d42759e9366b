"""The checked-in AsyncAPI documents say what the code does."""

from __future__ import annotations

import pytest
import yaml

from .asyncapi_spec import SERVICES, document, path


@pytest.mark.parametrize("service", SERVICES)
def test_checked_in_asyncapi_matches_the_code(service: str) -> None:
    assert path(service).exists(), "run: uv run python tests/contracts/asyncapi_spec.py write"
    assert path(service).read_text() == document(service), (
        f"{path(service).name} drifted from the code; regenerate it with "
        "`uv run python tests/contracts/asyncapi_spec.py write` and review the diff"
    )


def test_every_event_a_service_consumes_is_published_by_another() -> None:
    published: dict[str, str] = {}
    consumed: dict[str, str] = {}
    for service in SERVICES:
        doc = yaml.safe_load(path(service).read_text())
        for op in doc.get("operations", {}).values():
            channel = doc["channels"][op["channel"]["$ref"].rsplit("/", 1)[-1]]
            target = published if op["action"] == "send" else consumed
            target[channel["address"]] = service
    assert consumed, "services consume events"
    for event_type, consumer in consumed.items():
        assert event_type in published, f"{consumer} consumes {event_type}, which nobody publishes"
        assert published[event_type] != consumer
