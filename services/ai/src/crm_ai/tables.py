"""Every table of the ai's schema on its one MetaData: each capability's `models` imported so that
Alembic and the runtime see them all. Only `app.py` and `migrations/env.py` import this."""

from __future__ import annotations

from crm_ai.catalog import models as catalog_models
from crm_ai.db import SCHEMA, metadata
from crm_ai.knowledge import models as knowledge_models
from crm_ai.leads import models as leads_models
from crm_ai.memory import models as memory_models
from crm_ai.replies import models as replies_models

CAPABILITY_MODELS = (catalog_models, knowledge_models, leads_models, memory_models, replies_models)

__all__ = ["CAPABILITY_MODELS", "SCHEMA", "metadata"]
