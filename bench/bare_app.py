"""The baseline for the webhook benchmark: a bare FastAPI endpoint that reads the body, returns `{}`.

Served by uvicorn as its own process, exactly like the messenger is, so both are measured by
the same client the same way:

    python -m uvicorn bench.bare_app:app --port N --log-level warning --no-access-log
"""

from __future__ import annotations

from fastapi import FastAPI, Request

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/webhooks/meta")
async def receive(request: Request) -> dict[str, str]:
    await request.body()
    return {}
