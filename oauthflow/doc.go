// Package oauthflow runs the device's OAuth 2.0 flows and speaks the
// providers' APIs: the loopback flow through the relay (with a Broker such
// as relayclient.Client) or directly, PKCE, discovery, token formats, the
// me-API and API requests (signed with package peatio). It stores nothing
// itself and never opens a browser itself: it hands URLs to an Opener it is
// given (internal/browser makes one).
//
// # Flows
//
// ConnectRelay runs the brokered flow of docs/relay.md §2: the device listens
// on http://127.0.0.1:PORT/callback (CallbackPath; port 0 picks the port),
// sends the relay its S256 challenge, its state and its Ed25519 device key,
// opens the authorize URL the relay returns, and takes exactly one callback
// carrying its state; the callback's result is redeemed at the relay with
// the PKCE verifier. ConnectDirect runs RFC 8252 with a public client
// configured locally (discovery, PKCE with the provider, iss per RFC 9207).
//
// The loopback listener answers a wrong Host with 400 (DNS rebinding), a
// wrong path with 404, a callback without this flow's state with an error
// page while it keeps waiting, and error=… by ending the flow with the
// provider's own *Error. Its pages are self-contained and escaped, and send
// Content-Security-Policy: default-src 'none', Cache-Control: no-store and
// Referrer-Policy: no-referrer. It closes before the flow returns; the
// timeout (DefaultTimeout) ends it with ErrTimeout, a cancelled context
// with the context's error.
//
// # Errors
//
// Refusals by the relay or the provider are *Error, with Source telling
// them apart; transport failures to the relay wrap
// relayclient.ErrRelayUnreachable.
// No error, log line or page holds a token, key, code, verifier, state or
// refresh blob; Token prints none of its secrets.
//
// # Concurrency
//
// The flows are safe to run concurrently; each has its own listener, state
// and verifier.
package oauthflow
