from crm_ai.tables import SCHEMA, metadata
from crm_servicekit.migrations import run_env

run_env(schema=SCHEMA, metadata=metadata)
