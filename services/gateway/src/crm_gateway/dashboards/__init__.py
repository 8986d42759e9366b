"""Marketing dashboards: ROAS, CAC, AOV, cost per lead and conversion over any Bangkok range, per
day, per month and per campaign → ad set → ad, assembled from the analytics snapshot files the
cache-writer keeps under `CRM_CACHE_DIR` (`crm_contracts.analytics`, docs/metrics.md). Only the
files are read: no other service is called and no table is read."""
