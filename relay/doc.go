// Package relay is the tokentray relay server: it receives the OAuth callback,
// holds the client secrets and hands devices only sealed, device-bound refresh
// tokens.
package relay
