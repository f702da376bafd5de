#!/usr/bin/env bash
# proxy.sh — the simplest way for a script: no key, no signing, no refresh.
# The agent signs the request, sends it to the exchange, refreshes a dead key
# (and retries a GET once) and streams the answer back.
#
#   ./proxy.sh [CONN]    CONN: a connection id, or the provider id (default: exchange)
#   TOKENTRAY_SOCK       the agent's socket (default: where tokentray looks)
set -euo pipefail
sock=${TOKENTRAY_SOCK:-${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/tokentray/agent.sock}}
sock=${sock:-/tmp/tokentray-$(id -u)/agent.sock}
conn=${1:-exchange}

# GET /api/v2/members/me: the path is relative to the provider's api_base.
curl --silent --show-error --fail-with-body --unix-socket "$sock" \
	"http://tokentray/v1/connections/$conn/proxy/members/me"
echo

# POST works the same way: form fields become signed parameters.
#   curl --unix-socket "$sock" --data 'market=btcusd&side=buy&volume=0.1&price=30000' \
#     "http://tokentray/v1/connections/$conn/proxy/orders"
