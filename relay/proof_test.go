package relay

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

// signProof makes a proof for op over blob at time ts, as a device does.
func signProof(t testing.TB, priv ed25519.PrivateKey, op, blob string, ts time.Time) *relayproto.Proof {
	t.Helper()
	nonce := make([]byte, proofNonceLen)
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	p := &relayproto.Proof{TS: json.Number(strconv.FormatInt(ts.Unix(), 10)), Nonce: base64.RawURLEncoding.EncodeToString(nonce)}
	p.Sig = base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, relayproto.ProofMessage(op, blob, string(p.TS), p.Nonce)))
	return p
}

func TestCheckProof(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Unix(1_700_000_000, 0)
	const blob = "BLOB"
	tests := []struct {
		name     string
		proof    func() *relayproto.Proof
		wantCode string
	}{
		{"good", func() *relayproto.Proof { return signProof(t, priv, relayproto.OpRefresh, blob, now) }, ""},
		{"119 s old", func() *relayproto.Proof {
			return signProof(t, priv, relayproto.OpRefresh, blob, now.Add(-119*time.Second))
		}, ""},
		{"missing", func() *relayproto.Proof { return nil }, "invalid_proof"},
		{"empty", func() *relayproto.Proof { return &relayproto.Proof{} }, "invalid_proof"},
		{"stale", func() *relayproto.Proof {
			return signProof(t, priv, relayproto.OpRefresh, blob, now.Add(-121*time.Second))
		}, "stale_proof"},
		{"future", func() *relayproto.Proof {
			return signProof(t, priv, relayproto.OpRefresh, blob, now.Add(121*time.Second))
		}, "stale_proof"},
		{"foreign key", func() *relayproto.Proof { return signProof(t, otherPriv, relayproto.OpRefresh, blob, now) }, "invalid_proof"},
		{"other op", func() *relayproto.Proof { return signProof(t, priv, relayproto.OpRevoke, blob, now) }, "invalid_proof"},
		{"other blob", func() *relayproto.Proof { return signProof(t, priv, relayproto.OpRefresh, blob+"x", now) }, "invalid_proof"},
		{"ts not integer", func() *relayproto.Proof {
			p := signProof(t, priv, relayproto.OpRefresh, blob, now)
			p.TS = "1.7e9"
			return p
		}, "invalid_proof"},
		{"ts changed", func() *relayproto.Proof {
			p := signProof(t, priv, relayproto.OpRefresh, blob, now)
			p.TS = json.Number(strconv.FormatInt(now.Unix()+1, 10))
			return p
		}, "invalid_proof"},
		{"short nonce", func() *relayproto.Proof {
			p := signProof(t, priv, relayproto.OpRefresh, blob, now)
			p.Nonce = "AAAA"
			return p
		}, "invalid_proof"},
		{"nonce padded, signed as sent", func() *relayproto.Proof {
			p := signProof(t, priv, relayproto.OpRefresh, blob, now)
			p.Nonce += "=="
			p.Sig = base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, relayproto.ProofMessage(relayproto.OpRefresh, blob, string(p.TS), p.Nonce)))
			return p
		}, ""},
		{"nonce padded after signing", func() *relayproto.Proof {
			p := signProof(t, priv, relayproto.OpRefresh, blob, now)
			p.Nonce += "=="
			return p
		}, "invalid_proof"},
		{"sig padded", func() *relayproto.Proof {
			p := signProof(t, priv, relayproto.OpRefresh, blob, now)
			p.Sig += "=="
			return p
		}, "invalid_proof"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := checkProof(tc.proof(), relayproto.OpRefresh, blob, pub, now, seenIn(newExpiringSet(), now))
			got := ""
			if e != nil {
				got = e.Code
				if e.Status != 401 || e.Source != relayproto.SourceRelay {
					t.Errorf("status, source = %d, %s; want 401, relay", e.Status, e.Source)
				}
			}
			if got != tc.wantCode {
				t.Fatalf("checkProof = %v, want %q", e, tc.wantCode)
			}
			if got == "stale_proof" && e.ServerTime != now.Unix() {
				t.Errorf("server_time = %d, want %d", e.ServerTime, now.Unix())
			}
		})
	}
}

func TestCheckProofReplay(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Unix(1_700_000_000, 0)
	seen := newExpiringSet()
	p := signProof(t, priv, relayproto.OpRefresh, "B", now)
	if e := checkProof(p, relayproto.OpRefresh, "B", pub, now, seenIn(seen, now)); e != nil {
		t.Fatalf("first use: %v", e)
	}
	if e := checkProof(p, relayproto.OpRefresh, "B", pub, now.Add(time.Second), seenIn(seen, now.Add(time.Second))); e == nil || e.Code != "replayed_proof" {
		t.Fatalf("second use = %v, want replayed_proof", e)
	}
	// Once the proof is too old to be accepted anyway, forgetting it is safe.
	if e := checkProof(p, relayproto.OpRefresh, "B", pub, now.Add(3*time.Minute), seenIn(seen, now.Add(3*time.Minute))); e == nil || e.Code != "stale_proof" {
		t.Fatalf("late use = %v, want stale_proof", e)
	}
	fresh := signProof(t, priv, relayproto.OpRefresh, "B", now)
	if e := checkProof(fresh, relayproto.OpRefresh, "B", pub, now, seenIn(seen, now)); e != nil {
		t.Fatalf("fresh proof: %v", e)
	}
}

// seenIn records proofs in set at now, as a Server without a shared store does.
func seenIn(set *expiringSet, now time.Time) func([32]byte, time.Time) (bool, *apiError) {
	return func(key [32]byte, until time.Time) (bool, *apiError) {
		return set.add(key, until, now), nil
	}
}
