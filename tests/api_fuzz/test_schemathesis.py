"""Schemathesis reads the gateway's OpenAPI document and sends it generated requests, valid and
invalid, to every operation as an admin: no answer may be a 5xx or break the documented schema.

A second, shorter phase sends valid requests with one string replaced by a hostile one (NUL, lone
surrogates, 1 MB strings, RTL marks, Thai combining marks; `hostile.py`): the same zero-5xx rule.

A third, stateful phase follows OpenAPI links (`links.py`, added to the live schema here) so the
ids a call creates are used by the next calls: a customer is created, noted, ordered for, merged,
exported and erased; an order paid, refunded and cancelled. Scenarios of up to 20 calls, for 40 s
(a few hundred scenarios here, far more than the first phase's examples per operation); the
zero-5xx rule holds, and the run must have followed links to answers that worked, so it cannot
pass vacuously.

The seed is fixed so a failure in CI reproduces; `FUZZ_SEED=random` or another number explores
further (`FUZZ_EXAMPLES` raises the examples per operation, `FUZZ_HOSTILE_EXAMPLES` those of the
hostile phase; `FUZZ_STATEFUL_SECONDS`, `_STEPS`, `_SCENARIOS` and `_MODE` tune the stateful one).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api_fuzz.links import Seed, declared, with_links
from tests.e2e.conftest import System, staff_token

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
# Operations that end the fuzzer's own session; tested by the auth tests instead.
EXCLUDED = ("/api/v1/auth/logout", "/api/v1/staff/{staff_id}/password")
HOSTILE_HOOKS = Path(__file__).with_name("hostile.py")


async def schemathesis(
    system: System,
    report_dir: Path,
    *options: str,
    env: dict[str, str] | None = None,
    schema: Path | None = None,
    config: Path | None = None,
    report: str = "junit",
) -> str:
    """Run `st run` against the stack's gateway as an admin (its live OpenAPI document, or
    `schema`, with `config` as `schemathesis.toml`); its output, asserted successful."""
    token = (await staff_token(system))["Authorization"]
    base = system.stack.url("gateway")
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    seed = os.environ.get("FUZZ_SEED", "20261122")
    # The live document is on the gateway's internal port (ADR 17); the calls go to the public one.
    document = str(schema) if schema else f"{system.stack.internal_url('gateway')}/openapi.json"
    location = [document, "--url", base]
    args = [
        st,
        *(["--config-file", str(config)] if config else []),
        "run",
        *location,
        "--checks",
        CHECKS,
        "--header",
        f"Authorization:{token}",
        "--workers",
        "2",
        "--request-timeout",
        "10",
        "--report",
        report,
        "--report-dir",
        str(report_dir),
        "--output-truncate",
        "false",
        *options,
    ]
    if seed != "random":
        args += ["--seed", seed]
    for path in EXCLUDED:
        args += ["--exclude-path", path]
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    # The failures first (a CI log may show only the message's start), then the run's end.
    failures = text[text.find("FAILURES") :][:6000] if "FAILURES" in text else ""
    assert process.returncode == 0, f"{failures}\n...\n{text[-14000:]}"
    assert "No issues found" in text or "passed" in text.lower(), text[-5000:]
    return text


async def test_no_operation_answers_5xx_or_breaks_its_schema(system: System, tmp_path: Path) -> None:
    await schemathesis(system, tmp_path, "--max-examples", os.environ.get("FUZZ_EXAMPLES", "12"))


async def test_hostile_strings_in_any_field_get_no_5xx(system: System, tmp_path: Path) -> None:
    """Valid requests (so the strings get past the types to the rules and the database), one
    string of each replaced; generated data only (no schema examples), bounded to about a minute."""
    await schemathesis(
        system,
        tmp_path,
        "--phases",
        "fuzzing",
        "--mode",
        "positive",
        "--no-shrink",
        "--max-examples",
        os.environ.get("FUZZ_HOSTILE_EXAMPLES", "12"),
        env={"SCHEMATHESIS_HOOKS": str(HOSTILE_HOOKS)},
    )


STATEFUL_CONFIG = """
[phases.stateful]
max-steps = {steps}

[phases.stateful.inference]
# Only the declared links: what schemathesis would infer besides spreads the scenarios thin.
algorithms = []
"""


async def seeded(system: System) -> Seed:
    """A customer, an equipment product and a course with a session, created as the admin: what
    links put into an order or a merge beside the id a response carried."""
    async with httpx.AsyncClient(
        base_url=system.stack.url("gateway"), headers=await staff_token(system)
    ) as http:

        async def created(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(path, json=body)
            assert response.status_code == 201, response.text
            result: dict[str, Any] = response.json()
            return result

        customer = await created("/api/v1/customers", {"channel": "WALKIN", "name_latin": "Fuzz Survivor"})
        equipment = {"kind": "equipment", "name_th": "มีดซูชิ", "price": "1290.00"}
        product = await created("/api/v1/products", equipment)
        course = await created(
            "/api/v1/products", {"kind": "course", "name_th": "คอร์สราเมง", "price": "4500.00"}
        )
        times = {"starts_at": "2027-01-09T10:00:00+07:00", "ends_at": "2027-01-09T16:00:00+07:00"}
        session = await created(f"/api/v1/products/{course['id']}/sessions", {**times, "capacity": 500})
    return Seed(customer["customer_id"], product["id"], course["id"], session["id"])


def followed_links(report_dir: Path) -> Counter[tuple[str, int]]:
    """Calls the stateful phase made by following a declared link, by link and status code (from
    the run's NDJSON report)."""
    followed: Counter[tuple[str, int]] = Counter()
    for report in report_dir.glob("*.ndjson"):
        for line in report.read_text().splitlines():
            event = json.loads(line).get("ScenarioFinished")
            if event is None or event["phase"] != "stateful":
                continue
            recorder = event["recorder"]  # a skipped scenario's has no cases
            interactions = recorder.get("interactions", {})
            for case_id, case in recorder.get("cases", {}).items():
                transition = case.get("transition")
                response = (interactions.get(case_id) or {}).get("response")
                if case.get("is_transition_applied") and transition and response:
                    followed[(transition["id"], response["status_code"])] += 1
    return followed


async def test_stateful_sequences_follow_links_and_get_no_5xx(system: System, tmp_path: Path) -> None:
    """Sequences of calls joined by links (ids from one answer used in the next); about 45 s here."""
    schema_path, config = tmp_path / "gateway-with-links.json", tmp_path / "schemathesis.toml"
    async with httpx.AsyncClient(base_url=system.stack.internal_url("gateway")) as http:
        live = (await http.get("/openapi.json")).json()
    schema_path.write_text(json.dumps(with_links(live, declared(await seeded(system)))))
    config.write_text(STATEFUL_CONFIG.format(steps=os.environ.get("FUZZ_STATEFUL_STEPS", "20")))
    reports = tmp_path / "reports"
    output = await schemathesis(
        system,
        reports,
        "--phases",
        "stateful",
        # Valid requests, so the ids flow from call to call (the first phase sends invalid ones).
        "--mode",
        os.environ.get("FUZZ_STATEFUL_MODE", "positive"),
        "--max-examples",
        os.environ.get("FUZZ_STATEFUL_SCENARIOS", "150"),
        # Hypothesis may end a suite early (an API's state is never replayed the same): the phase
        # repeats until this budget is spent, so the depth does not depend on the seed.
        "--max-time",
        os.environ.get("FUZZ_STATEFUL_SECONDS", "40"),
        schema=schema_path,
        config=config,
        report="junit,ndjson",
    )
    (reports / "output.txt").write_text(output)
    followed = followed_links(reports)
    worked = {link for (link, status), _ in followed.items() if 200 <= status < 300}
    assert sum(followed.values()) > 0, "no call followed a link"
    assert len(worked) >= 10, f"few links led to an answer that worked: {sorted(worked)}"
    assert not [key for key in followed if key[1] >= 500], followed
