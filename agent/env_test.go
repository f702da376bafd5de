package agent

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeclock"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/internal/syncbuf"
	"github.com/tokentray/tokentray/relayclient"
	"github.com/tokentray/tokentray/vault"
)

// env is an agent connected to a real relay and the simulated exchange, with
// a fake clock shared by all three.
type env struct {
	t      *testing.T
	clock  *fakeclock.Clock
	stack  *devstack.Stack
	vault  *vault.Vault
	agent  *Agent
	logs   *syncbuf.Buffer
	stop   context.CancelFunc
	done   chan struct{}
	keys   *memKeyring
	vdir   string
	stopMu sync.Once
	tune   func(*Config) // changes the agent's config before each start
	// abandon makes close leave the agent alone: a test that found it
	// deadlocked cannot stop it.
	abandon atomic.Bool
}

var epoch = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env { return newEnvWith(t, nil, devstack.Options{}) }

// newEnvTuned is newEnv with tune applied to the agent's config.
func newEnvTuned(t *testing.T, tune func(*Config)) *env {
	return newEnvWith(t, tune, devstack.Options{})
}

// newEnvWith is newEnv with tune applied to the agent's config and the
// relay's provider profile changed as so says.
func newEnvWith(t *testing.T, tune func(*Config), so devstack.Options) *env {
	t.Helper()
	e := &env{t: t, tune: tune, clock: fakeclock.New(epoch), logs: &syncbuf.Buffer{}, keys: &memKeyring{m: map[string]string{}}, vdir: vaultDir(t)}
	so.Dir, so.Now, so.Approval = t.TempDir(), e.clock.Now, fakeexchange.AutoApprove
	so.Logger = slog.New(slog.NewTextHandler(e.logs, nil))
	stack, err := devstack.Start(so)
	if err != nil {
		t.Fatal(err)
	}
	e.stack = stack
	t.Cleanup(stack.Close)
	e.start()
	t.Cleanup(e.close)
	return e
}

// vaultDir is a folder for a test's vault: in /dev/shm where there is one.
// The vault's file, renames and fsyncs are as real there, only the fsyncs
// cost nothing, and every refresh saves twice (journal, then keys): the soak
// test's year of refreshes took 70 s longer on a disk. The vault's own tests
// cover durability on a real disk.
func vaultDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/dev/shm", "tokentray-agent-test")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// start opens the vault and starts an agent on it.
func (e *env) start() {
	e.t.Helper()
	v, err := vault.Open(context.Background(), vault.Options{Dir: e.vdir, Keyring: e.keys, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.vault = v
	rc := &relayclient.Client{BaseURL: e.stack.RelayURL, Device: v.DeviceKey(), Now: e.clock.Now}
	cfg := Config{
		Vault: v, Relay: rc, Open: devstack.Browser, Clock: e.clock,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Version: "test",
	}
	if e.tune != nil {
		e.tune(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	go func() { defer close(e.done); a.Run(ctx) }()
	e.stopMu = sync.Once{}
}

// close stops the agent and closes the vault, as the process would on exit.
func (e *env) close() {
	if e.abandon.Load() {
		return
	}
	e.stopMu.Do(func() {
		e.stop()
		<-e.done
		e.agent.Close()
		e.vault.Close()
	})
}

// restart stops the agent and starts a new one on the same vault file.
func (e *env) restart() {
	e.close()
	e.start()
}

// connect connects the simulated exchange's account with the given scopes.
func (e *env) connect(scopes ...string) Connection {
	e.t.Helper()
	c, err := e.agent.Connect(context.Background(), ConnectRequest{Provider: devstack.ProviderID, Scopes: scopes}, nil)
	if err != nil {
		e.t.Fatalf("Connect: %v", err)
	}
	return c
}

// me calls /members/me at the exchange, signed with key, and returns the
// HTTP status and body.
func (e *env) me(k Key) (int, string) {
	e.t.Helper()
	// The agent's own signer: with the clock frozen, only it knows which
	// tonces the key has used.
	q, err := e.agent.signer.Sign("GET", "/api/v2/members/me", url.Values{}, k.AccessKey, k.SecretKey, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.Get(e.stack.ExchangeURL + "/api/v2/members/me?" + q.Query)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond in real time until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// idle waits until the agent is quiet: no refresh or revocation runs and the
// scheduler sleeps on a timer with nothing left to look at.
func (e *env) idle() {
	e.t.Helper()
	quiet := 0
	waitFor(e.t, "the agent to go idle", func() bool {
		if !e.quiet() {
			quiet = 0
			return false
		}
		quiet++
		return quiet >= 3
	})
}

// nextTimer waits until the agent is quiet and its scheduler sleeps on a
// timer, and returns when that timer fires. The clock must not be set from a
// Next that found no timer: that is the zero time, year 1, and the exchange,
// on the same clock, then refuses every tonce (2007).
func (e *env) nextTimer() time.Time {
	e.t.Helper()
	var next time.Time
	waitFor(e.t, "the scheduler to sleep on a timer", func() bool {
		if !e.quiet() {
			return false
		}
		n, ok := e.clock.Next()
		next = n
		return ok
	})
	return next
}

// quiet reports whether the agent looks idle right now.
func (e *env) quiet() bool {
	{
		for _, c := range e.agent.snapshotConns() {
			c.mu.Lock()
			busy := c.flight != nil
			c.mu.Unlock()
			if busy {
				return false
			}
		}
		e.agent.life.Lock()
		revoking := len(e.agent.revoking)
		e.agent.life.Unlock()
		_, parked := e.clock.Next()
		return revoking == 0 && parked && len(e.agent.kick) == 0
	}
}

// memKeyring is a keyring in memory, for vaults that outlive one agent.
type memKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *memKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[service+"/"+user]
	if !ok {
		return "", vault.ErrItemNotFound
	}
	return v, nil
}

func (k *memKeyring) Set(service, user, password string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[service+"/"+user] = password
	return nil
}

// revokeAtExchange kills k's whole grant at the exchange, as a user would on
// its website.
func (e *env) revokeAtExchange(k Key) {
	e.t.Helper()
	form := url.Values{"token": {k.AccessKey + ":" + k.SecretKey}}
	req, _ := http.NewRequest(http.MethodPost, e.stack.ExchangeURL+"/oauth/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+k.AccessKey+":"+k.SecretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("revoke at the exchange: %s", resp.Status)
	}
}
