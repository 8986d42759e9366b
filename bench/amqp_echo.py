"""The raw baseline of a chat-to-reply: one broker round trip between two processes, nothing else.

`python -m bench.amqp_echo URL IN OUT` consumes queue IN and, for each message, publishes its body
to queue OUT with a publisher confirm, then acks the message: the least a service between two
hops does. The bench publishes to IN and consumes OUT, so a message goes publish → consume →
publish → consume, like a customer's message going from the messenger to the ai and the reply
coming back, without a database, a model, a span or a line of our code.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

import aio_pika


async def echo(url: str, inbound: str, outbound: str) -> None:
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=100)
        queue = await channel.declare_queue(inbound, durable=True)
        await channel.declare_queue(outbound, durable=True)
        exchange = channel.default_exchange
        print("ready", flush=True)

        async def forward(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await exchange.publish(
                aio_pika.Message(message.body, message_id=message.message_id, delivery_mode=2),
                routing_key=outbound,
            )
            await message.ack()

        await queue.consume(forward)
        await asyncio.Future()


def main() -> int:
    url, inbound, outbound = sys.argv[1:4]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(echo(url, inbound, outbound))
    return 0


if __name__ == "__main__":
    sys.exit(main())
