#!/bin/sh
# Container entrypoint for every V School CRM service image.
#
#   (no args) | serve [args]  -> python -m crm_${SERVICE} [args]   (HTTP + broker consumers on $PORT)
#   migrate [args]            -> python -m crm_${SERVICE} migrate [args]
#   anything else             -> executed as is (e.g. deploy/migrate.sh, python, sh)
set -eu

SERVICE="${SERVICE:-}"

case "$SERVICE" in
    gateway) default_port=8000 ;;
    messenger) default_port=8001 ;;
    marketing) default_port=8002 ;;
    ai) default_port=8003 ;;
    cache_writer) default_port=8004 ;;
    *)
        echo "entrypoint: SERVICE must be one of gateway, messenger, marketing, ai, cache_writer (got '${SERVICE}')" >&2
        exit 64
        ;;
esac

export PORT="${PORT:-$default_port}"

if [ "$#" -eq 0 ]; then
    set -- serve
fi

case "$1" in
    serve)
        shift
        exec python -m "crm_${SERVICE}" "$@"
        ;;
    migrate)
        shift
        exec python -m "crm_${SERVICE}" migrate "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
