from __future__ import annotations

from fastapi import FastAPI

from crm_contracts import CustomerErasureProgress, CustomerInsightsUpdated, LeadScored, ReplyGenerated
from crm_servicekit.runtime import Runtime, build_runtime, create_service_app

from . import handlers, internal_api
from .config import AiSettings
from .knowledge import api as knowledge_api
from .knowledge import wiring as knowledge
from .leads import wiring as leads
from .replies import api as replies_api
from .replies.responder import create_responder
from .tables import metadata


def build(settings: AiSettings | None = None) -> Runtime:
    settings = settings or AiSettings()
    runtime = build_runtime(
        settings,
        metadata,
        emits=[ReplyGenerated, CustomerErasureProgress, LeadScored, CustomerInsightsUpdated],
    )
    responder = create_responder(settings)
    grounded_on = knowledge.install(runtime, settings)
    handlers.register(runtime, responder, grounded_on.retriever)
    leads.install(runtime, settings)
    runtime.on_shutdown.append(responder.aclose)
    return runtime


def create_app(settings: AiSettings | None = None) -> FastAPI:
    settings = settings or AiSettings()
    runtime = build(settings)
    return create_service_app(
        runtime,
        title="V School CRM ai",
        description="Gemini replies in the customer's language, with a clean handover to staff.",
        routers=[
            internal_api.router(runtime, settings),
            knowledge_api.router(
                runtime, settings, runtime.extras["knowledge"].worker, runtime.extras["knowledge"].retriever
            ),
            replies_api.router(runtime, settings),
        ],
    )
