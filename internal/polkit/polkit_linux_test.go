//go:build linux

package polkit

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"

	"github.com/tokentray/tokentray/internal/dbustest"
)

// fakeAuthority stands in for polkit's authority on a private bus. A real
// polkitd needs its actions in /usr/share/polkit-1/actions and runs as
// another user, and as root it says yes to everything; TestRealPolkitd
// runs it where it can, and these tests cover polkit's other answers.
type fakeAuthority struct {
	conn   *dbus.Conn
	answer func() (authorizationResult, *dbus.Error)

	mu        sync.Mutex // guards the fields below
	actions   []actionDescription
	subject   subject
	action    string
	details   map[string]string
	flags     uint32
	cancelID  string
	cancelled chan string // receives CancelCheckAuthorization's id
}

func startAuthority(t *testing.T, addr string, answer func() (authorizationResult, *dbus.Error)) *fakeAuthority {
	t.Helper()
	f := &fakeAuthority{
		conn: dbustest.Connect(t, addr), answer: answer,
		actions:   []actionDescription{{ActionID: "org.example.other"}, {ActionID: ActionID}},
		cancelled: make(chan string, 1),
	}
	err := f.conn.ExportMethodTable(map[string]any{
		"CheckAuthorization": func(s subject, action string, details map[string]string, flags uint32, cancelID string) (authorizationResult, *dbus.Error) {
			f.mu.Lock()
			f.subject, f.action, f.details, f.flags, f.cancelID = s, action, details, flags, cancelID
			f.mu.Unlock()
			return f.answer()
		},
		"CancelCheckAuthorization": func(id string) *dbus.Error {
			f.cancelled <- id
			return nil
		},
		"EnumerateActions": func(locale string) ([]actionDescription, *dbus.Error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.actions, nil
		},
	}, objectPath, authority)
	if err != nil {
		t.Fatal(err)
	}
	dbustest.Own(t, f.conn, busName)
	return f
}

func testAuthority(addr string, timeout time.Duration) *Authority {
	return New(Config{Getenv: func(k string) string {
		if k == "DBUS_SYSTEM_BUS_ADDRESS" {
			return addr
		}
		return ""
	}, Timeout: timeout, CallTimeout: 5 * time.Second})
}

func answer(authorized, challenge bool, details map[string]string) func() (authorizationResult, *dbus.Error) {
	return func() (authorizationResult, *dbus.Error) {
		if details == nil {
			details = map[string]string{}
		}
		return authorizationResult{IsAuthorized: authorized, IsChallenge: challenge, Details: details}, nil
	}
}

// TestConfirmAsksForThisProcess: polkit is asked about ActionID for this
// process (pid, start time, uid, with the types polkit wants), may ask the
// user, and is shown what is confirmed; its yes is nil.
func TestConfirmAsksForThisProcess(t *testing.T) {
	addr := dbustest.Start(t)
	f := startAuthority(t, addr, answer(true, false, nil))
	if err := testAuthority(addr, time.Minute).Confirm(context.Background(), "python3 bot.py on EXchange"); err != nil {
		t.Fatalf("Confirm, authorized: %v", err)
	}
	st, err := startTime()
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.subject.Details
	if f.subject.Kind != "unix-process" || d["pid"].Value() != uint32(os.Getpid()) || d["uid"].Value() != int32(os.Getuid()) || d["start-time"].Value() != st {
		t.Fatalf("subject = %+v, want unix-process pid %d (uint32), uid %d (int32), start-time %d (uint64)", f.subject, os.Getpid(), os.Getuid(), st)
	}
	if f.action != ActionID || f.flags != allowUserInteraction || f.details["what"] != "python3 bot.py on EXchange" || f.cancelID == "" {
		t.Fatalf("asked %q flags %d details %v cancel id %q; want %q, AllowUserInteraction, what, an id", f.action, f.flags, f.details, f.cancelID, ActionID)
	}
}

// TestConfirmRefusals: every answer but yes is a refusal that says what
// happened.
func TestConfirmRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func() (authorizationResult, *dbus.Error)
		want   error
		says   string
	}{
		{"not authorized", answer(false, false, nil), ErrNotAuthorized, "nothing was granted"},
		{"dismissed", answer(false, true, map[string]string{"polkit.dismissed": "true"}), ErrDismissed, "dismissed"},
		{"no agent", answer(false, true, nil), ErrNoAgent, "no polkit authentication agent"},
		{"cancelled", func() (authorizationResult, *dbus.Error) {
			return authorizationResult{}, dbus.NewError("org.freedesktop.PolicyKit1.Error.Cancelled", []any{"cancelled"})
		}, ErrDismissed, "dismissed"},
		{"failed", func() (authorizationResult, *dbus.Error) {
			return authorizationResult{}, dbus.NewError("org.freedesktop.PolicyKit1.Error.Failed", []any{"Action io.github.tokentray.tokentray.approve-always is not registered"})
		}, nil, "polkit could not check the confirmation: Action io.github.tokentray.tokentray.approve-always is not registered"},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := dbustest.Start(t)
			startAuthority(t, addr, c.answer)
			err := testAuthority(addr, time.Minute).Confirm(context.Background(), "curl")
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("Confirm = %v, want %v saying %q", err, c.want, c.says)
			}
		})
	}
}

// TestConfirmTimeout: a confirmation nobody answers ends after Timeout and
// is cancelled at polkit, so its dialog closes.
func TestConfirmTimeout(t *testing.T) {
	addr := dbustest.Start(t)
	release := make(chan struct{})
	defer close(release)
	f := startAuthority(t, addr, func() (authorizationResult, *dbus.Error) {
		<-release
		return authorizationResult{}, nil
	})
	err := testAuthority(addr, 200*time.Millisecond).Confirm(context.Background(), "curl")
	if err == nil || !strings.Contains(err.Error(), "no confirmation within 200ms, so nothing was granted") {
		t.Fatalf("Confirm, unanswered = %v, want the time-out", err)
	}
	select {
	case id := <-f.cancelled:
		f.mu.Lock()
		want := f.cancelID
		f.mu.Unlock()
		if id != want {
			t.Fatalf("cancelled %q, want %q", id, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the check was not cancelled at polkit")
	}
}

// TestAvailable: yes when the authority answers and knows ActionID; a
// reason otherwise.
func TestAvailable(t *testing.T) {
	ctx := context.Background()
	addr := dbustest.Start(t)
	if ok, why := testAuthority(addr, time.Minute).Available(ctx); ok || why != "polkit is not running on the system bus" {
		t.Fatalf("no authority: Available = %v, %q", ok, why)
	}
	if err := testAuthority(addr, time.Minute).Confirm(ctx, "curl"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no authority: Confirm = %v, want ErrUnavailable", err)
	}
	f := startAuthority(t, addr, answer(true, false, nil))
	if ok, why := testAuthority(addr, time.Minute).Available(ctx); !ok {
		t.Fatalf("authority with the action: Available = false, %q", why)
	}
	f.mu.Lock()
	f.actions = f.actions[:1]
	f.mu.Unlock()
	if ok, why := testAuthority(addr, time.Minute).Available(ctx); ok || !strings.Contains(why, "does not know tokentray's action") || !strings.Contains(why, PolicyFile) {
		t.Fatalf("authority without the action: Available = %v, %q", ok, why)
	}
	dir := t.TempDir()
	if ok, why := testAuthority("unix:path="+dir+"/none", time.Minute).Available(ctx); ok || !strings.Contains(why, "polkit is not available here: the system bus refused a connection") {
		t.Fatalf("no bus: Available = %v, %q", ok, why)
	}
}

func TestParseStartTime(t *testing.T) {
	for _, c := range []struct {
		name, stat string
		want       uint64
		ok         bool
	}{
		{"plain", "1234 (tokentray) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 98765 1000 10", 98765, true},
		{"spaces and parentheses in the name", "1234 (a) b (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 4242 1000 10", 4242, true},
		{"short", "1234 (x) S 1 2", 0, false},
		{"no name", "1234 x S", 0, false},
		{"not a number", "1234 (x) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 later 1000 10", 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseStartTime(c.stat)
			if (err == nil) != c.ok || got != c.want {
				t.Fatalf("parseStartTime(%q) = %d, %v; want %d, ok %v", c.stat, got, err, c.want, c.ok)
			}
		})
	}
}
