"""The gateway serves exactly the checked-in OpenAPI document (`contracts/openapi/gateway.json`)."""

from __future__ import annotations

import json

from .openapi_spec import PATH, document, render


def test_served_openapi_document_matches_the_contract() -> None:
    assert PATH.exists(), "run: uv run python tests/contracts/openapi_spec.py write"
    served = document()
    checked_in = json.loads(PATH.read_text())
    # Compared as data first (order of keys is no contract), then as text for a readable diff.
    if served != checked_in:
        assert render(served) == PATH.read_text(), (
            "the gateway's OpenAPI document drifted from contracts/openapi/gateway.json; if the change "
            "is deliberate, regenerate it with `uv run python tests/contracts/openapi_spec.py write` "
            "and review the diff"
        )
