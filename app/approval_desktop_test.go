package app

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/app/internal/desktoptest"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/internal/syncbuf"
	"github.com/tokentray/tokentray/localclient"
)

// TestDesktopApprovalPrompt is the approval prompt on the real tray app: the
// app runs its agent in-process, with approve_apps = true and its vault key
// in a real Secret Service (gnome-keyring on a private session bus), on a
// private X server. A Python script asks for the key; the prompt window
// appears; real X key presses answer Always (Shift+Tab from Deny, where the
// focus starts, then Return), and the script gets the key. Another script
// is still asked, and Escape denies it. After a restart of the tray app the
// first script gets its key without a prompt and the second is refused.
func TestDesktopApprovalPrompt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("skipped: app approval is Linux's")
	}
	if testing.Short() {
		t.Skip("skipped in -short: builds and runs the tray app")
	}
	xdotool := desktoptest.Need(t, "xdotool", "xdotool")
	keyring := desktoptest.Need(t, "gnome-keyring-daemon", "gnome-keyring")
	dbusSend := desktoptest.Need(t, "dbus-send", "dbus")
	out, err := exec.Command("python3", "-c", "import os, sys; print(os.path.realpath(sys.executable))").Output()
	if err != nil {
		desktoptest.Need(t, "python3-missing", "python3")
	}
	python := strings.TrimSpace(string(out))

	s := desktoptest.Start(t)
	env := s.Env
	ttHome := filepath.Join(s.Home, "tokentray")
	if err := os.Mkdir(ttHome, 0o700); err != nil {
		t.Fatal(err)
	}

	// The Secret Service: a password on stdin creates and unlocks the login
	// keyring without a prompt.
	kr := exec.Command(keyring, "--foreground", "--unlock", "--components=secrets")
	kr.Env = env
	kr.Stdin = strings.NewReader("tokentray-test")
	var krLog syncbuf.Buffer
	kr.Stdout, kr.Stderr = &krLog, &krLog
	if err := kr.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		kr.Process.Kill()
		kr.Wait()
	})
	waitUntil(t, 20*time.Second, "the Secret Service on the session bus", func() bool {
		cmd := exec.Command(dbusSend, "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets")
		cmd.Env = env
		out, _ := cmd.Output()
		return strings.Contains(string(out), "boolean true")
	})

	stack, err := devstack.Start(devstack.Options{Dir: t.TempDir(), Approval: fakeexchange.AutoApprove})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	sockDir, err := os.MkdirTemp("", "tt") // socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	socket := filepath.Join(sockDir, "agent.sock")
	if err := os.WriteFile(filepath.Join(ttHome, "config.toml"), []byte("approve_apps = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "TOKENTRAY_HOME="+ttHome, "TOKENTRAY_SOCK="+socket, "TOKENTRAY_RELAY="+stack.RelayURL, "BROWSER=true")
	bin := buildTrayApp(t)
	xdo := func(args ...string) string {
		t.Helper()
		return desktoptest.Xdotool(t, xdotool, env, args...)
	}

	var log syncbuf.Buffer
	var stopApp func()
	startApp := func() {
		t.Helper()
		fmt.Fprintf(&log, "--- start\n")
		mark := len(log.String())
		stopApp = startTrayApp(t, bin, env, &log)
		if !strings.Contains(log.String()[mark:], "vault=keyring") {
			t.Fatalf("the agent's vault is not in the keyring, so grants cannot survive a restart:\n%s", log.String())
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tokentray-app's log:\n%s", log.String())
			t.Logf("gnome-keyring-daemon's log:\n%s", krLog.String())
		}
	})
	startApp()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := localclient.NewClient(socket)
	conn, err := c.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID, Scopes: []string{"profile"}},
		func(u string) { devstack.Browser(ctx, u) })
	if err != nil {
		t.Fatalf("connect: %v", err)
	}

	dir := t.TempDir()
	for _, name := range []string{"bot.py", "other.py"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(devstack.BotPy+"# "+name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// ask runs a script that asks for the key; the channel gets its output.
	ask := func(script string) <-chan string {
		ch := make(chan string, 1)
		go func() {
			cmd := exec.CommandContext(ctx, python, script, socket, conn.ID)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				out = append(out, []byte("\n(python: "+err.Error()+")")...)
			}
			ch <- string(out)
		}()
		return ch
	}
	answer := func(ch <-chan string) string {
		t.Helper()
		select {
		case out := <-ch:
			return out
		case <-time.After(90 * time.Second):
			t.Fatal("the script got no answer within 90 s")
			return ""
		}
	}
	// prompt waits for the prompt window for script and gives it the
	// keyboard.
	prompt := func(script string) string {
		t.Helper()
		var win string
		waitUntil(t, 30*time.Second, "the prompt window for "+script, func() bool {
			cmd := exec.Command(xdotool, "search", "--onlyvisible", "--name", "^tokentray: allow python.* "+strings.ReplaceAll(script, ".", `\.`)+`\?$`)
			cmd.Env = env
			out, _ := cmd.Output()
			win, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
			return win != ""
		})
		xdo("windowfocus", "--sync", win)
		// The buttons take no input for their first second (promptDelay).
		time.Sleep(promptDelay + 500*time.Millisecond)
		return win
	}
	gone := func(win string) {
		t.Helper()
		waitUntil(t, 10*time.Second, "the prompt window closed", func() bool {
			cmd := exec.Command(xdotool, "search", "--onlyvisible", "--name", "^tokentray: allow ")
			cmd.Env = env
			out, _ := cmd.Output()
			return !strings.Contains(string(out), win)
		})
	}

	// Always, with the keyboard: the focus is on Deny; Shift+Tab moves it to
	// Always, Return presses it.
	bot := ask("bot.py")
	win := prompt("bot.py")
	xdo("key", "--clearmodifiers", "shift+Tab", "Return")
	if out := answer(bot); !strings.Contains(out, "200 OK") || !strings.Contains(out, `"access_key"`) {
		t.Fatalf("bot.py after Always got:\n%s", out)
	}
	gone(win)

	// Another script is asked on its own; Escape denies it.
	other := ask("other.py")
	win = prompt("other.py")
	xdo("key", "--clearmodifiers", "Escape")
	if out := answer(other); !strings.Contains(out, "403") || !strings.Contains(out, `"denied"`) {
		t.Fatalf("other.py after Escape got:\n%s", out)
	}
	gone(win)

	// The grants survive a restart: bot.py passes and other.py is refused,
	// neither asked.
	stopApp()
	startApp()
	if out := answer(ask("bot.py")); !strings.Contains(out, "200 OK") || !strings.Contains(out, `"access_key"`) {
		t.Fatalf("bot.py after a restart got:\n%s", out)
	}
	if out := answer(ask("other.py")); !strings.Contains(out, "403") || !strings.Contains(out, `"denied"`) {
		t.Fatalf("other.py after a restart got:\n%s", out)
	}
	cmd := exec.Command(xdotool, "search", "--name", "^tokentray: allow ")
	cmd.Env = env
	if out, _ := cmd.Output(); strings.TrimSpace(string(out)) != "" {
		t.Fatalf("a prompt window opened after the restart: %s", out)
	}
}

// waitUntil polls ok every 100 ms until it holds, failing t after d.
func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
