// Package fakeexchange is an in-process simulation of the EXchange, a Peatio
// exchange on Doorkeeper 1.4, for tests and the demo. It behaves like the
// real provider where tokentray depends on it, including its quirks.
//
// An *Exchange is an http.Handler; serve it with httptest.NewServer(ex):
//
//	ex := fakeexchange.New(fakeexchange.Config{RedirectURIs: []string{relay + "/v1/callback"}})
//	srv := httptest.NewServer(ex)
//	defer srv.Close()
//	defer ex.Close() // runs first: releases requests held by FailHang
//
// # OAuth (Doorkeeper 1.4)
//
//   - GET /oauth/authorize: an unknown client_id or a redirect_uri that is
//     not registered exactly (scheme, host, port, path and query) gets an
//     HTML error page, status 400, never a redirect. Then response_type must
//     be "code" (else unsupported_response_type) and every scope one of
//     profile, history, trade (else invalid_scope; empty means "profile"),
//     both redirected to redirect_uri with error, error_description and
//     state. PKCE parameters are ignored. With Manual approval the answer is
//     a consent page whose form POSTs a single-use hidden "consent" field and
//     decision=approve|deny to /oauth/authorize; AutoApprove and AutoDeny
//     answer at once. Approval redirects with code and state; denial with
//     error=access_denied. Codes and consent pages live 10 minutes.
//   - POST /oauth/token: authorization_code needs client authentication
//     (HTTP Basic or client_id/client_secret), a single-use code and the same
//     redirect_uri; refresh_token issues a new key pair and refresh token and
//     deletes the old ones at once. A used, revoked or unknown refresh token
//     answers invalid_request, as Doorkeeper 1.4 does. Errors are HTTP 401
//     {"error","error_description"}. Success is a Token.
//   - POST /oauth/revoke: token= is the "AK:SK" access token or the refresh
//     token; it needs "Authorization: Bearer AK:SK" of a live key of the same
//     grant, else 403 unauthorized_client. It kills the whole grant and
//     answers 200 {}; an unknown token answers 200 {} and changes nothing.
//
// # APIv2 (Peatio)
//
// GET /api/v2/members/me (scope profile), GET /api/v2/orders (history or
// trade), POST /api/v2/orders (trade), GET /api/v2/markets and GET
// /api/v2/trades (public; streams up to MaxTradesLimit rows). Signed calls
// carry access_key, tonce (Unix ms) and signature = Sign(SK, Payload(method,
// path, params)); parameters come from the query string and, for POST, the
// form body. Errors are {"error":{"code":N,"message":M}}, checked in
// Peatio's order: 2001, 2008, 2009, 2010, 2011 (HTTP 403), 2006, 2007, 2005
// (see the Code constants); all but 2011 are HTTP 401. The 2007 message is
// formatted with TonceOutOfRangeFormat and carries the server time in ms.
// No message ever carries a key, secret or signature.
//
// # Test controls
//
// SetApproval, AddRedirectURI, ExpireAllKeys, DisableKey, FailNext, Calls,
// LiveKeys, Issue and Close. Every method is safe for concurrent use.
package fakeexchange
