"""Inspect and replay parked messages.

    python -m crm_servicekit.parking list   messenger.replies
    python -m crm_servicekit.parking replay messenger.replies [--limit N]

`replay` moves messages back to their queue with a fresh retry budget; consumers are
idempotent, so a replay of something already handled does nothing twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any

import aio_pika

from . import amqp
from .broker import ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER, parked_queue_name
from .logging import configure_logging


@dataclass(frozen=True)
class ParkedMessage:
    message_id: str | None
    event_type: str | None
    error: str | None
    failed_at: str | None
    attempts: int


def _describe(message: aio_pika.abc.AbstractIncomingMessage) -> ParkedMessage:
    headers: dict[str, Any] = dict(message.headers or {})
    try:
        event_type = json.loads(message.body).get("type")
    except (ValueError, AttributeError):
        event_type = None
    return ParkedMessage(
        message_id=message.message_id,
        event_type=event_type,
        error=_text(headers.get(ERROR_HEADER)),
        failed_at=_text(headers.get(FAILED_AT_HEADER)),
        attempts=int(headers.get(ATTEMPT_HEADER, 0) or 0),
    )


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else (str(value) if value is not None else None)


async def list_parked(url: str, queue: str, limit: int = 100) -> list[ParkedMessage]:
    """Peek: read up to `limit` messages and return them to the queue untouched."""
    connection = await amqp.connect(url)
    async with connection:
        channel = await connection.channel()
        parked = await channel.get_queue(parked_queue_name(queue), ensure=False)
        seen: list[aio_pika.abc.AbstractIncomingMessage] = []
        for _ in range(limit):
            msg = await parked.get(fail=False, no_ack=False)
            if msg is None:
                break
            seen.append(msg)
        result = [_describe(m) for m in seen]
        for msg in seen:
            await msg.nack(requeue=True)
        return result


async def replay(url: str, queue: str, limit: int | None = None) -> int:
    """Move parked messages back onto `queue`. Returns how many moved."""
    connection = await amqp.connect(url)
    moved = 0
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        parked = await channel.get_queue(parked_queue_name(queue), ensure=False)
        while limit is None or moved < limit:
            msg = await parked.get(fail=False, no_ack=False)
            if msg is None:
                break
            headers = {
                k: v
                for k, v in (msg.headers or {}).items()
                if k not in (ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER) and not k.startswith("x-death")
            }
            await channel.default_exchange.publish(
                aio_pika.Message(
                    msg.body,
                    headers=headers,
                    message_id=msg.message_id,
                    correlation_id=msg.correlation_id,
                    content_type=msg.content_type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=queue,
            )
            await msg.ack()
            moved += 1
    return moved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m crm_servicekit.parking", description=__doc__)
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("queue", help="the subscriber queue, e.g. messenger.replies")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument(
        "--url",
        help="RABBITMQ_URL, one host or several",
        default=os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    )
    args = parser.parse_args(argv)
    # Log lines (a RabbitMQ host that did not answer) go to stderr, never among the JSON on stdout.
    configure_logging("crm-parking", os.environ.get("LOG_LEVEL", "WARNING"))
    if args.command == "list":
        for m in asyncio.run(list_parked(args.url, args.queue, args.limit or 100)):
            print(json.dumps(m.__dict__, ensure_ascii=False))
    else:
        print(
            f"replayed {asyncio.run(replay(args.url, args.queue, args.limit))} message(s) onto {args.queue}"
        )


if __name__ == "__main__":
    main()
