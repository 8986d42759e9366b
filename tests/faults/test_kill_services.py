"""Drill 1: kill -9 of each service process in turn, mid-stream.

While customers keep writing, one service's process is killed without warning (no graceful
stop: its open transactions, its unacknowledged deliveries, the Send API call it was making are
cut off) and comes back, and the system must end with every accepted message stored once and
answered exactly once, every customer made once and cached. Who restarts it (the runner's
supervision, or the drill when the runner has none) is printed.

While the messenger is killed, Meta's fake answers each Send API call in 200 ms, about what the
real Graph API takes: with an instant fake the kill only now and then lands while a reply is
being sent, and the drill would pass or fail by chance. A reply whose call the kill cut is
resolved by Meta's echo (delivered: recorded `sent`) or by its absence while later replies are
echoed (not delivered: sent again), so the drill asks for every reply exactly once.
"""

from __future__ import annotations

from typing import Any

import pytest

from crm_localrun import SERVICES

from .drill import assert_nothing_lost_or_doubled, run_drill
from .system import DrillSystem

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(240)]

SEND_LATENCY = {"messenger": 0.2}  # seconds per Send API call while this service is killed
# A reply whose Send API call the kill cut before Meta had it is sent again once Meta has echoed
# later replies and not it (the sweeper's `RESEND_AFTER`, 45 s, plus its 15 s period).
SETTLE = {"messenger": 120.0}


@pytest.mark.parametrize("service", list(SERVICES))
async def test_kill_9_mid_stream_loses_and_doubles_nothing(system: DrillSystem, service: str) -> None:
    async def kill_and_restart() -> dict[str, Any]:
        killed = system.kill(service)
        ready_in, restarted_by = await system.restart(service, killed)
        about = {"ready_again_in": f"{ready_in:.1f}s", "restarted_by": f"'{restarted_by}'"}
        return about | ({"send_api_latency": f"{latency * 1000:.0f}ms"} if latency else {})

    latency = SEND_LATENCY.get(service, 0.0)
    system.fakes.send_latency.seconds = latency
    try:
        figures = await run_drill(
            system,
            f"kill -9 {service}",
            f"kill-{service}",
            kill_and_restart,
            settle_timeout=SETTLE.get(service, 60.0),
        )
    finally:
        system.fakes.send_latency.seconds = 0.0
    # The messenger killed after Meta accepted a reply and before it recorded that: Meta's echo
    # of the reply tells it, once it is back, that the reply was delivered.
    assert_nothing_lost_or_doubled(figures)
