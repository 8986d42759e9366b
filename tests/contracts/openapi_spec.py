"""The gateway's OpenAPI document, checked in as the staff API's contract.

    uv run python tests/contracts/openapi_spec.py write   # after a deliberate change to the API

`contracts/openapi/gateway.json` is what the staff web app's typed client is generated from;
`test_openapi_contract.py` fails when the served document and this file drift, so a refactoring
cannot change a route, a status code, a schema name or an example by accident.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

PATH = Path(__file__).resolve().parents[2] / "contracts" / "openapi" / "gateway.json"

# The document describes the deployment, whatever this machine's environment says.
CANONICAL_ENV = {"RABBITMQ_URL": "amqp://guest:guest@rabbitmq:5672/"}


def document() -> dict[str, Any]:
    os.environ.update(CANONICAL_ENV)
    from crm_gateway.app import create_app

    spec: dict[str, Any] = create_app().openapi()
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if argv[1:] != ["write"]:
        print(__doc__)
        return 2
    PATH.parent.mkdir(parents=True, exist_ok=True)
    PATH.write_text(render(document()))
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
