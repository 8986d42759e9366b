"""Run the five services as processes against the machine's PostgreSQL and RabbitMQ."""

from .stack import SERVICES, Stack

__all__ = ["SERVICES", "Stack"]
