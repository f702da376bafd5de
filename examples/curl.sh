#!/usr/bin/env bash
# curl.sh — call a signed EXchange endpoint with the key the tokentray agent
# keeps, with nothing but curl and the agent's socket (CONTRACTS §4).
#
#   ./curl.sh [CONN]     CONN: a connection id, or the provider id (default: exchange)
#
#   TOKENTRAY_SOCK       the agent's socket (default: where tokentray looks)
#   TOKENTRAY_EXCHANGE   the exchange's base URL (default https://f1cx.com;
#                        `tokentray demo` prints the simulated exchange's)
#   EVENTS_SECONDS       how long to follow /v1/events at most (default 30)
#
# It does three things:
#   1. follows the agent's events (/v1/events) in the background;
#   2. asks the agent to sign GET /api/v2/members/me (/sign: the secret key
#      never leaves the agent) and calls the exchange with the query it gets;
#   3. when the exchange says the key is dead (2008 unknown key, 2010
#      expired), asks the agent to refresh *the generation it used*
#      (if_generation: many scripts reporting one dead key make one refresh)
#      and tries once more.
# The exchange's answer goes to stdout; everything else to stderr.
set -euo pipefail

sock=${TOKENTRAY_SOCK:-}
if [ -z "$sock" ]; then
	if [ -n "${XDG_RUNTIME_DIR:-}" ]; then
		sock=$XDG_RUNTIME_DIR/tokentray/agent.sock
	else
		sock=/tmp/tokentray-$(id -u)/agent.sock
	fi
fi
exchange=${TOKENTRAY_EXCHANGE:-https://f1cx.com}
conn=${1:-exchange}
path=/api/v2/members/me

# agent METHOD PATH [JSON]: one call to the agent; the host name is ignored.
agent() {
	local out
	if ! out=$(curl --silent --show-error --fail-with-body --unix-socket "$sock" \
		-X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "http://tokentray$2"); then
		echo "curl.sh: the agent refused $1 $2: ${out:-no answer (is the agent running?)}" >&2
		return 1
	fi
	printf '%s' "$out"
}

# field NAME: a string or number field of the JSON on stdin (no jq needed;
# Go writes & as \u0026 inside JSON strings).
field() {
	sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1 | sed 's/\\u0026/\&/g'
}

# error_code: the Peatio error code of the exchange's answer on stdin, if any.
error_code() {
	sed -n 's/.*"error":{"code":\([0-9]*\).*/\1/p'
}

# call: sign and send the request; prints the exchange's answer.
call() {
	local signed query
	signed=$(agent POST "/v1/connections/$conn/sign" "{\"method\":\"GET\",\"path\":\"$path\",\"params\":{}}")
	query=$(printf '%s' "$signed" | field query)
	curl --silent --show-error "$exchange$path?$query"
}

tmp=$(mktemp -d)
events_pid=
cleanup() {
	[ -z "$events_pid" ] || kill "$events_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# 1. Follow the events. Once the headers are in, the agent has subscribed us.
curl --silent --no-buffer --unix-socket "$sock" --dump-header "$tmp/headers" \
	--max-time "${EVENTS_SECONDS:-30}" http://tokentray/v1/events >"$tmp/events" &
events_pid=$!
for _ in $(seq 100); do
	[ -s "$tmp/headers" ] && break
	kill -0 "$events_pid" 2>/dev/null || break # the agent is not there
	sleep 0.05
done

# 2. The generation of the key we are about to use, then the call.
generation=$(agent GET "/v1/connections/$conn" | field generation)
answer=$(call)
code=$(printf '%s' "$answer" | error_code)

# 3. A dead key: refresh that generation (only), then once more.
refreshed=
if [ "$code" = 2008 ] || [ "$code" = 2010 ]; then
	echo "curl.sh: the exchange says the key is dead ($code); refreshing generation $generation" >&2
	now=$(agent POST "/v1/connections/$conn/refresh" "{\"if_generation\":$generation}" | field generation)
	echo "curl.sh: the key is now generation $now" >&2
	refreshed=1
	answer=$(call)
	code=$(printf '%s' "$answer" | error_code)
fi
printf '%s\n' "$answer"

# Show the events seen so far (after a refresh, wait a moment for its event).
for _ in $(seq 40); do
	[ -z "$refreshed" ] || grep -q '^event: refreshed' "$tmp/events" && break
	sleep 0.05
done
sed -n 's/^event: /curl.sh: agent event: /p' "$tmp/events" >&2

if [ -n "$code" ]; then
	echo "curl.sh: the exchange answered error $code" >&2
	exit 1
fi
