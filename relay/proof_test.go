package relay

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// signProof makes a proof for op over blob at time ts, as a device does.
func signProof(t testing.TB, priv ed25519.PrivateKey, op, blob string, ts time.Time) *proof {
	t.Helper()
	nonce := make([]byte, proofNonceLen)
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	p := &proof{TS: json.Number(strconv.FormatInt(ts.Unix(), 10)), Nonce: base64.RawURLEncoding.EncodeToString(nonce)}
	p.Sig = base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, proofMessage(op, blob, string(p.TS), p.Nonce)))
	return p
}

func TestProofMessage(t *testing.T) {
	// The message is spelled out in docs/relay.md §3; SHA256("blob") from sha256sum.
	got := string(proofMessage("refresh", "blob", "1700000000", "bm9uY2U"))
	want := "tokentray-proof|refresh|fa2c8cc4f28176bbeed4b736df569a34c79cd3723e9ec42f9674b4d46ac6b8b8|1700000000|bm9uY2U"
	if got != want {
		t.Errorf("proofMessage = %q, want %q", got, want)
	}
}

func TestCheckProof(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Unix(1_700_000_000, 0)
	const blob = "BLOB"
	tests := []struct {
		name     string
		proof    func() *proof
		wantCode string
	}{
		{"good", func() *proof { return signProof(t, priv, opRefresh, blob, now) }, ""},
		{"119 s old", func() *proof { return signProof(t, priv, opRefresh, blob, now.Add(-119*time.Second)) }, ""},
		{"missing", func() *proof { return nil }, "invalid_proof"},
		{"empty", func() *proof { return &proof{} }, "invalid_proof"},
		{"stale", func() *proof { return signProof(t, priv, opRefresh, blob, now.Add(-121*time.Second)) }, "stale_proof"},
		{"future", func() *proof { return signProof(t, priv, opRefresh, blob, now.Add(121*time.Second)) }, "stale_proof"},
		{"foreign key", func() *proof { return signProof(t, otherPriv, opRefresh, blob, now) }, "invalid_proof"},
		{"other op", func() *proof { return signProof(t, priv, opRevoke, blob, now) }, "invalid_proof"},
		{"other blob", func() *proof { return signProof(t, priv, opRefresh, blob+"x", now) }, "invalid_proof"},
		{"ts not integer", func() *proof {
			p := signProof(t, priv, opRefresh, blob, now)
			p.TS = "1.7e9"
			return p
		}, "invalid_proof"},
		{"ts changed", func() *proof {
			p := signProof(t, priv, opRefresh, blob, now)
			p.TS = json.Number(strconv.FormatInt(now.Unix()+1, 10))
			return p
		}, "invalid_proof"},
		{"short nonce", func() *proof {
			p := signProof(t, priv, opRefresh, blob, now)
			p.Nonce = "AAAA"
			return p
		}, "invalid_proof"},
		{"nonce padded, signed as sent", func() *proof {
			p := signProof(t, priv, opRefresh, blob, now)
			p.Nonce += "=="
			p.Sig = base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, proofMessage(opRefresh, blob, string(p.TS), p.Nonce)))
			return p
		}, ""},
		{"nonce padded after signing", func() *proof {
			p := signProof(t, priv, opRefresh, blob, now)
			p.Nonce += "=="
			return p
		}, "invalid_proof"},
		{"sig padded", func() *proof {
			p := signProof(t, priv, opRefresh, blob, now)
			p.Sig += "=="
			return p
		}, "invalid_proof"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := checkProof(tc.proof(), opRefresh, blob, pub, now, seenIn(newExpiringSet(), now))
			got := ""
			if e != nil {
				got = e.Code
				if e.Status != 401 || e.Source != sourceRelay {
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
	p := signProof(t, priv, opRefresh, "B", now)
	if e := checkProof(p, opRefresh, "B", pub, now, seenIn(seen, now)); e != nil {
		t.Fatalf("first use: %v", e)
	}
	if e := checkProof(p, opRefresh, "B", pub, now.Add(time.Second), seenIn(seen, now.Add(time.Second))); e == nil || e.Code != "replayed_proof" {
		t.Fatalf("second use = %v, want replayed_proof", e)
	}
	// Once the proof is too old to be accepted anyway, forgetting it is safe.
	if e := checkProof(p, opRefresh, "B", pub, now.Add(3*time.Minute), seenIn(seen, now.Add(3*time.Minute))); e == nil || e.Code != "stale_proof" {
		t.Fatalf("late use = %v, want stale_proof", e)
	}
	fresh := signProof(t, priv, opRefresh, "B", now)
	if e := checkProof(fresh, opRefresh, "B", pub, now, seenIn(seen, now)); e != nil {
		t.Fatalf("fresh proof: %v", e)
	}
}

// seenIn records proofs in set at now, as a Server without a shared store does.
func seenIn(set *expiringSet, now time.Time) func([32]byte, time.Time) (bool, *apiError) {
	return func(key [32]byte, until time.Time) (bool, *apiError) {
		return set.add(key, until, now), nil
	}
}
