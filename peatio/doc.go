// Package peatio signs Peatio API v2 requests (the EXchange's API): the
// HMAC-SHA256 signature over METHOD|PATH|QUERY, strictly increasing tonces
// per access key, and the clock offset learnt from the server's 2007
// (invalid tonce) answers. A Signer is safe for concurrent use.
package peatio
