package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// heavy are the packages a CLI call must neither link nor initialise: the
// GUI, the agent and its vault, the relay, metrics, and net/http with TLS
// (README, "Numbers": a call costs about a hello-world).
var heavy = []string{
	"fyne.io/", "github.com/go-gl/", "github.com/prometheus/", "google.golang.org/protobuf",
	"github.com/awnumar/memguard", "github.com/zalando/go-keyring", "github.com/godbus/",
	"github.com/tokentray/tokentray/agent", "github.com/tokentray/tokentray/vault",
	"github.com/tokentray/tokentray/relay", "github.com/tokentray/tokentray/localapi",
	"github.com/tokentray/tokentray/oauthflow", "github.com/tokentray/tokentray/internal/agentd",
	"github.com/tokentray/tokentray/peatio", "github.com/tokentray/tokentray/internal/browser",
}

// heavyStd is what of the standard library the CLI leaves out as well; a
// script's own Go program (examples/go) may well use it to call the exchange.
var heavyStd = []string{"net/http", "crypto/tls", "crypto/x509"}

// core is what a client of the agent (the tray app, a script) must not
// link: the agent, its assembly and socket server, its vault and what
// holds keys, and the relay. The tray app links Fyne, and through Fyne's
// tray godbus; both are heavy for the CLI, not core.
var core = []string{
	"github.com/tokentray/tokentray/agent", "github.com/tokentray/tokentray/vault",
	"github.com/tokentray/tokentray/relay", "github.com/tokentray/tokentray/localapi",
	"github.com/tokentray/tokentray/internal/agentd",
	"github.com/awnumar/memguard", "github.com/zalando/go-keyring",
}

// heavyIn returns the lines that name a package of heavy (and of heavyStd
// with std).
func heavyIn(lines []string, std bool) []string {
	names := heavy
	if std {
		names = append(append([]string{}, heavy...), heavyStd...)
	}
	return namedIn(lines, names)
}

// namedIn returns the lines that name a package of names (or one below it).
func namedIn(lines, names []string) []string {
	var out []string
	for _, line := range lines {
		for _, h := range names {
			if strings.Contains(line, h) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

func goCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	cmd := exec.Command(goBin, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd
}

func TestLinksOnlyTheSocketClient(t *testing.T) {
	for pkg, std := range map[string]bool{".": true, "../../examples/go": false} {
		out, err := goCommand(t, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if bad := heavyIn(deps, std); len(bad) > 0 {
			t.Errorf("%s links %s", pkg, strings.Join(bad, ", "))
		}
	}
	// The check can fail: the full program links all of it.
	out, err := goCommand(t, "list", "-deps", "-tags", "nogui", "../..").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ../..: %v\n%s", err, out)
	}
	if len(heavyIn(strings.Fields(string(out)), false)) == 0 {
		t.Fatal("the check finds nothing heavy in tokentray-app either; it is blind")
	}
}

// TestClientsDoNotReachTheCore: the socket client, the safe socket, the Go
// example and every package of the tray app link nothing of the agent, its
// vault or the relay; the client, the socket and the example not even Fyne
// or D-Bus.
func TestClientsDoNotReachTheCore(t *testing.T) {
	tests := []struct {
		pkg   string
		names []string
		cgo   bool // Fyne needs cgo to be listed as it is built
	}{
		{"../../localclient", heavy, false},
		{"../../safesocket", heavy, false},
		{"../../examples/go", heavy, false},
		{"../../app/...", core, true},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			cmd := goCommand(t, "list", "-deps", tt.pkg)
			if tt.cgo {
				cmd.Env = os.Environ()
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", tt.pkg, err, out)
			}
			if bad := namedIn(strings.Fields(string(out)), tt.names); len(bad) > 0 {
				t.Errorf("%s links %s", tt.pkg, strings.Join(bad, ", "))
			}
		})
	}
	// The check can fail: the demo world links the whole core.
	out, err := goCommand(t, "list", "-deps", "../../internal/devworld").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ../../internal/devworld: %v\n%s", err, out)
	}
	if len(namedIn(strings.Fields(string(out)), core)) < len(core) {
		t.Fatalf("the check does not find all of the core in internal/devworld; it is blind:\n%s", out)
	}
}

// build builds this command into dir.
func build(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "tokentray")
	if out, err := goCommand(t, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestInitialisesNothingHeavy(t *testing.T) {
	bin := build(t, t.TempDir())
	for _, args := range [][]string{{"status"}, {"token"}, {"sign", "x", "GET", "/api/v2/x"}, {"ls"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "TOKENTRAY_SOCK="+filepath.Join(t.TempDir(), "none.sock"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 4 {
			t.Fatalf("tokentray %s with no agent: exit %d (%v), want 4\n%s", args, code, err, stderr.String())
		}
		var inits []string
		for _, line := range strings.Split(stderr.String(), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
				inits = append(inits, f[1])
			}
		}
		// Not blind: the CLI's own package initialises its command table.
		if !strings.Contains(strings.Join(inits, " "), "github.com/tokentray/tokentray/internal/cli") {
			t.Fatalf("inittrace of tokentray %s shows no internal/cli; the check is blind:\n%s", args, stderr.String())
		}
		if bad := heavyIn(inits, true); len(bad) > 0 {
			t.Errorf("tokentray %s initialises %s", args, strings.Join(bad, ", "))
		}
	}
}

func TestHandsTheAppItsCommands(t *testing.T) {
	dir := t.TempDir()
	bin := build(t, dir)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"tray app", nil, "app:\n"},
		{"agent", []string{"agent"}, "app:agent\n"},
		{"demo with flags", []string{"demo", "--headless", "--check"}, "app:demo --headless --check\n"},
	}
	app := filepath.Join(dir, "tokentray-app")
	if err := os.WriteFile(app, []byte("#!/bin/sh\necho \"app:$*\"\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(bin, tt.args...).Output()
			if code := exitCode(err); string(out) != tt.want || code != 7 {
				t.Fatalf("tokentray %q = %q, exit %d; want %q from tokentray-app and its exit 7", tt.args, out, code, tt.want)
			}
		})
	}
	os.Remove(app)
	cmd := exec.Command(bin, "agent")
	cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "tokentray-app is not installed") {
		t.Fatalf("tokentray agent without tokentray-app: exit %d, %q; want 1 and a clear message", code, out)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
