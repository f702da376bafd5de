package approval

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/fakeclock"
)

// TestRealPeersWithoutTray puts the two packages together on a real socket:
// with no tray, curl and a Python script get approval_required naming them;
// once a human says Always for the script, it alone gets through.
func TestRealPeersWithoutTray(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	script := filepath.Join(dir, "bot.py")
	if err := os.WriteFile(script, []byte("import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\ns.recv(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := appid.New(appid.Config{})
	identify := func(name string, args ...string) appid.App {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		_ = ln.SetDeadline(time.Now().Add(30 * time.Second))
		c, err := ln.AcceptUnix()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		p, err := appid.PinConn(c)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		app, err := ids.Identify(p)
		if err != nil {
			t.Fatal(err)
		}
		return app
	}
	curlApp := identify(curl, "-s", "--max-time", "30", "--unix-socket", sock, "http://agent/")
	botApp := identify(py, "bot.py", sock)

	clock := fakeclock.New(epoch)
	b, err := New(Config{Clock: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		app  appid.App
		want []string
	}{
		{curlApp, []string{"curl"}},
		{botApp, []string{"python", script, "tokentray approve " + script}},
	} {
		err := b.Check(context.Background(), Request{App: tc.app, Connection: "ex1", Op: "token"})
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeApprovalRequired {
			t.Fatalf("%s without a tray: %v, want approval_required", tc.app.Name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("message %q lacks %q", err, w)
			}
		}
	}

	changed, cancel := b.Subscribe()
	res := make(chan error, 1)
	go func() { res <- b.Check(context.Background(), Request{App: botApp, Connection: "ex1"}) }()
	r := &rig{t: t, b: b}
	if err := b.Answer(r.waitPrompt(changed, 1).ID, AnswerAlways); err != nil {
		t.Fatal(err)
	}
	if err := result(t, res); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := b.Check(context.Background(), Request{App: botApp, Connection: "ex1"}); err != nil {
		t.Fatalf("granted script: %v", err)
	}
	if err := b.Check(context.Background(), Request{App: curlApp, Connection: "ex1"}); !errors.Is(err, ErrApprovalRequired) {
		t.Fatalf("curl after the script's grant: %v", err)
	}
	if err := b.Check(context.Background(), Request{App: botApp, Connection: "ex2"}); !errors.Is(err, ErrApprovalRequired) {
		t.Fatalf("the script on another connection: %v", err)
	}
}
