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
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/vault"
)

// askPy asks for a key on a connected socket and returns the answer's body,
// leaving the connection open for the next request.
const askPy = `def ask(s, conn):
    s.sendall(("GET /v1/connections/%s/token HTTP/1.1\r\nHost: agent\r\n\r\n" % conn).encode())
    f = s.makefile("rb", buffering=0)
    def readn(n):
        b = b""
        while len(b) < n:
            c = f.read(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b
    f.readline()
    length, chunked = 0, False
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "content-length":
            length = int(v)
        if k.lower() == "transfer-encoding" and "chunked" in v:
            chunked = True
    if not chunked:
        return readn(length).decode()
    body = b""
    while True:
        n = int(f.readline().split(b";")[0], 16)
        if n == 0:
            f.readline()
            return body.decode()
        body += readn(n)
        f.readline()
`

// hopPy asks once, then execs next.py on the same connection.
const hopPy = `import os, socket, sys
from ask import ask
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print(ask(s, sys.argv[2]).strip(), flush=True)
os.set_inheritable(s.fileno(), True)
os.execv(sys.executable, [sys.executable, "next.py", str(s.fileno()), sys.argv[2]])
`

// nextPy asks on the connection it inherited.
const nextPy = `import socket, sys
from ask import ask
s = socket.socket(fileno=int(sys.argv[1]))
print(ask(s, sys.argv[2]).strip(), flush=True)
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
// (as the tray will) lets exactly the granted apps through, across
// restarts; a granted script that execs another on its keep-alive
// connection is refused for what it runs now; a Python script granted and
// then changed is refused again; with approve_apps off the same curl call
// gets its key.
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
	// No tray runs this agent: the hint says to start one, since neither a
	// prompt nor a proposal can approve anything before.
	wantRefusal(t, "curl", e, "curl ("+curl+")", "no tray is running to ask; to approve it, start the tray app (tokentray with no arguments")
	wantRefusal(t, "curl", e, "curl ("+curl+")", "tokentray approve "+curl)

	bot := filepath.Join(dir, "bot.py")
	if err := os.WriteFile(bot, []byte("#!"+python+"\n"+devstack.BotPy), 0o600); err != nil {
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

	for name, text := range map[string]string{"ask.py": askPy, "hop.py": "#!" + python + "\n" + hopPy, "next.py": nextPy} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hop := filepath.Join(dir, "hop.py")

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
	grantInVault(t, w, c.ID, curl, bot, hop)
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
	if err != nil || len(apps) != 3 {
		t.Fatalf("apps: %+v, %v; want the three grants", apps, err)
	}

	// A granted script that execs another on the same keep-alive
	// connection: the second is named by what it runs now, and refused.
	hopCmd := exec.Command(python, "hop.py", w.sock, c.ID)
	hopCmd.Dir = dir
	hopOut, err := hopCmd.Output()
	if err != nil {
		t.Fatalf("hop.py: %v", err)
	}
	first, second, _ := strings.Cut(strings.TrimSpace(string(hopOut)), "\n")
	if !strings.Contains(first, `"access_key"`) {
		t.Fatalf("the granted hop.py: %.200s", first)
	}
	var next errorAnswer
	json.Unmarshal([]byte(second), &next)
	wantRefusal(t, "next.py, exec'd by hop.py on its connection", next, filepath.Join(dir, "next.py"), "")
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
// the apps at paths the connection through the agent's Go method, as the
// tray's window will: no socket call can.
func grantInVault(t *testing.T, w *world, conn string, paths ...string) {
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
	for _, path := range paths {
		app, err := ids.IdentifyFile(path)
		if err != nil {
			t.Fatalf("identify %s: %v", path, err)
		}
		if _, err := a.GrantApp(app, conn, approval.Always); err != nil {
			t.Fatalf("grant %s: %v", path, err)
		}
	}
}
