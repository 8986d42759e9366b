"""The marketing schema. Campaigns, ad sets, ads and insights arrive with the Marketing API sync."""

from __future__ import annotations

from crm_servicekit.db import inbox_table, outbox_table, service_metadata

SCHEMA = "marketing"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
