"""An open-loop load generator: requests start at a constant arrival rate, whatever the server does.

Request `i` of a step is planned at `start + i / rate`; the sender sleeps until then and starts
it, and its latency is measured from that PLANNED time to the end of the response, so a server
(or a client) that falls behind shows up as latency instead of quietly lowering the rate
(no coordinated omission). In-flight requests are capped; a request whose planned time comes
while the cap is reached is not sent and is counted as `skipped`, and one that starts more than
`late_ms` after its planned time is counted as `late` (the generator itself fell behind).
Requests are spread round-robin over several clients: one httpx pool holding about a thousand
connections spends its time scanning them (quadratic), which would stall the sender itself.
Times come from `time.perf_counter()`: uvloop's `loop.time()` only has millisecond steps.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class PlannedRequest:
    body: bytes
    headers: dict[str, str]


@dataclass
class StepResult:
    rate: float
    planned: int
    sent: int = 0
    skipped: int = 0
    late: int = 0
    max_start_lag_ms: float = 0.0
    ok_latencies_ms: list[float] = field(default_factory=list)
    ok_indices: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    """From the first planned start to the last response (or give-up)."""

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def non_200(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def achieved_per_s(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def run_step(
    clients: Sequence[httpx.AsyncClient],
    url: str,
    requests: Sequence[PlannedRequest],
    rate: float,
    *,
    max_in_flight: int,
    late_ms: float = 10.0,
    drain_timeout: float = 15.0,
) -> StepResult:
    """Send `requests` at `rate` per second (open loop) and wait for their responses (bounded)."""
    clock = time.perf_counter
    result = StepResult(rate=rate, planned=len(requests))
    duration = len(requests) / rate
    start = clock() + 0.05
    # If the event loop is starved this badly, stop starting requests rather than run on.
    give_up_sending = start + 2 * duration + 5.0
    in_flight = 0
    last_done = start
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int, planned_at: float) -> None:
        nonlocal in_flight, last_done
        request = requests[index]
        try:
            client = clients[index % len(clients)]
            response = await client.post(url, content=request.body, headers=request.headers)
            done = clock()
            result.statuses[response.status_code] += 1
            if response.status_code == 200:
                result.ok_latencies_ms.append((done - planned_at) * 1000.0)
                result.ok_indices.append(index)
        except httpx.HTTPError as exc:
            result.errors[type(exc).__name__] += 1
        finally:
            in_flight -= 1
            last_done = max(last_done, clock())

    try:
        for index in range(len(requests)):
            planned_at = start + index / rate
            delay = planned_at - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            now = clock()
            if now > give_up_sending:
                result.skipped += len(requests) - index
                break
            lag_ms = (now - planned_at) * 1000.0
            result.max_start_lag_ms = max(result.max_start_lag_ms, lag_ms)
            if lag_ms > late_ms:
                result.late += 1
            if in_flight >= max_in_flight:
                result.skipped += 1
                continue
            in_flight += 1
            result.sent += 1
            task = asyncio.create_task(one(index, planned_at))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            _, pending = await asyncio.wait(set(tasks), timeout=drain_timeout)
            if pending:
                result.errors["DrainTimeout"] += len(pending)
    finally:
        # Never leave requests running past the step (also on Ctrl-C).
        leftover = [t for t in tasks if not t.done()]
        for task in leftover:
            task.cancel()
        if leftover:
            await asyncio.gather(*leftover, return_exceptions=True)
        result.elapsed_s = max(0.0, last_done - start)
    return result
