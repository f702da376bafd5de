package devworld

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
)

// The tray app of the demo writes its "Start at login" entry under
// XDG_CONFIG_HOME: the world's environment must keep that in its temporary
// home, never the user's ~/.config.
func TestGetenvKeepsConfigInTheTemporaryHome(t *testing.T) {
	home := t.TempDir()
	w := &World{Home: home, Socket: filepath.Join(home, "agent.sock"), getenv: func(k string) string {
		return map[string]string{"HOME": "/home/trader", "XDG_CONFIG_HOME": "/home/trader/.config", "PATH": "/usr/bin"}[k]
	}}
	for _, k := range []string{"TOKENTRAY_HOME", "XDG_CONFIG_HOME", "TOKENTRAY_SOCK"} {
		if got := w.Getenv(k); !strings.HasPrefix(got, home+string(filepath.Separator)) && got != home {
			t.Errorf("Getenv(%q) = %q, want a path in the temporary home %s", k, got, home)
		}
	}
	if got := w.Getenv("PATH"); got != "/usr/bin" {
		t.Errorf("Getenv(PATH) = %q, want the process's", got)
	}
}

// TestWorldConnectsAndCloses runs the whole world: the browser follows the
// authorize URL to the agent, the key is readable, and Close leaves nothing.
func TestWorldConnectsAndCloses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := Start(ctx, Options{
		Stack: devstack.Options{Approval: fakeexchange.AutoApprove},
		Agent: agentd.Options{Open: devstack.Browser, Version: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			w.Close()
		}
	}()
	if got := w.Getenv("TOKENTRAY_SOCK"); got != w.Agent.Socket {
		t.Fatalf("Getenv(TOKENTRAY_SOCK) = %q, want the agent's socket %q", got, w.Agent.Socket)
	}
	c, err := w.Connect(ctx, "profile", "trade")
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := w.Client.Token(ctx, c.ID, 0); err != nil || tok.AccessKey == "" {
		t.Fatalf("Token(%q) = %v; want a key", c.ID, err)
	}
	closed = true
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(w.Home); len(m) != 0 {
		t.Fatalf("Close left the home %s", w.Home)
	}
}
