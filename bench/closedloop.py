"""A closed-loop load generator: C clients, each sending its next request as soon as the last answered.

This is how a number of staff (or browser tabs) use an API: at most C requests in flight, so
throughput is what the server sustains at that concurrency and latency includes any queueing
inside the server. Each client has its own connection (its own httpx pool of one), which keeps
the sender's cost per request flat. A `Script` decides each client's next request and may look
at the previous answer (a list walked page by page follows `next_cursor`).

Latency is from just before the request is sent to the end of its body (`time.perf_counter()`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from .loadgen import percentile


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    """Path and query, relative to the server's base URL."""
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class Script(Protocol):
    """One client's requests: the next one, and what to do with an answer."""

    def next_call(self) -> Call: ...

    def answered(self, response: httpx.Response) -> None: ...


@dataclass
class Result:
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    served_from: Counter[str] = field(default_factory=Counter)
    """`X-Served-From` of the 2xx answers (the gateway says `cache` or `database`)."""
    body_bytes: int = 0
    elapsed_s: float = 0.0

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def failed(self) -> int:
        return sum(self.statuses.values()) - self.ok + sum(self.errors.values())

    @property
    def per_s(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def mean_body_bytes(self) -> float:
        return self.body_bytes / self.ok if self.ok else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


async def run(
    base_url: str,
    script: Callable[[int], Script],
    *,
    concurrency: int,
    seconds: float,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Result:
    """`concurrency` clients, each running `script(i)` for `seconds`; the 2xx latencies and counts."""
    result = Result(concurrency=concurrency)
    clock = time.perf_counter
    clients = [
        httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=httpx.Timeout(timeout),
            trust_env=False,  # no proxy: 127.0.0.1 only
        )
        for _ in range(concurrency)
    ]
    start = clock()
    deadline = start + seconds

    async def client_loop(client: httpx.AsyncClient, mine: Script) -> None:
        while clock() < deadline:
            call = mine.next_call()
            sent = clock()
            try:
                response = await client.request(
                    call.method, call.url, content=call.body, headers=call.headers
                )
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] += 1
                continue
            done = clock()
            result.statuses[response.status_code] += 1
            if 200 <= response.status_code < 300:
                result.latencies_ms.append((done - sent) * 1000.0)
                result.body_bytes += len(response.content)
                result.served_from[response.headers.get("x-served-from", "-")] += 1
            mine.answered(response)

    try:
        await asyncio.gather(*(client_loop(c, script(i)) for i, c in enumerate(clients)))
    finally:
        result.elapsed_s = clock() - start
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
    return result
