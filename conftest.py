"""Fixtures every test tier shares: a fresh PostgreSQL database and RabbitMQ vhost per session."""

pytest_plugins = ["crm_servicekit.testing"]
