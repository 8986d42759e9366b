"""`make up`: the whole CRM on this machine, against its PostgreSQL and RabbitMQ.

    python -m crm_localrun            run everything until Ctrl-C
    python -m crm_localrun send TEXT  post a signed customer message to the running messenger

Settings come from the environment, then `.env`, then the defaults below. With no
`META_GRAPH_API_URL`, the Meta fake stands in for the Graph API; with no `GEMINI_API_KEY`, the
ai service answers with its offline responder. Set them to use the real services.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from dotenv import dotenv_values

from crm_fakes import FakeServer, MetaState, create_meta_app
from crm_fakes.webhooks import meta_json, page_webhook, sign, text_message_event

from .stack import Stack

META_FAKE_PORT = 9100
DEMO_PAGE_ID = "100000000000001"
DEFAULTS = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/crm",
    "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
    "CRM_CACHE_DIR": "var/cache",
    "META_GRAPH_API_VERSION": "v23.0",
    "CRM_ADMIN_EMAIL": "admin@vschool.local",
    "CRM_ADMIN_PASSWORD": "change-me-on-first-login",
    "CRM_JWT_SECRET": "local-development-only-jwt-secret-change-me",
    "CRM_INTERNAL_TOKEN": "local-development-internal-token",
    "LOG_LEVEL": "INFO",
}
FAKE_META = {
    "META_APP_SECRET": "local-app-secret",
    "META_VERIFY_TOKEN": "local-verify-token",
    "META_PAGE_ACCESS_TOKEN": "local-page-token",
}


def settings() -> dict[str, str]:
    file = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    # The environment wins over `.env`, which wins over the defaults (the services see it so too).
    return {**DEFAULTS, **file, **os.environ}


async def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    finally:
        await conn.close()


def up() -> int:
    env = settings()
    fake: FakeServer | None = None
    if not env.get("META_GRAPH_API_URL"):
        for key, value in FAKE_META.items():
            env.setdefault(key, value)
        fake = FakeServer(create_meta_app(MetaState(page_id=DEMO_PAGE_ID)), port=META_FAKE_PORT).start()
        env["META_GRAPH_API_URL"] = fake.url
    asyncio.run(ensure_database(env["DATABASE_URL"]))
    Path(env["CRM_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
    stack = Stack(env=env)
    print("migrating schemas and declaring queues ...", flush=True)
    stack.migrate()
    stopping = False

    def stop(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        stack.start()
        print(
            "\nV School CRM is running:\n"
            f"  gateway (staff API)   {stack.url('gateway')}/docs   admin: {env['CRM_ADMIN_EMAIL']}\n"
            f"  messenger (webhook)   {stack.url('messenger')}/webhooks/meta\n"
            f"  marketing             {stack.url('marketing')}/healthz\n"
            f"  ai                    {stack.url('ai')}/healthz   "
            f"({'Gemini' if env.get('GEMINI_API_KEY') else 'offline responder: no GEMINI_API_KEY'})\n"
            f"  cache-writer          {stack.url('cache-writer')}/healthz   files in {env['CRM_CACHE_DIR']}\n"
            + (f"  Meta fake             {fake.url}/_fake/messages\n" if fake else "")
            + "Try:  uv run python -m crm_localrun send 'สวัสดีค่ะ'      Stop: Ctrl-C\n",
            flush=True,
        )
        while not stopping:
            time.sleep(0.2)
    finally:
        print("stopping ...", flush=True)
        stack.stop()
        if fake is not None:
            fake.stop()
    return 0


def send(text: str, psid: str) -> int:
    env = {**FAKE_META, **settings()}
    body = meta_json(page_webhook(DEMO_PAGE_ID, [text_message_event(DEMO_PAGE_ID, psid, text)]))
    request = urllib.request.Request(
        f"http://127.0.0.1:{os.environ.get('MESSENGER_PORT', '8001')}/webhooks/meta",
        data=body,
        headers={
            "content-type": "application/json",
            "x-hub-signature-256": sign(env["META_APP_SECRET"], body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        print("messenger:", response.status, response.read().decode())
    fake = f"http://127.0.0.1:{META_FAKE_PORT}/_fake/messages"
    for _ in range(100):
        with urllib.request.urlopen(fake, timeout=5) as response:
            sent = [m for m in json.load(response) if m.get("recipient_id") == psid]
        if sent:
            print("reply sent to Messenger:", sent[-1]["text"])
            return 0
        time.sleep(0.2)
    print("no reply yet; see the services' output", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm_localrun",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("up", help="run everything (the default)")
    p = sub.add_parser("send", help="post a signed customer message to the running messenger")
    p.add_argument("text")
    p.add_argument("--psid", default="7000000000000001")
    args = parser.parse_args(argv)
    if args.command == "send":
        return send(args.text, args.psid)
    return up()


if __name__ == "__main__":
    sys.exit(main())
