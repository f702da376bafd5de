package cli_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/localclient"
)

// TestExamples runs examples/curl.sh, trader.py and go/main.go against an
// agent connected to the simulated exchange. Each run first finds the key
// expired (2010), so each must refresh once with if_generation, see the
// refreshed event and then get /api/v2/members/me.
func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs curl, python3 and go")
	}
	w := startWorld(t)
	agent := w.Client
	ctx := context.Background()
	if _, err := agent.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID}, nil); err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Abs(filepath.Join(moduleRoot, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tool string
		args       []string
	}{
		{"curl.sh", "bash", []string{filepath.Join(examples, "curl.sh")}},
		{"trader.py", "python3", []string{filepath.Join(examples, "trader.py")}},
		{"go", "go", []string{"run", "./examples/go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := exec.LookPath(tt.tool); err != nil {
				t.Skipf("no %s in PATH", tt.tool)
			}
			if tt.name == "curl.sh" {
				if _, err := exec.LookPath("curl"); err != nil {
					t.Skip("no curl in PATH")
				}
			}
			before, err := agent.Connection(ctx, devstack.ProviderID)
			if err != nil {
				t.Fatal(err)
			}
			w.Stack.Exchange.ExpireAllKeys()

			cmdCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(cmdCtx, tt.tool, tt.args...)
			cmd.Dir = moduleRoot
			cmd.Env = append(os.Environ(),
				"TOKENTRAY_SOCK="+w.Socket,
				"TOKENTRAY_EXCHANGE="+w.Stack.ExchangeURL,
				"EVENTS_SECONDS=20")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v\nstderr:\n%s", tt.name, err, stderr.String())
			}
			if !strings.Contains(stdout.String(), `"sn":"`) {
				t.Errorf("%s: stdout has no member: %q", tt.name, stdout.String())
			}
			for _, want := range []string{
				"the exchange says the key is dead (2010); refreshing generation",
				"agent event: refreshed",
			} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("%s: stderr lacks %q:\n%s", tt.name, want, stderr.String())
				}
			}
			after, err := agent.Connection(ctx, devstack.ProviderID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Generation != before.Generation+1 {
				t.Errorf("%s: generation %d → %d, want one refresh", tt.name, before.Generation, after.Generation)
			}
		})
	}
}

// TestProxyExample runs examples/proxy.sh, the simplest way: one curl through
// the agent's proxy, against an expired key that the agent must refresh.
func TestProxyExample(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s in PATH", tool)
		}
	}
	w := startWorld(t)
	agent := w.Client
	ctx := context.Background()
	before, err := agent.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Stack.Exchange.ExpireAllKeys()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(moduleRoot, "examples", "proxy.sh"))
	cmd.Env = append(os.Environ(), "TOKENTRAY_SOCK="+w.Socket)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("proxy.sh: %v\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"name":"Alice Trader"`) {
		t.Fatalf("proxy.sh printed %q", stdout.String())
	}
	after, _ := agent.Connection(ctx, devstack.ProviderID)
	if after.Generation != before.Generation+1 {
		t.Fatalf("generation %d → %d, want the agent's one refresh", before.Generation, after.Generation)
	}
}

// TestExamplesWithoutAgent: with no agent the examples fail clearly, with
// nothing on stdout.
func TestExamplesWithoutAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs curl and python3")
	}
	examples, err := filepath.Abs(filepath.Join(moduleRoot, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tool, want string
	}{
		{"curl.sh", "bash", "is the agent running?"},
		{"trader.py", "python3", "No such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := exec.LookPath(tt.tool); err != nil {
				t.Skipf("no %s in PATH", tt.tool)
			}
			cmd := exec.Command(tt.tool, filepath.Join(examples, tt.name))
			cmd.Env = append(os.Environ(), "TOKENTRAY_SOCK="+filepath.Join(t.TempDir(), "none.sock"),
				"TOKENTRAY_EXCHANGE=http://127.0.0.1:1", "EVENTS_SECONDS=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if exitCodeOf(err) < 1 || stdout.Len() > 0 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("%s without an agent: %v, stdout %q, stderr %q; want a failure saying %q",
					tt.name, err, stdout.String(), stderr.String(), tt.want)
			}
		})
	}
}
