package approval

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/fakeclock"
)

var epoch = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func botApp(hash string) appid.App {
	script := "/home/u/bot.py"
	return appid.App{Kind: appid.Script, Key: appid.ScriptKey("/usr/bin/python3", "", script, hash),
		Name: "python3 bot.py", Exe: "/usr/bin/python3", Script: script, ScriptSHA256: hash, PID: 42}
}

var (
	curlApp     = appid.App{Kind: appid.Binary, Key: appid.BinaryKey("/usr/bin/curl", ""), Name: "curl", Exe: "/usr/bin/curl", PID: 7}
	inlineApp   = appid.App{Kind: appid.Unidentified, Name: "python3", Exe: "/usr/bin/python3", Reason: "runs inline code (-c)", PID: 9}
	terminalApp = appid.App{Kind: appid.Terminal, Key: appid.TerminalKey, Name: "interactive terminal", Exe: "/bin/bash", PID: 11}
)

// rig is a broker on a fake clock with its audit trail.
type rig struct {
	t     *testing.T
	b     *Broker
	clock *fakeclock.Clock
	mu    sync.Mutex
	audit []EventKind
}

func newRig(t *testing.T, grants ...Grant) *rig {
	t.Helper()
	r := &rig{t: t, clock: fakeclock.New(epoch)}
	b, err := New(Config{Clock: r.clock, Audit: func(e Event) {
		r.mu.Lock()
		r.audit = append(r.audit, e.Kind)
		r.mu.Unlock()
	}}, grants)
	if err != nil {
		t.Fatal(err)
	}
	r.b = b
	return r
}

func (r *rig) events() []EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]EventKind(nil), r.audit...)
}

// tray subscribes an answerer for the rest of the test.
func (r *rig) tray() <-chan struct{} {
	ch, cancel := r.b.Subscribe()
	r.t.Cleanup(cancel)
	return ch
}

// check runs Check in the background.
func (r *rig) check(req Request) <-chan error {
	out := make(chan error, 1)
	go func() { out <- r.b.Check(context.Background(), req) }()
	return out
}

// waitPrompt waits for exactly one prompt, with n waiters.
func (r *rig) waitPrompt(changed <-chan struct{}, n int) Prompt {
	r.t.Helper()
	return r.waitFor(changed, fmt.Sprintf("one prompt with %d waiters", n), func(ps []Prompt) int {
		if len(ps) == 1 && ps[0].Waiting == n {
			return 0
		}
		return -1
	})
}

// waitPromptFor waits for the prompt of connection conn to have n waiters.
func (r *rig) waitPromptFor(changed <-chan struct{}, conn string, n int) Prompt {
	r.t.Helper()
	return r.waitFor(changed, fmt.Sprintf("a prompt for %s with %d waiters", conn, n), func(ps []Prompt) int {
		for i, p := range ps {
			if p.Request.Connection == conn && p.Waiting == n {
				return i
			}
		}
		return -1
	})
}

// waitFor waits until find picks a pending prompt (its index, or -1).
func (r *rig) waitFor(changed <-chan struct{}, what string, find func([]Prompt) int) Prompt {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		ps := r.b.Pending()
		if i := find(ps); i >= 0 {
			return ps[i]
		}
		select {
		case <-changed:
		case <-deadline:
			r.t.Fatalf("waited in vain for %s; pending %+v", what, ps)
		}
	}
}

func result(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Check did not return")
		return nil
	}
}

func wantCode(t *testing.T, err error, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func TestCheckWithoutPrompt(t *testing.T) {
	always := Grant{ID: "g1", Key: curlApp.Key, App: "curl", Connection: "ex1", Decision: Always, Created: epoch}
	deny := Grant{ID: "g2", Key: curlApp.Key, App: "curl", Connection: "ex2", Decision: Deny, Created: epoch}
	for _, tc := range []struct {
		name  string
		req   Request
		want  error
		event EventKind
	}{
		{"always grant", Request{App: curlApp, Connection: "ex1"}, nil, EventUsed},
		{"deny grant", Request{App: curlApp, Connection: "ex2"}, ErrDenied, EventDenied},
		{"other connection, no tray", Request{App: curlApp, Connection: "ex3"}, ErrApprovalRequired, EventApprovalRequired},
		{"other app, no tray", Request{App: botApp("aa"), Connection: "ex1"}, ErrApprovalRequired, EventApprovalRequired},
		{"unidentified, no tray", Request{App: inlineApp, Connection: "ex1"}, ErrApprovalRequired, EventApprovalRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, always, deny)
			err := r.b.Check(context.Background(), tc.req)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Check(%s, %s) = %v, want %v", tc.req.App.Name, tc.req.Connection, err, tc.want)
			}
			if ev := r.events(); len(ev) != 1 || ev[0] != tc.event {
				t.Fatalf("audit %v, want [%s]", ev, tc.event)
			}
		})
	}
}

func TestUsesAreCounted(t *testing.T) {
	r := newRig(t, Grant{ID: "g1", Key: curlApp.Key, App: "curl", Connection: "ex1", Decision: Always, Created: epoch})
	r.clock.Advance(time.Minute)
	for range 3 {
		if err := r.b.Check(context.Background(), Request{App: curlApp, Connection: "ex1"}); err != nil {
			t.Fatal(err)
		}
	}
	g := r.b.Grants()[0]
	if g.Uses != 3 || !g.LastUsed.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("uses %d last %v, want 3 at %v", g.Uses, g.LastUsed, epoch.Add(time.Minute))
	}
}

func TestErrorNamesTheApp(t *testing.T) {
	r := newRig(t)
	err := r.b.Check(context.Background(), Request{App: botApp("aa"), Connection: "ex1"})
	msg := err.Error()
	for _, want := range []string{"python3 bot.py", "/home/u/bot.py", `"ex1"`, "tokentray approve /home/u/bot.py --connection ex1", "no tray"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeApprovalRequired {
		t.Fatalf("err %T %v, want *Error approval_required", err, err)
	}
	err = r.b.Check(context.Background(), Request{App: inlineApp, Connection: "ex1"})
	if !strings.Contains(err.Error(), "cannot be identified") || !strings.Contains(err.Error(), "only be allowed once") {
		t.Fatalf("unidentified message %q", err)
	}
}

func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		app       appid.App
		answer    Answer
		want      error
		decision  Decision // of the grant left behind; "" for none
		nextAsked bool     // the next identical request prompts again
	}{
		{"once", curlApp, AnswerOnce, nil, "", true},
		{"always", curlApp, AnswerAlways, nil, Always, false},
		{"deny", curlApp, AnswerDeny, ErrDenied, Deny, false},
		{"always for an unidentified app is once", inlineApp, AnswerAlways, nil, "", true},
		{"deny for an unidentified app is not remembered", inlineApp, AnswerDeny, ErrDenied, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			changed := r.tray()
			req := Request{App: tc.app, Connection: "ex1", Op: "token"}
			res := r.check(req)
			p := r.waitPrompt(changed, 1)
			if p.Request.App.Name != tc.app.Name || p.Grantable != tc.app.Grantable() {
				t.Fatalf("prompt %+v", p)
			}
			if err := r.b.Answer(p.ID, tc.answer); err != nil {
				t.Fatal(err)
			}
			if err := result(t, res); tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Check = %v, want %v", err, tc.want)
			}
			gs := r.b.Grants()
			if tc.decision == "" && len(gs) != 0 || tc.decision != "" && (len(gs) != 1 || gs[0].Decision != tc.decision) {
				t.Fatalf("grants %+v, want decision %q", gs, tc.decision)
			}
			if tc.decision == Always && gs[0].Uses != 1 {
				t.Fatalf("uses %d, want 1", gs[0].Uses)
			}
			next := r.check(req)
			if tc.nextAsked {
				p2 := r.waitPrompt(changed, 1)
				if p2.ID == p.ID {
					t.Fatal("the answered prompt is still pending")
				}
				if err := r.b.Answer(p2.ID, AnswerOnce); err != nil {
					t.Fatal(err)
				}
			}
			wantNext := tc.want
			if tc.nextAsked {
				wantNext = nil // answered Once above
			}
			if err := result(t, next); wantNext == nil && err != nil || wantNext != nil && !errors.Is(err, wantNext) {
				t.Fatalf("next Check = %v, want %v", err, wantNext)
			}
			if err := r.b.Answer(p.ID, AnswerOnce); !errors.Is(err, ErrNotFound) {
				t.Fatalf("second Answer = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	r := newRig(t)
	changed := r.tray()
	res := r.check(Request{App: curlApp, Connection: "ex1"})
	r.waitPrompt(changed, 1)
	if !r.clock.WaitTimers(1, 10*time.Second) {
		t.Fatal("no timer")
	}
	r.clock.Advance(59 * time.Second)
	select {
	case err := <-res:
		t.Fatalf("Check returned %v before the timeout", err)
	default:
	}
	r.clock.Advance(time.Second)
	err := result(t, res)
	wantCode(t, err, ErrApprovalRequired)
	if !strings.Contains(err.Error(), "no answer within 1m0s") {
		t.Fatalf("message %q", err)
	}
	if ps := r.b.Pending(); len(ps) != 0 {
		t.Fatalf("prompt left after the timeout: %+v", ps)
	}
	if len(r.b.Grants()) != 0 {
		t.Fatal("a timeout left a grant")
	}
}

func TestTrayLeaving(t *testing.T) {
	r := newRig(t)
	changed, cancel := r.b.Subscribe()
	res := r.check(Request{App: curlApp, Connection: "ex1"})
	r.waitPrompt(changed, 1)
	cancel()
	wantCode(t, result(t, res), ErrApprovalRequired)
	if err := r.b.Check(context.Background(), Request{App: curlApp, Connection: "ex1"}); !errors.Is(err, ErrApprovalRequired) {
		t.Fatalf("after the tray left: %v", err)
	}
}

func TestCancelledRequestWithdrawsPrompt(t *testing.T) {
	r := newRig(t)
	changed := r.tray()
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- r.b.Check(ctx, Request{App: curlApp, Connection: "ex1"}) }()
	p := r.waitPrompt(changed, 1)
	cancel()
	if err := result(t, res); !errors.Is(err, context.Canceled) {
		t.Fatalf("Check = %v, want context.Canceled", err)
	}
	if err := r.b.Answer(p.ID, AnswerAlways); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Answer to a withdrawn prompt = %v, want ErrNotFound", err)
	}
	if len(r.b.Grants()) != 0 {
		t.Fatal("a withdrawn prompt was granted")
	}
}

func TestChangedScriptIsAskedAgain(t *testing.T) {
	old := botApp("aa")
	r := newRig(t, Grant{ID: "g1", Key: old.Key, App: old.Name, Exe: old.Exe, Script: old.Script, Connection: "ex1", Decision: Always, Created: epoch})
	if err := r.b.Check(context.Background(), Request{App: old, Connection: "ex1"}); err != nil {
		t.Fatalf("granted script: %v", err)
	}
	changed := r.tray()
	res := r.check(Request{App: botApp("bb"), Connection: "ex1"})
	p := r.waitPrompt(changed, 1)
	if !p.Changed {
		t.Fatal("prompt for a changed script does not say it changed")
	}
	if err := r.b.Answer(p.ID, AnswerDeny); err != nil {
		t.Fatal(err)
	}
	wantCode(t, result(t, res), ErrDenied)
	if err := r.b.Check(context.Background(), Request{App: old, Connection: "ex1"}); err != nil {
		t.Fatalf("the old content lost its grant: %v", err)
	}
}

func TestTerminalGrantExpires(t *testing.T) {
	r := newRig(t)
	changed := r.tray()
	req := Request{App: terminalApp, Connection: "ex1"}
	res := r.check(req)
	p := r.waitPrompt(changed, 1)
	if p.GrantTTL != 4*time.Hour {
		t.Fatalf("GrantTTL %v, want 4h", p.GrantTTL)
	}
	if err := r.b.Answer(p.ID, AnswerAlways); err != nil {
		t.Fatal(err)
	}
	if err := result(t, res); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(4*time.Hour - time.Second)
	if err := r.b.Check(context.Background(), req); err != nil {
		t.Fatalf("within the TTL: %v", err)
	}
	r.clock.Advance(time.Second)
	next := r.check(req)
	p = r.waitPrompt(changed, 1)
	if err := r.b.Answer(p.ID, AnswerAlways); err != nil {
		t.Fatal(err)
	}
	if err := result(t, next); err != nil {
		t.Fatal(err)
	}
	r.b.DropTerminalGrants()
	if len(r.b.Grants()) != 0 {
		t.Fatalf("grants after the screen locked: %+v", r.b.Grants())
	}
}

func TestProposalsNeverGrant(t *testing.T) {
	r := newRig(t)
	changed := r.tray()
	p, err := r.b.Propose(Proposal{Exe: "/usr/bin/curl", Connection: "ex1"})
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := r.b.Propose(Proposal{Exe: "/usr/bin/curl", Connection: "ex1"}); again.ID != p.ID {
		t.Fatal("an identical proposal was queued twice")
	}
	if len(r.b.Grants()) != 0 {
		t.Fatal("a proposal created a grant")
	}
	// The proposed app still waits for the human.
	res := r.check(Request{App: curlApp, Connection: "ex1"})
	prompt := r.waitPrompt(changed, 1)
	if err := r.b.Answer(prompt.ID, AnswerDeny); err != nil {
		t.Fatal(err)
	}
	wantCode(t, result(t, res), ErrDenied)

	for _, bad := range []Proposal{{}, {Exe: "curl"}, {Exe: "/a", Script: "/b"}, {Script: "/x/../y"}} {
		if _, err := r.b.Propose(bad); !errors.Is(err, ErrBadProposal) {
			t.Errorf("Propose(%+v) = %v, want ErrBadProposal", bad, err)
		}
	}
	if _, err := r.b.ConfirmProposal(p.ID, botApp("aa"), "ex1"); !errors.Is(err, ErrBadProposal) {
		t.Fatalf("confirming another app: %v", err)
	}
	if _, err := r.b.ConfirmProposal(p.ID, curlApp, "ex2"); !errors.Is(err, ErrBadProposal) {
		t.Fatalf("confirming another connection: %v", err)
	}
	if _, err := r.b.ConfirmProposal(p.ID, inlineApp, "ex1"); err == nil {
		t.Fatal("confirmed an unidentified app")
	}
	g, err := r.b.ConfirmProposal(p.ID, curlApp, "ex1")
	if err != nil || g.Decision != Always || g.Key != curlApp.Key {
		t.Fatalf("ConfirmProposal = %+v, %v", g, err)
	}
	if len(r.b.Proposals()) != 0 {
		t.Fatal("a confirmed proposal is still queued")
	}
	// The deny from before was replaced by the human's confirmation.
	if err := r.b.Check(context.Background(), Request{App: curlApp, Connection: "ex1"}); err != nil {
		t.Fatalf("after confirmation: %v", err)
	}
}

func TestTooManyProposals(t *testing.T) {
	r := newRig(t)
	for i := range 32 {
		if _, err := r.b.Propose(Proposal{Script: fmt.Sprintf("/s/%d.py", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.b.Propose(Proposal{Script: "/s/x.py"}); !errors.Is(err, ErrTooManyProposals) {
		t.Fatalf("33rd proposal: %v", err)
	}
	if err := r.b.DismissProposal(r.b.Proposals()[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.b.Propose(Proposal{Script: "/s/x.py"}); err != nil {
		t.Fatalf("after a dismissal: %v", err)
	}
}

func TestRevoke(t *testing.T) {
	r := newRig(t, Grant{ID: "g1", Key: curlApp.Key, App: "curl", Connection: "ex1", Decision: Always, Created: epoch})
	if err := r.b.Revoke("g1"); err != nil {
		t.Fatal(err)
	}
	if err := r.b.Revoke("g1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Revoke = %v", err)
	}
	wantCode(t, r.b.Check(context.Background(), Request{App: curlApp, Connection: "ex1"}), ErrApprovalRequired)
}

func TestGrantsRoundTrip(t *testing.T) {
	var changes int
	var mu sync.Mutex
	clock := fakeclock.New(epoch)
	b, err := New(Config{Clock: clock, OnChange: func() { mu.Lock(); changes++; mu.Unlock() }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed, cancel := b.Subscribe()
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- b.Check(context.Background(), Request{App: botApp("aa"), Connection: "ex1"}) }()
	r := &rig{t: t, b: b}
	if err := b.Answer(r.waitPrompt(changed, 1).ID, AnswerAlways); err != nil {
		t.Fatal(err)
	}
	if err := result(t, res); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if changes != 1 {
		t.Fatalf("OnChange called %d times, want 1", changes)
	}
	mu.Unlock()
	data, err := MarshalGrants(b.Grants())
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := UnmarshalGrants(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, b.Grants()) {
		t.Fatalf("round trip: %+v, want %+v", loaded, b.Grants())
	}
	// A restarted broker lets the granted app through without a tray.
	b2, err := New(Config{Clock: clock}, loaded)
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.Check(context.Background(), Request{App: botApp("aa"), Connection: "ex1"}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestUnmarshalGrantsRefuses(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"not json", "{"},
		{"other version", `{"version":2,"grants":[]}`},
		{"unknown field", `{"version":1,"grants":[],"extra":1}`},
		{"bad decision", `{"version":1,"grants":[{"id":"a","key":"k","app":"x","connection":"c","decision":"maybe","created":"2026-01-01T00:00:00Z","uses":0}]}`},
		{"no key", `{"version":1,"grants":[{"id":"a","key":"","app":"x","connection":"c","decision":"always","created":"2026-01-01T00:00:00Z","uses":0}]}`},
		{"duplicate", `{"version":1,"grants":[{"id":"a","key":"k","app":"x","connection":"c","decision":"always","created":"2026-01-01T00:00:00Z","uses":0},{"id":"b","key":"k","app":"x","connection":"c","decision":"deny","created":"2026-01-01T00:00:00Z","uses":0}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if g, err := UnmarshalGrants([]byte(tc.data)); err == nil {
				t.Fatalf("UnmarshalGrants(%s) = %+v, want an error", tc.data, g)
			}
		})
	}
}

// FuzzUnmarshalGrants checks that whatever it accepts is valid for New and
// survives a round trip.
func FuzzUnmarshalGrants(f *testing.F) {
	good, _ := MarshalGrants([]Grant{{ID: "g", Key: "k", App: "a", Connection: "c", Decision: Always, Created: epoch, Uses: 2}})
	f.Add(good)
	f.Add([]byte(`{"version":1,"grants":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		gs, err := UnmarshalGrants(data)
		if err != nil {
			return
		}
		if _, err := New(Config{}, gs); err != nil {
			t.Fatalf("New refuses what UnmarshalGrants accepted: %v", err)
		}
		again, err := MarshalGrants(gs)
		if err != nil {
			t.Fatal(err)
		}
		if gs2, err := UnmarshalGrants(again); err != nil || len(gs2) != len(gs) {
			t.Fatalf("round trip: %d grants, %v", len(gs2), err)
		}
	})
}

func TestTooManyPrompts(t *testing.T) {
	clock := fakeclock.New(epoch)
	b, err := New(Config{Clock: clock, MaxPrompts: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed, cancel := b.Subscribe()
	defer cancel()
	r := &rig{t: t, b: b}
	first := r.check(Request{App: curlApp, Connection: "ex1"})
	r.waitPrompt(changed, 1)
	second := r.check(Request{App: curlApp, Connection: "ex2"})
	deadline := time.After(10 * time.Second)
	for len(b.Pending()) != 2 {
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("second prompt never appeared")
		}
	}
	err = b.Check(context.Background(), Request{App: curlApp, Connection: "ex3"})
	if !errors.Is(err, ErrApprovalRequired) || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("third prompt: %v", err)
	}
	// Joining a prompt already open is still allowed.
	joined := r.check(Request{App: curlApp, Connection: "ex1"})
	p := r.waitPromptFor(changed, "ex1", 2)
	if err := b.Answer(p.ID, AnswerOnce); err != nil {
		t.Fatal(err)
	}
	for _, res := range []<-chan error{first, joined} {
		if err := result(t, res); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wantCode(t, result(t, second), ErrApprovalRequired)
}
