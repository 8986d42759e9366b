"""Every table of the ai's schema on its one MetaData: each capability's `models` imported so that
Alembic and the runtime see them all. Only `app.py` and `migrations/env.py` import this."""

from __future__ import annotations

from crm_ai.db import SCHEMA, metadata
from crm_ai.replies import models as replies_models

CAPABILITY_MODELS = (replies_models,)

__all__ = ["CAPABILITY_MODELS", "SCHEMA", "metadata"]
