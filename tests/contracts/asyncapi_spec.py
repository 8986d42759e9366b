"""AsyncAPI 3.0 documents generated from each service's FastStream broker.

    uv run python tests/contracts/asyncapi_spec.py write   # after changing an event or a subscriber

The documents in `contracts/asyncapi/` are the published contract; `test_asyncapi.py` fails when
the code and these files drift.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import yaml
from faststream.specification import AsyncAPI

SERVICES = ("gateway", "messenger", "marketing", "ai", "cache-writer")
DIRECTORY = Path(__file__).resolve().parents[2] / "contracts" / "asyncapi"


# The documents describe the deployment's broker, whatever this machine's environment says.
CANONICAL_ENV = {"RABBITMQ_URL": "amqp://guest:guest@rabbitmq:5672/"}


def document(service: str) -> str:
    os.environ.update(CANONICAL_ENV)
    app_module = importlib.import_module(f"crm_{service.replace('-', '_')}.app")
    broker = app_module.create_app().state.runtime.broker
    spec = AsyncAPI(
        broker,
        title=f"crm-{service}",
        version="1",
        description=f"Events the {service} service consumes and publishes on crm.events.",
        schema_version="3.0.0",
    )
    # FastStream keeps publishers in a WeakSet: sort keys so the document is stable run to run.
    return yaml.safe_dump(spec.to_specification().to_jsonable(), sort_keys=True, allow_unicode=True)


def path(service: str) -> Path:
    return DIRECTORY / f"{service}.yaml"


def main(argv: list[str]) -> int:
    if argv[1:] != ["write"]:
        print(__doc__)
        return 2
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        path(service).write_text(document(service))
        print(f"wrote {path(service)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
