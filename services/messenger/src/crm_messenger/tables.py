"""Every table of the messenger's schema on its one MetaData: each capability's `models` imported
so that Alembic and the runtime see them all. Only `app.py` and `migrations/env.py` import this."""

from __future__ import annotations

from crm_messenger.conversations import models as conversations_models
from crm_messenger.db import SCHEMA, metadata
from crm_messenger.webhooks import models as webhooks_models

CAPABILITY_MODELS = (conversations_models, webhooks_models)

__all__ = ["CAPABILITY_MODELS", "SCHEMA", "metadata"]
