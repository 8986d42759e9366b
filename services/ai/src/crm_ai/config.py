from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from crm_servicekit.settings import InternalApiSettings


class AiSettings(InternalApiSettings):
    service: str = "ai"
    port: int = 8003
    # Empty: the offline responder answers honestly that staff will follow up.
    gemini_api_key: SecretStr = SecretStr("")
    # google-genai's own variable; empty means Google's endpoint.
    google_gemini_base_url: str = ""
    gemini_model: str = "gemini-2.5-flash"
    # The SDK neither times out nor retries by default: both are set explicitly.
    gemini_timeout_seconds: float = 30.0
    # Tries of one reply (the first call and its retries) on 408/429/5xx and dropped connections,
    # before the holding reply and the handover to staff.
    gemini_attempts: int = 4
    gemini_retry_initial_delay_seconds: float = 1.0
    gemini_retry_max_delay_seconds: float = 20.0
    gemini_max_output_tokens: int = 800
    gemini_temperature: float = 0.3
    # Who turns knowledge chunks and questions into vectors: `local` (in-process, no network, no
    # cost) or `gemini`. Changing it (or the model below) re-embeds every document in background.
    ai_embeddings: Literal["local", "gemini"] = "local"
    # The local model: `use` (USE multilingual v3, 512 d, fastest) or `e5` (multilingual-e5-small, 384 d).
    ai_local_embedding_model: Literal["use", "e5"] = "use"
    gemini_embedding_model: str = "gemini-embedding-001"
    # Knowledge base (crm_ai.knowledge). Uploads above this are refused (413) while being read.
    knowledge_max_upload_bytes: int = 20 * 1024 * 1024
    # Chunks embedded per call; progress (n/m) moves per batch.
    knowledge_embed_batch: int = 32
    # How often a replica looks for queued documents it was not woken for (another replica's upload).
    knowledge_poll_seconds: float = 5.0
    # An indexing run that has not reported for this long is taken over by another replica.
    knowledge_claim_seconds: float = 300.0
    # When a passage is relevant enough to answer from (calibrated on the eval set): a cosine at
    # least `vector`, or at least `vector_with_keywords` with a BM25 score of at least
    # `keyword_support`, or a BM25 score of at least `keyword` alone. Values for the `use` model
    # (`make eval`: 3% of answerable questions handed over, 36% of unanswerable ones); e5's
    # cosines run ~0.85. They lean to answering: a question that gets past them still reaches a
    # model told to ask for a person when the passages do not answer it (`model_needs_human`),
    # while a question wrongly held back never gets an answer.
    knowledge_relevant_vector: float = 0.275
    knowledge_relevant_vector_with_keywords: float = 0.15
    knowledge_relevant_keyword_support: float = 2.0
    knowledge_relevant_keyword: float = 3.0
    # Leads (crm_ai.leads). Points a lead loses per full day without a message.
    ai_leads_decay_points_per_day: int = 5
    # The customer's messages within this many days count as engagement.
    ai_leads_engagement_days: int = 3
    # How often a replica re-scores leads that passed another quiet day.
    ai_leads_decay_sweep_seconds: float = 600.0
    # Insights once a conversation is this quiet (with new messages), or every N customer messages.
    ai_insights_quiet_minutes: float = 30.0
    ai_insights_every_messages: int = 8
    # How often a replica looks for conversations that went quiet.
    ai_insights_sweep_seconds: float = 60.0
