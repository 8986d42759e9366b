#!/usr/bin/env bash
# Start the machine's PostgreSQL and RabbitMQ if they do not answer, and wait until they do.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if ! pg_up; then
  echo "starting PostgreSQL ..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
if ! rabbit_up; then
  echo "starting RabbitMQ ..."
  rabbitmq-server -detached
  rabbitmqctl -q await_startup --timeout 120 || true
fi
for _ in $(seq 1 120); do
  if pg_up && rabbit_up; then
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL or RabbitMQ did not come up within 120 s" >&2
exit 1
