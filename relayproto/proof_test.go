package relayproto

import "testing"

func TestProofMessage(t *testing.T) {
	got := string(ProofMessage(OpRefresh, "blob", "1700000000", "bm9uY2U"))
	// The message is spelled out in docs/relay.md §3; SHA256("blob") from sha256sum.
	want := "tokentray-proof|refresh|fa2c8cc4f28176bbeed4b736df569a34c79cd3723e9ec42f9674b4d46ac6b8b8|1700000000|bm9uY2U"
	if got != want {
		t.Errorf("ProofMessage = %q, want %q", got, want)
	}
}
