// Package oauthflow speaks OAuth 2.0 and the providers' APIs for the device:
// the loopback flow through the relay or directly, PKCE, token formats, the
// me-API and Peatio request signing. It stores nothing itself.
package oauthflow
