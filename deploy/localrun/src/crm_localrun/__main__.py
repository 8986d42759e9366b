"""`make up`: the whole CRM on this machine, against its PostgreSQL and RabbitMQ.

    python -m crm_localrun            run everything until Ctrl-C
    python -m crm_localrun send TEXT  post a signed customer message to the running messenger

Settings come from the environment, then `.env`, then the defaults below. With no
`META_GRAPH_API_URL`, fakes stand in for the Graph API: the Messenger fake for the messenger, and
the Marketing API fake (a process: one ad account, 6 campaigns x 2 ad sets x 2 ads, 90 days of
numbers) for the marketing service, which syncs it hourly and daily. With no `GEMINI_API_KEY`, the
ai service answers with its offline responder. Set them to use the real services. Ports:
`<SERVICE>_PORT` (`GATEWAY_PORT`, `CACHE_WRITER_PORT`, ...), `META_FAKE_PORT`,
`MARKETING_FAKE_PORT`.

A local run: `CRM_ENV=local` (a service may start with a development secret, and says so in one
warning line) and every service listens on 127.0.0.1 only (`CRM_BIND_HOST`; set it to 0.0.0.0 to
be reached from the network). The admin password, the JWT secret and the internal token are
generated on the first run and kept in `var/localrun/secrets.env` (readable by you only), so the
admin you signed in as keeps its password from one run to the next; the banner shows it. A
value of your own (environment or `.env`) wins.

A service that ends is restarted, with a growing pause, and each restart is printed (ADR 15).
Ctrl-C, SIGTERM or SIGHUP stop every service gently. If the runner itself is killed, the kernel
stops its children anyway. A closed stdout (`make up | tee up.log`, tee gone) does not get in
the way of stopping them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shlex
import signal
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from dotenv import dotenv_values

from crm_ai.knowledge import SAMPLE_DOCUMENTS
from crm_fakes import FakeServer, MetaState, create_meta_app
from crm_fakes.webhooks import meta_json, page_webhook, sign, text_message_event
from crm_servicekit.settings import libpq_database_url

from .fakes import MarketingFake
from .processes import die_with_parent
from .stack import SERVICES, Stack

META_FAKE_PORT = 9100
MARKETING_FAKE_PORT = 9101
DEMO_PAGE_ID = "100000000000001"
DEFAULTS = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/crm",
    "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
    "CRM_CACHE_DIR": "var/cache",
    "META_GRAPH_API_VERSION": "v23.0",
    "CRM_ADMIN_EMAIL": "admin@vschool.local",
    "LOG_LEVEL": "INFO",
    # A local run: development secrets are allowed (with a warning), and nothing listens beyond
    # this machine unless you say so.
    "CRM_ENV": "local",
    "CRM_BIND_HOST": "127.0.0.1",
}
# Generated once per checkout (not fixed: anyone who reads this file would know a fixed one, and
# this machine may be shared or its port forwarded), kept so the admin's password stays valid.
GENERATED_SECRETS = {  # name -> bytes of randomness (token_urlsafe: 16 characters for 12 bytes)
    "CRM_ADMIN_PASSWORD": 12,
    "CRM_JWT_SECRET": 32,
    "CRM_INTERNAL_TOKEN": 32,
}
SECRETS_FILE = Path("var/localrun/secrets.env")
FAKE_META = {
    "META_APP_SECRET": "local-app-secret",
    "META_VERIFY_TOKEN": "local-verify-token",
    "META_PAGE_ACCESS_TOKEN": "local-page-token",
}
FAKE_MARKETING = {"META_MARKETING_ACCESS_TOKEN": "local-marketing-token"}
FAKE_MARKETING_PACE = {
    # The fake finishes a report job on its second status poll: no need to wait as for Meta.
    "REPORT_POLL_INITIAL_SECONDS": "0.2",
    "REPORT_POLL_MAX_SECONDS": "2",
}


def generated_secrets(path: Path = SECRETS_FILE) -> dict[str, str]:
    """The secrets of this checkout's local runs: read from `path`, made (0600) when missing."""
    kept = {k: v for k, v in dotenv_values(path).items() if v} if path.exists() else {}
    missing = {
        name: secrets.token_urlsafe(size) for name, size in GENERATED_SECRETS.items() if name not in kept
    }
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as file:
            file.writelines(f"{name}={value}\n" for name, value in missing.items())
    return {**kept, **missing}


def settings() -> dict[str, str]:
    file = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    # The environment wins over `.env`, which wins over the generated secrets and the defaults
    # (the services see it so too).
    return {**DEFAULTS, **generated_secrets(), **file, **os.environ}


def admin_password_note(env: dict[str, str], generated: bool) -> str:
    """The banner's word on the admin password: shown once when it is the generated one."""
    if generated:
        return f"password: {env['CRM_ADMIN_PASSWORD']}   (generated, kept in {SECRETS_FILE})"
    return "password: your CRM_ADMIN_PASSWORD"


def port_variable(name: str) -> str:
    """`cache-writer` -> `CACHE_WRITER_PORT`."""
    return name.upper().replace("-", "_") + "_PORT"


def service_ports(env: dict[str, str]) -> dict[str, int]:
    return {service: int(env.get(port_variable(service), port)) for service, port in SERVICES.items()}


_STDOUT_GONE = threading.Event()  # set once stdout has failed: `say` writes to stderr from then on


def say(text: str) -> None:
    """Print a line. A closed stdout (the reader of `make up | tee` is gone) must not stop the
    runner before it has stopped the services: the line goes to stderr instead (where the
    services' own lines go), and stdout points at /dev/null from then on (so the flush at exit
    does not fail again)."""
    if not _STDOUT_GONE.is_set():
        try:
            print(text, flush=True)
            return
        except (OSError, ValueError):  # BrokenPipeError; ValueError once stdout is closed
            _STDOUT_GONE.set()
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


def interrupt(signum: int, _: object) -> None:
    """Ctrl-C, SIGTERM and SIGHUP stop the runner."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


async def ensure_database(database_url: str) -> None:
    """Create the database of `DATABASE_URL` (any form the services accept) if it is missing."""
    url = libpq_database_url(database_url)
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
            say(f"created database {name}")
    finally:
        await conn.close()


def fake_marketing(
    env: dict[str, str], port: int = MARKETING_FAKE_PORT
) -> tuple[MarketingFake, dict[str, str]]:
    """The Marketing API fake, and the marketing service's own settings to sync its ad account.

    Your `META_MARKETING_ACCESS_TOKEN` and pacing settings are kept (the fake accepts
    that token); the ad account is the fake's, the only one it knows. The schedule stays as set
    (`SYNC_SCHEDULE_ENABLED`, on by default), so hourly and daily runs happen.
    """
    token = env.get("META_MARKETING_ACCESS_TOKEN") or FAKE_MARKETING["META_MARKETING_ACCESS_TOKEN"]
    fake = MarketingFake(port=port, token=token, seed=1, campaigns=6, adsets=2, ads=2, days=90)
    pace = {key: env.get(key) or value for key, value in FAKE_MARKETING_PACE.items()}
    return fake, {**pace, **fake.service_env()}


def backfill_hint(gateway: str, env: dict[str, str], fake: MarketingFake, generated: bool = False) -> str:
    """How to queue a backfill of the fake's days through the gateway, as the admin (curl)."""
    # The password is never repeated here: the banner shows the generated one once.
    login = '"password=$CRM_ADMIN_PASSWORD"'
    if generated:
        note = f" (first: set -a; . {SECRETS_FILE}; set +a)"
    else:
        note = " (export CRM_ADMIN_PASSWORD first)"
    body = json.dumps(
        {
            "kind": "backfill",
            "since": fake.since.isoformat(),
            "until": fake.today.isoformat(),
            "granularities": ["day", "hour"],
        },
        separators=(",", ":"),
    )
    username = shlex.quote(f"username={env['CRM_ADMIN_EMAIL']}")
    return (
        f"Marketing: hourly and daily syncs of act_{fake.account_id} are queued on their own "
        "(the first about a minute after start).\n"
        f"Backfill its {fake.days} days (day and hour rows) for the dashboards{note}:\n"
        f"  TOKEN=$(curl -s {gateway}/api/v1/auth/token --data-urlencode {username} --data-urlencode {login} "
        """| python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')\n"""
        f'  curl -s -X POST {gateway}/api/v1/marketing/syncs -H "Authorization: Bearer $TOKEN" '
        f"-H 'content-type: application/json' -d '{body}'\n"
        f'  Follow it: curl -s {gateway}/api/v1/marketing/syncs -H "Authorization: Bearer $TOKEN"\n'
    )


def up() -> int:
    # Started by `uv run` or make: if that parent is killed, stop as on Ctrl-C.
    die_with_parent()
    signal.signal(signal.SIGTERM, interrupt)
    for sig in (signal.SIGINT, signal.SIGHUP):
        # Unless ignored on purpose (a background job's Ctrl-C, `nohup`'s hang-up).
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, interrupt)
    env = settings()
    generated = env["CRM_ADMIN_PASSWORD"] == generated_secrets().get("CRM_ADMIN_PASSWORD")
    fake: FakeServer | None = None
    marketing: MarketingFake | None = None
    service_envs: dict[str, dict[str, str]] = {}
    stack = Stack(env=env, ports=service_ports(env), service_envs=service_envs, say=say)
    try:
        if not env.get("META_GRAPH_API_URL"):
            for key, value in FAKE_META.items():
                env.setdefault(key, value)
            marketing, service_envs["marketing"] = fake_marketing(
                env, int(env.get("MARKETING_FAKE_PORT", MARKETING_FAKE_PORT))
            )
            meta_state = MetaState(page_id=DEMO_PAGE_ID)
            # Echoes of what the Page sends come back to the messenger, as with a real Page.
            meta_state.echo_to(stack.url("messenger") + "/webhooks/meta", env["META_APP_SECRET"])
            meta = create_meta_app(meta_state)
            fake = FakeServer(meta, port=int(env.get("META_FAKE_PORT", META_FAKE_PORT))).start()
            env["META_GRAPH_API_URL"] = fake.url
        asyncio.run(ensure_database(env["DATABASE_URL"]))
        Path(env["CRM_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
        if marketing is not None:
            marketing.start()
        say("migrating schemas and declaring queues ...")
        stack.migrate()
        if env.get("CRM_SAMPLE_KNOWLEDGE", "true").lower() != "false":
            say("loading the sample knowledge base (CRM_SAMPLE_KNOWLEDGE=false skips it) ...")
            say(stack.ingest_knowledge(SAMPLE_DOCUMENTS).rstrip())
        stack.start()
        say(
            "\nV School CRM is running:\n"
            f"  staff web app         {stack.url('gateway')}/   "
            f"admin: {env['CRM_ADMIN_EMAIL']}   {admin_password_note(env, generated)}\n"
            f"  gateway (staff API)   {stack.url('gateway')}/api/v1\n"
            f"  API docs              {stack.internal_url('gateway')}/docs\n"
            f"  messenger (webhook)   {stack.url('messenger')}/webhooks/meta\n"
            f"  marketing             {stack.url('marketing')}/healthz\n"
            f"  ai                    {stack.url('ai')}/healthz   "
            f"({'Gemini' if env.get('GEMINI_API_KEY') else 'offline responder: no GEMINI_API_KEY'})\n"
            f"  cache-writer          {stack.url('cache-writer')}/healthz   files in {env['CRM_CACHE_DIR']}\n"
            + (f"  Meta fake             {fake.url}/_fake/messages\n" if fake else "")
            + (
                f"  Marketing API fake    {marketing.url}/_fake/calls   act_{marketing.account_id}\n"
                if marketing
                else ""
            )
            + f"Services listen on {env['CRM_BIND_HOST']} (CRM_BIND_HOST), CRM_ENV={env['CRM_ENV']}\n"
            + "Try:  uv run python -m crm_localrun send 'สวัสดีค่ะ'      Stop: Ctrl-C\n"
            + (backfill_hint(stack.url("gateway"), env, marketing, generated) if marketing else "")
        )
        while True:
            time.sleep(3600)  # the stack's supervisor watches the services; a signal ends this
    except KeyboardInterrupt:
        pass
    finally:
        # One stop, not interrupted by a second Ctrl-C (it is bounded: 15 s, then a kill).
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        say("stopping ...")
        stack.stop()
        if marketing is not None:
            marketing.stop()
        if fake is not None:
            fake.stop()
        say("stopped")
    return 0


def send(text: str, psid: str) -> int:
    env = {**FAKE_META, **settings()}
    body = meta_json(page_webhook(DEMO_PAGE_ID, [text_message_event(DEMO_PAGE_ID, psid, text)]))
    request = urllib.request.Request(
        f"http://127.0.0.1:{env.get('MESSENGER_PORT', SERVICES['messenger'])}/webhooks/meta",
        data=body,
        headers={
            "content-type": "application/json",
            "x-hub-signature-256": sign(env["META_APP_SECRET"], body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        print("messenger:", response.status, response.read().decode())
    fake = f"http://127.0.0.1:{env.get('META_FAKE_PORT', META_FAKE_PORT)}/_fake/messages"
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
