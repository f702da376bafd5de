package approval

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestGrant: a grant made directly (the tray's window, tests) lets exactly
// that app × connection through, a deny refuses, a terminal's grant
// expires, and an app without a key cannot be granted.
func TestGrant(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.b.Grant(botApp("a"), "c1", Always); err != nil {
		t.Fatal(err)
	}
	if err := r.b.Check(ctx, Request{App: botApp("a"), Connection: "c1"}); err != nil {
		t.Fatalf("granted: %v", err)
	}
	wantCode(t, r.b.Check(ctx, Request{App: botApp("b"), Connection: "c1"}), ErrApprovalRequired)
	wantCode(t, r.b.Check(ctx, Request{App: botApp("a"), Connection: "c2"}), ErrApprovalRequired)
	if _, err := r.b.Grant(botApp("a"), "c1", Deny); err != nil {
		t.Fatal(err)
	}
	wantCode(t, r.b.Check(ctx, Request{App: botApp("a"), Connection: "c1"}), ErrDenied)
	if len(r.b.Grants()) != 1 {
		t.Fatalf("grants: %+v, want the deny alone", r.b.Grants())
	}
	g, err := r.b.Grant(terminalApp, "c1", Always)
	if err != nil || g.Expires.IsZero() {
		t.Fatalf("terminal grant: %+v, %v; want one that expires", g, err)
	}
	if _, err := r.b.Grant(inlineApp, "c1", Always); !errors.Is(err, errNotGrantable) {
		t.Fatalf("inline code: %v, want not grantable", err)
	}
	if _, err := r.b.Grant(curlApp, "c1", "maybe"); err == nil {
		t.Fatal("a decision that is neither always nor deny was taken")
	}
	if ev := r.events(); !slices.Contains(ev, EventGranted) || !slices.Contains(ev, EventDenied) {
		t.Fatalf("audit: %v", ev)
	}
}
