"""Run the five services as processes against the machine's PostgreSQL and RabbitMQ."""

from .fakes import MarketingFake
from .stack import SERVICES, Stack

__all__ = ["SERVICES", "MarketingFake", "Stack"]
