#!/usr/bin/env bash
# Migrate every service's PostgreSQL schema, in order, stopping at the first failure.
# Each service owns its schema and its Alembic version table; all read DATABASE_URL.
#
# In the image:  docker compose run --rm migrate
# On the host:   uv run deploy/migrate.sh
set -euo pipefail

PYTHON="${PYTHON:-python}"
SERVICES=(gateway messenger marketing ai cache_writer)

for service in "${SERVICES[@]}"; do
    echo "migrate: crm_${service}" >&2
    "$PYTHON" -m "crm_${service}" migrate
done

echo "migrate: all ${#SERVICES[@]} services are up to date" >&2
