package agent

import (
	"errors"
	"testing"
)

// secondAccount adds a second connection of c's provider, as a sign-in with
// another account would (the simulated exchange has one account).
func secondAccount(t *testing.T, e *env, c Connection) string {
	t.Helper()
	e.agent.mu.Lock()
	defer e.agent.mu.Unlock()
	orig := e.agent.conns[c.ID]
	orig.mu.Lock()
	rec := orig.rec
	sealed, refresh := orig.sealed, orig.refresh
	orig.mu.Unlock()
	rec.ID, rec.Account, rec.Label, rec.Default = c.ID+"-b", "ACCOUNT-B", "Bob's", false
	e.agent.conns[rec.ID] = &conn{rec: rec, sealed: sealed, refresh: refresh}
	return rec.ID
}

func TestTheProviderIDNamesItsDefaultConnection(t *testing.T) {
	e := newEnv(t)
	a := e.connect()
	b := secondAccount(t, e, a)
	provider := a.Provider

	if _, err := e.agent.find(provider); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("find(%q) with two connections and no default = %v, want ErrAmbiguous", provider, err)
	}
	on := true
	got, err := e.agent.UpdateConnection(b, ConnectionPatch{Default: &on})
	if err != nil || !got.Default {
		t.Fatalf("marking %s the default = %+v, %v", b, got, err)
	}
	if c, err := e.agent.find(provider); err != nil || c.rec.ID != b {
		t.Fatalf("find(%q) = %v, %v; want the default %s", provider, c, err, b)
	}
	// Marking the other moves the default: never two.
	if _, err := e.agent.UpdateConnection(a.ID, ConnectionPatch{Default: &on}); err != nil {
		t.Fatal(err)
	}
	if c, err := e.agent.find(provider); err != nil || c.rec.ID != a.ID {
		t.Fatalf("find(%q) after moving the default = %v, %v; want %s", provider, c, err, a.ID)
	}
	defaults := 0
	for _, c := range e.agent.Connections() {
		if c.Default {
			defaults++
		}
	}
	if defaults != 1 {
		t.Fatalf("%d connections are marked the default, want 1", defaults)
	}
	off := false
	if _, err := e.agent.UpdateConnection(a.ID, ConnectionPatch{Default: &off}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("default false = %v, want ErrBadRequest", err)
	}
	if c, _ := e.agent.find(provider); c.rec.ID != a.ID {
		t.Fatal("a refused patch moved the default")
	}
}
