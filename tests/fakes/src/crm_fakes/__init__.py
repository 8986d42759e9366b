"""Loopback fakes of Meta Graph (Messenger Send API), Gemini and an OTLP trace receiver."""

from crm_fakes.gemini import GeminiState, RecordedRequest, create_gemini_app
from crm_fakes.marketing import MarketingState, create_marketing_app
from crm_fakes.marketing_data import MarketingUniverse
from crm_fakes.meta import MetaState, RecordedAttempt, RecordedSend, create_meta_app
from crm_fakes.otlp import OtlpState, ReceivedSpan, create_otlp_app
from crm_fakes.server import FakeServer

__all__ = [
    "FakeServer",
    "GeminiState",
    "MarketingState",
    "MarketingUniverse",
    "MetaState",
    "OtlpState",
    "ReceivedSpan",
    "RecordedAttempt",
    "RecordedRequest",
    "RecordedSend",
    "create_gemini_app",
    "create_marketing_app",
    "create_meta_app",
    "create_otlp_app",
]
