package relayproto

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// The operations a proof is made for.
const (
	OpRefresh = "refresh"
	OpRevoke  = "revoke"
)

// MaxProofSkew is how far a proof's time may be from the relay's clock.
const MaxProofSkew = 120 * time.Second

// AnswerWindow is how long, by default, the relay keeps a refresh answer for
// a retry with the same blob (refresh_answer_window, in memory): a device
// that lost an answer must retry inside it (docs/relay.md §3).
const AnswerWindow = 2 * time.Minute

// ProofMessage is the byte string a proof signs (docs/relay.md §3):
// "tokentray-proof|" + op + "|" + BlobHash(blob) + "|" + ts + "|" + nonce,
// with ts (decimal Unix seconds) and nonce exactly as sent.
func ProofMessage(op, blob, ts, nonce string) []byte {
	msg := make([]byte, 0, 128)
	msg = append(msg, "tokentray-proof|"...)
	msg = append(msg, op...)
	msg = append(msg, '|')
	msg = append(msg, BlobHash(blob)...)
	msg = append(msg, '|')
	msg = append(msg, ts...)
	msg = append(msg, '|')
	msg = append(msg, nonce...)
	return msg
}

// BlobHash is hex(SHA256(blob)): what a proof signs of the blob, and the
// X-Tokentray-Blob header a load balancer may route by.
func BlobHash(blob string) string {
	sum := sha256.Sum256([]byte(blob))
	return hex.EncodeToString(sum[:])
}
