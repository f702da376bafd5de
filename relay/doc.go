// Package relay is the tokentray relay server: it receives the OAuth callback,
// holds the client secrets and hands devices only sealed, device-bound refresh
// tokens (docs/relay.md §1–§3).
//
// LoadConfig reads the TOML config; New builds the public http.Handler; Run (or
// Server.Serve on listeners of your own) serves it, and MetricsHandler on metrics_listen,
// until its context ends, then shuts down gracefully. The package is pure Go and imports
// nothing of the device side: what both sides must agree on (the provider profile and its
// validator, the API's bodies, the proof message, the answer window, the loopback rule)
// is package relayproto.
//
// # Errors
//
// Every error answer is {"error", "error_description", "source", "provider_status"?,
// "server_time"?}. The provider's own refusals pass through with HTTP 400 and source
// "provider"; "provider_unavailable" (502) covers a provider that is down, slow, answers
// 5xx or not JSON. The relay's own codes (source "relay"):
//
//	400 invalid_request      malformed body or a missing field
//	400 unknown_provider     no provider with that id
//	400 invalid_loopback     loopback is not http://127.0.0.1:PORT or http://[::1]:PORT[/path]
//	400 invalid_state        state empty or over 128 bytes
//	400 invalid_device_key   device_key is not a 32-byte Ed25519 key, base64url
//	400 invalid_scope        a scope the provider does not offer
//	400 invalid_fields       unknown field, bad option, over 8 values or 256 bytes
//	400 invalid_result       the result does not open (forged, other purpose or provider)
//	400 expired_result       the result is over 2 minutes old
//	400 invalid_verifier     code_verifier does not match; the result stays redeemable
//	400 result_used          the result was already redeemed
//	400 ticket_used          the callback of this ticket was already served (on the
//	                         callback: redirected to the loopback)
//	400 invalid_refresh      the refresh blob does not open for this provider
//	400 revoke_unsupported   the provider has no revoke_url
//	401 invalid_proof        proof missing, malformed, or not by the blob's device key
//	401 stale_proof          proof time over 120 s off; carries server_time
//	401 replayed_proof       proof already used
//	404 not_found, 405 method_not_allowed, 413 request_too_large, 500 internal
//	429 rate_limited         over rate_per_minute for this client; carries Retry-After
//	503 provider_busy        provider_calls_per_second would hold the call longer than
//	                         half of provider_timeout; the provider was not called;
//	                         carries Retry-After
//	503 store_unavailable    the shared store failed or took over 500 ms; nothing that
//	                         must happen once was done; carries Retry-After
//
// On the callback, a ticket that does not open answers 400 with a plain page; every
// other failure redirects to the loopback with error, error_description, error_source
// and state, "expired_ticket" when the sign-in took over 10 minutes.
//
// # Limits
//
// Each client (its IPv4 address, or the /64 of its IPv6 address; with behind_proxy the
// right-most X-Forwarded-For hop, never another) has a token bucket of rate_per_minute
// requests a minute, burst the same, for every route but /healthz, the callback
// included. The table keeps the 10,000 most recently seen clients. Calls to each
// provider share one bucket of provider_calls_per_second; a call waits for it at most
// half of provider_timeout. A device waits at most provider_timeout for a provider call;
// the call itself runs on a context of its own, bounded by 3 × provider_timeout, so a
// slow provider's answer still reaches the refresh answer window. Bodies are at most 64 KiB, headers 64 KiB and 10 s to arrive, a whole
// request 30 s.
//
// # Metrics
//
// On metrics_listen only: tokentray_relay_requests_total{endpoint, outcome},
// tokentray_relay_provider_call_seconds{provider, call, outcome} (a histogram),
// tokentray_relay_rate_limited_total, tokentray_relay_provider_throttled_total{provider},
// tokentray_relay_store_call_seconds{op} (a histogram: calls and latency),
// tokentray_relay_store_errors_total{op}, and the Go and process collectors, all in a
// registry of the Server's own. Endpoints are the routes or "other"; outcomes are ok,
// refused, rate_limited, provider_refused, provider_unavailable, provider_busy,
// store_unavailable and internal.
//
// # Memory and replicas
//
// Without shared_store, proofs seen, results and tickets spent and refresh answers
// (refresh_answer_window, default 2 minutes, keyed by SHA256 of the old blob) live in
// the memory of one Server; replicas share sealed state through the seal keys file
// only, and a refresh retried after a lost answer must reach the replica that made the
// provider call: route /v1/refresh by the X-Tokentray-Blob header.
//
// With shared_store (Redis 7 or Valkey) every replica sees the same: proofs, results
// and tickets are recorded once (SET NX with an expiry); a refresh answer is kept
// sealed with the seal key (purpose "answer") for refresh_answer_window (default 24
// hours); one replica calls the provider per blob under a lock with an owner token and
// a 10 s expiry it renews during the call, the others wait for its answer; and
// rate_per_minute and provider_calls_per_second are token buckets on the store's
// clock. A store call that fails or takes over 500 ms refuses the request with 503
// store_unavailable (fail closed) and /healthz answers 503 while the store does not
// answer a ping. Keys start with "tokentray:" and hold hashes and sealed blobs only.
package relay
