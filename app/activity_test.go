package app

import (
	"testing"
	"time"

	"github.com/tokentray/tokentray/localclient"
)

// A live event for an access that a reload already brought is shown once,
// whichever of the two arrives first.
func TestActivityLiveEventAfterReloadShownOnce(t *testing.T) {
	u, _ := newTestUI(t, nil)
	a := u.win.activity
	a.build()
	now := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	sign := localclient.Activity{Time: now, PID: 42, Exe: "/usr/bin/python3", Connection: "exchange-1", Op: "sign", Method: "POST", Path: "/api/v2/orders"}
	token := localclient.Activity{Time: now.Add(-time.Second), PID: 42, Exe: "/usr/bin/python3", Connection: "exchange-1", Op: "token"}
	a.all = []localclient.Activity{sign, token} // what a reload brought

	a.add(sign) // the same access's event, late
	if len(a.all) != 2 {
		t.Fatalf("after a late event for an access already shown: %d entries, want 2: %+v", len(a.all), a.all)
	}
	// Another access at the same instant is not the same access.
	other := sign
	other.PID = 43
	a.add(other)
	if len(a.all) != 3 || a.all[0].PID != 43 {
		t.Fatalf("a second process's access at the same instant was dropped: %+v", a.all)
	}
}
