"""Plumbing shared by every CRM service: settings, logging, tracing, broker, database, health.

Never business rules.
"""
