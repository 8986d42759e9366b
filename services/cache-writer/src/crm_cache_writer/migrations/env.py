import crm_cache_writer.analytics.tables  # noqa: F401  (the analytics tables join the metadata)
from crm_cache_writer.models import SCHEMA, metadata
from crm_servicekit.migrations import run_env

run_env(schema=SCHEMA, metadata=metadata)
