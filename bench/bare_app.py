"""Baselines: bare FastAPI endpoints, with no database, no auth and no work of their own.

- `POST /webhooks/meta` (the webhook benchmark) reads the body and returns `{}`;
- `GET|POST /bench/json?size=N` (the gateway benchmark) reads any body and returns a JSON object
  of about N bytes, serialised by FastAPI per request like any endpoint's answer.

Served by uvicorn as its own process, exactly like the messenger is, so both are measured by
the same client the same way:

    python -m uvicorn bench.bare_app:app --port N --log-level warning --no-access-log
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Query, Request

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/webhooks/meta")
async def receive(request: Request) -> dict[str, str]:
    await request.body()
    return {}


@lru_cache(maxsize=64)
def _items(size: int) -> list[dict[str, Any]]:
    """About `size` bytes of JSON: 100-byte items shaped like a list page's."""
    return [{"id": f"TVS-CUS-FB-25-{i:06d}", "name": "x" * 45, "stage": "lead"} for i in range(size // 100)]


@app.api_route("/bench/json", methods=["GET", "POST"])
async def sized_json(request: Request, size: int = Query(default=1000, ge=0, le=1_000_000)) -> dict[str, Any]:
    await request.body()
    return {"items": _items(size), "next_cursor": None}
