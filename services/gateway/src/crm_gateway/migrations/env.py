from crm_gateway.tables import SCHEMA, metadata
from crm_servicekit.migrations import run_env

run_env(schema=SCHEMA, metadata=metadata)
