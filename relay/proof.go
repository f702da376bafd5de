package relay

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

// proofNonceLen is the length of a proof's nonce.
const proofNonceLen = 16

// decodeDeviceKey parses a device's Ed25519 public key: 32 bytes, base64url without padding.
func decodeDeviceKey(s string) (ed25519.PublicKey, bool) {
	if len(s) != base64.RawURLEncoding.EncodedLen(ed25519.PublicKeySize) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, false
	}
	return ed25519.PublicKey(b), true
}

// checkProof verifies p for op over blob with the device key, its age against now and,
// last, that it was not seen before: seen records a proof until the given time and
// reports whether it was new. The answer is a 401 apiError, or seen's own.
func checkProof(p *relayproto.Proof, op, blob string, key ed25519.PublicKey, now time.Time, seen func([32]byte, time.Time) (bool, *apiError)) *apiError {
	if p == nil || (p.Sig == "" && p.TS == "" && p.Nonce == "") {
		return unauthorized("invalid_proof", "the request carries no proof")
	}
	ts, err := strconv.ParseInt(string(p.TS), 10, 64)
	if err != nil {
		return unauthorized("invalid_proof", "the proof's ts is not whole Unix seconds")
	}
	// docs/relay.md §3 says "base64url" for the nonce without ruling out padding,
	// so both forms are taken; the signature covers the nonce as sent.
	nonce, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimRight(p.Nonce, "="))
	if err != nil || len(nonce) != proofNonceLen {
		return unauthorized("invalid_proof", "the proof's nonce is not 16 bytes of base64url")
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(p.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return unauthorized("invalid_proof", "the proof's sig is not an Ed25519 signature in base64url")
	}
	if !ed25519.Verify(key, relayproto.ProofMessage(op, blob, string(p.TS), p.Nonce), sig) {
		return unauthorized("invalid_proof", "the proof is not signed by the device key this blob is bound to")
	}
	made := time.Unix(ts, 0)
	if skew := now.Sub(made); skew > relayproto.MaxProofSkew || skew < -relayproto.MaxProofSkew {
		e := unauthorized("stale_proof", "the proof's time is more than 120 s from the relay's clock")
		e.ServerTime = now.Unix()
		return e
	}
	// A signature covers op, blob, time and nonce, and Ed25519 verification rejects
	// malleated signatures, so the signature names the proof.
	fresh, e := seen(sha256.Sum256(sig), made.Add(relayproto.MaxProofSkew+time.Second))
	if e != nil {
		return e
	}
	if !fresh {
		return unauthorized("replayed_proof", "this proof was already used; sign a fresh one")
	}
	return nil
}
