"""Leads inside the running service: its two subscribers (`ai.leads` for every customer
message, `ai.contacts` for contacts met through ads), the insights writer, and two periodic
sweeps per replica (quiet leads decay; quiet conversations get insights)."""

from __future__ import annotations

from datetime import timedelta

from crm_ai.config import AiSettings
from crm_contracts import ContactSeen, MessageReceived
from crm_servicekit.broker import subscribe
from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.runtime import Runtime

from .insights import create_writer
from .scoring import Rules
from .service import Leads


def install(runtime: Runtime, settings: AiSettings) -> Leads:
    writer = create_writer(settings)
    leads = Leads(
        runtime.uow,
        writer,
        rules=Rules(
            engagement_days=settings.ai_leads_engagement_days,
            decay_points_per_day=settings.ai_leads_decay_points_per_day,
        ),
        every_messages=settings.ai_insights_every_messages,
        quiet=timedelta(minutes=settings.ai_insights_quiet_minutes),
    )

    # Scoring is a few statements; every Nth message also asks the model for insights (seconds).
    @subscribe(runtime.broker, runtime.topology, "leads", MessageReceived, prefetch=8)
    async def on_message_for_lead(event: MessageReceived) -> None:
        """Score the customer as a lead from their message (signals only, never the text)."""
        await leads.on_message(event)

    @subscribe(runtime.broker, runtime.topology, "contacts", ContactSeen, prefetch=16)
    async def on_contact_seen(event: ContactSeen) -> None:
        """A contact brought by an ad starts as a scored lead."""
        await leads.on_contact_seen(event)

    sweeps = [
        PeriodicTask("lead-decay", settings.ai_leads_decay_sweep_seconds, leads.decay),
        PeriodicTask("quiet-insights", settings.ai_insights_sweep_seconds, leads.quiet_insights),
    ]
    runtime.extras["leads"] = leads
    runtime.on_startup.extend(task.start for task in sweeps)
    # Run last to first: the sweeps stop before the writer's HTTP client is closed.
    runtime.on_shutdown.extend([writer.aclose, *(task.stop for task in sweeps)])
    return leads
