// Package relayproto is what the relay and the device share: the provider
// profile and its one validator, the bodies of the relay's HTTP API, the
// proof message, the refresh answer window and the rule for which URLs may be
// spoken to (docs/relay.md). Both sides import it; it imports neither, and
// holds no behaviour beyond checking and spelling what both must agree on.
package relayproto
