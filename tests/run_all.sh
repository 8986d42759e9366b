#!/usr/bin/env bash
# Every test, as `make test` runs it. The fault drills (tests/faults) run on a PostgreSQL and a
# RabbitMQ of their own, so they run beside the rest of the suite instead of after it: the suite
# takes about as long as the longer of the two, not their sum (the machine has 2 cores; both
# mostly wait on services and servers). The rest prints as it goes, the drills' output (their
# figures included) once they are done. Extra arguments go to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
log=$(mktemp -t crm-fault-drills.XXXXXX)
$UV run --frozen pytest -m faults -s "$@" >"$log" 2>&1 &
drills=$!
# Whatever stops this script stops the drills too, and nothing is left behind.
trap 'kill -TERM "$drills" 2>/dev/null; wait "$drills" 2>/dev/null; rm -f "$log"' EXIT
trap 'exit 130' INT TERM
# The web app's own logic (Vitest) first: seconds, and a broken formatter fails early.
(cd web && npm test --silent)
web=$?
$UV run --frozen pytest -m "not faults" "$@"
rest=$?
wait "$drills"
faults=$?
echo
echo "======================== fault drills (tests/faults) ========================"
grep -v '^\s*$' "$log" | grep -v '^{"' || true
if [ "$web" -ne 0 ] || [ "$rest" -ne 0 ] || [ "$faults" -ne 0 ]; then
    echo "tests failed: the web app's tests exited $web, the suite $rest, the fault drills $faults" >&2
    exit 1
fi
