#!/usr/bin/env bash
# `make run`: the gateway on http://127.0.0.1:8000 in front of the Dyplsapi emulator,
# on the embedded SQLite database. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

export GATEWAY_SANDBOX=1
export DATABASE_URL="${DATABASE_URL:-sqlite:///instance/gateway.db}"
export LOG_FORMAT="${LOG_FORMAT:-text}"
EMULATOR_PORT="${EMULATOR_PORT:-9000}"
GATEWAY_PORT="${GATEWAY_PORT:-8000}"
export DYPLS_ENDPOINT="http://127.0.0.1:${EMULATOR_PORT}"
export GUNICORN_BIND="127.0.0.1:${GATEWAY_PORT}"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped the gateway and the emulator"
}
trap stop INT TERM EXIT

wait_for() {
  for _ in $(seq 1 100); do
    python -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

python -m emulator --host 127.0.0.1 --port "$EMULATOR_PORT" &
pids+=($!)
flask --app wsgi db upgrade >/dev/null 2>&1
if flask --app wsgi clients list | grep -q '^sandbox	'; then
  token=$(flask --app wsgi clients rotate sandbox | tail -n 1)
else
  token=$(flask --app wsgi clients create sandbox --scope bindings:write --scope bindings:read --scope audit:read | tail -n 1)
fi
pool_key=$(python -c "from emulator import DEFAULT_POOL_KEY; print(DEFAULT_POOL_KEY)")

gunicorn -c gunicorn.conf.py wsgi:app &
pids+=($!)
wait_for "http://127.0.0.1:${GATEWAY_PORT}/healthz"

cat <<BANNER

  Privacy-number gateway (sandbox) on http://127.0.0.1:${GATEWAY_PORT}
  upstream: Dyplsapi emulator on ${DYPLS_ENDPOINT}, pool ${pool_key}
  docs:     http://127.0.0.1:${GATEWAY_PORT}/docs

  token:    ${token}

  curl -s -X POST http://127.0.0.1:${GATEWAY_PORT}/v1/bindings \\
    -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' \\
    -d '{"type": "AXB", "pool_key": "${pool_key}", "phone_a": "13800138000", "phone_b": "13900139000", "ttl_seconds": 3600}'

  Ctrl-C stops everything.
BANNER

wait -n "${pids[@]}"
