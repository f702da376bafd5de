package faulttest

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/vault"
)

// botPy reads a key over the socket as a trading script would: a raw HTTP
// request on the Unix socket, the answer on stdout.
const botPy = `import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(("GET /v1/connections/%s/token HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n" % sys.argv[2]).encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
`

// errorAnswer is the agent's error body.
type errorAnswer struct {
	Error struct{ Code, Message string }
}

// TestAppApprovalRealBinaries runs `tokentray-app agent` with approve_apps
// = true and no tray, and asks for a key as curl, as a Python script and as
// a bash script running the `tokentray` CLI. Each is refused with
// approval_required naming the right app (the CLI exits 5); the socket
// cannot turn the switch off; a grant written by the agent's own Go method
// (as the tray will) lets exactly curl through, across restarts; a Python
// script granted and then changed is refused again; with approve_apps off
// the same curl call gets its key.
func TestAppApprovalRealBinaries(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("needs curl")
	}
	curl, _ = filepath.EvalSymlinks(curl)
	python := realPython(t)
	w := newWorld(t, worldOptions{config: "approve_apps = true\n"})
	c := w.connect()
	dir := t.TempDir()

	curlToken := func() (string, errorAnswer) {
		t.Helper()
		out, err := exec.Command(curl, "-s", "--unix-socket", w.sock, "http://agent/v1/connections/"+c.ID+"/token").Output()
		if err != nil {
			t.Fatalf("curl: %v", err)
		}
		var e errorAnswer
		json.Unmarshal(out, &e)
		return string(out), e
	}
	_, e := curlToken()
	wantRefusal(t, "curl", e, "curl ("+curl+")", "tokentray approve "+curl)

	bot := filepath.Join(dir, "bot.py")
	if err := os.WriteFile(bot, []byte("#!"+python+"\n"+botPy), 0o600); err != nil {
		t.Fatal(err)
	}
	pyToken := func() (string, errorAnswer) {
		t.Helper()
		cmd := exec.Command(python, "bot.py", w.sock, c.ID)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("python: %v", err)
		}
		var e errorAnswer
		_, body, _ := strings.Cut(string(out), "\r\n\r\n")
		json.Unmarshal([]byte(body), &e)
		return string(out), e
	}
	_, e = pyToken()
	wantRefusal(t, "the python script", e, filepath.Base(python)+" bot.py ("+bot+")", "tokentray approve "+bot)

	run := filepath.Join(dir, "run.sh")
	// The status line keeps bash from exec'ing the CLI as its last command.
	if err := os.WriteFile(run, []byte("#!/bin/bash\n\"$TT\" token \"$1\"\nstatus=$?\nexit $status\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(run, c.ID)
	cmd.Env = append(os.Environ(), "TT="+bins.cli, "TOKENTRAY_SOCK="+w.sock)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 5 || len(out) != 0 {
		t.Fatalf("bash script running tokentray token: %v, stdout %q, stderr %q; want exit 5 and nothing on stdout", err, out, stderr.String())
	}
	if !strings.Contains(stderr.String(), "("+run+")") || !strings.Contains(stderr.String(), "is not approved") {
		t.Fatalf("bash script running tokentray token: stderr %q does not name %s", stderr.String(), run)
	}

	// The switch cannot be turned off over the socket.
	patch, err := exec.Command(curl, "-s", "-X", "PATCH", "--unix-socket", w.sock, "-d", `{"approve_apps":false}`, "http://agent/v1/settings").Output()
	if err != nil || !strings.Contains(string(patch), "only the tray app's window can change approve_apps") {
		t.Fatalf("PATCH approve_apps=false: %s, %v; want refused", patch, err)
	}
	if st, err := w.client.Settings(context.Background()); err != nil || !st.ApproveApps {
		t.Fatalf("settings after the PATCH: %+v, %v; want approve_apps still true", st, err)
	}
	_, e = curlToken()
	wantRefusal(t, "curl after the PATCH", e, "curl (", "")

	// Grants written by the agent's own method, as the tray will write them.
	w.stopAgent()
	grantInVault(t, w, c.ID, curl, bot)
	w.startAgent()
	if body, e := curlToken(); e.Error.Code != "" || !strings.Contains(body, `"access_key"`) {
		t.Fatalf("curl with a grant: %.200s", e.Error.Message)
	}
	if body, e := pyToken(); e.Error.Code != "" || !strings.Contains(body, `"access_key"`) {
		t.Fatalf("the granted python script: %s", e.Error.Message)
	}
	w.stopAgent()
	w.startAgent()
	if _, e := curlToken(); e.Error.Code != "" {
		t.Fatalf("curl with a grant, after a restart: %s", e.Error.Message)
	}
	apps, err := w.client.Apps(context.Background())
	if err != nil || len(apps) != 2 {
		t.Fatalf("apps: %+v, %v; want the two grants", apps, err)
	}
	// The bash script has no grant: still refused.
	if err := exec.Command(run, c.ID).Run(); err == nil {
		t.Fatal("the bash script without a grant got a key")
	}

	// The granted script, changed, is asked about again.
	f, err := os.OpenFile(bot, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# changed\n")
	f.Close()
	_, e = pyToken()
	wantRefusal(t, "the changed python script", e, bot, "")

	// Approval off: the same curl call gets its key, as before.
	w.stopAgent()
	if err := os.WriteFile(filepath.Join(w.home, "config.toml"), []byte("vault = \"passphrase\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.startAgent()
	if _, e := curlToken(); e.Error.Code != "" {
		t.Fatalf("curl with approve_apps off: %s", e.Error.Message)
	}
	if _, e := pyToken(); e.Error.Code != "" {
		t.Fatalf("the changed script with approve_apps off: %s", e.Error.Message)
	}
}

// wantRefusal checks e is approval_required naming app (and hint).
func wantRefusal(t *testing.T, who string, e errorAnswer, app, hint string) {
	t.Helper()
	if e.Error.Code != "approval_required" || !strings.Contains(e.Error.Message, app) || !strings.Contains(e.Error.Message, hint) {
		t.Fatalf("%s: %+v; want approval_required naming %q and %q", who, e.Error, app, hint)
	}
}

// realPython is the real python3 executable (not a pyenv shim).
func realPython(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import os, sys; print(os.path.realpath(sys.executable))").Output()
	if err != nil {
		t.Skip("needs python3")
	}
	return strings.TrimSpace(string(out))
}

// grantInVault opens the stopped agent's vault in this process and grants
// curl and the script at bot the connection through the agent's Go method,
// as the tray's window will: no socket call can.
func grantInVault(t *testing.T, w *world, conn, curl, bot string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := vault.Open(ctx, vault.Options{Dir: w.home, Mode: vault.ModePassphrase, Passphrase: []byte("fault-test passphrase"),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open the agent's vault: %v", err)
	}
	defer v.Close()
	a, err := agent.New(agent.Config{Vault: v, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ids := appid.New(appid.Config{})
	for _, path := range []string{curl, bot} {
		app, err := ids.IdentifyFile(path)
		if err != nil {
			t.Fatalf("identify %s: %v", path, err)
		}
		if _, err := a.GrantApp(app, conn, approval.Always); err != nil {
			t.Fatalf("grant %s: %v", path, err)
		}
	}
}
