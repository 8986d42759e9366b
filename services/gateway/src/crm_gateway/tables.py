"""Every table of the gateway's schema on its one MetaData: each capability's `models` imported so
that Alembic and the runtime see them all. Only `app.py` and `migrations/env.py` import this."""

from __future__ import annotations

from crm_gateway.audit import models as audit_models
from crm_gateway.auth import models as auth_models
from crm_gateway.catalog import models as catalog_models
from crm_gateway.customers import models as customers_models
from crm_gateway.db import SCHEMA, metadata
from crm_gateway.orders import models as orders_models
from crm_gateway.pdpa import models as pdpa_models
from crm_gateway.ratelimits import models as ratelimits_models

CAPABILITY_MODELS = (
    auth_models,
    customers_models,
    audit_models,
    pdpa_models,
    catalog_models,
    orders_models,
    ratelimits_models,
)

__all__ = ["CAPABILITY_MODELS", "SCHEMA", "metadata"]
