package appid

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cliSockEnv makes the test binary act as a stand-in tokentray CLI: it
// connects to the socket named there and waits for the other end to close.
const cliSockEnv = "APPID_TEST_CLI_SOCK"

func TestMain(m *testing.M) {
	if sock := os.Getenv(cliSockEnv); sock != "" {
		c, err := net.Dial("unix", sock)
		if err != nil {
			os.Exit(1)
		}
		_, _ = io.Copy(io.Discard, c)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// world is a real Unix socket with processes connecting to it.
type world struct {
	t    *testing.T
	dir  string
	sock string
	ln   *net.UnixListener
	id   *Identifier
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	// A folder anyone may write: files in it are never root's alone.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, dir: dir, sock: sock, ln: ln, id: New(Config{CLIExecutables: []string{self}})}
}

// start runs cmd, with cmd.Env added to the test's environment, and stops
// it at the end of the test.
func (w *world) start(cmd *exec.Cmd) *exec.Cmd {
	w.t.Helper()
	cmd.Env = append(append(os.Environ(), cmd.Env...), cliSockEnv+"="+w.sock)
	if cmd.Dir == "" {
		cmd.Dir = w.dir
	}
	if err := cmd.Start(); err != nil {
		w.t.Fatalf("start %v: %v", cmd.Args, err)
	}
	w.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// accept takes the next connection and pins its peer.
func (w *world) accept() (*net.UnixConn, *Peer) {
	w.t.Helper()
	if err := w.ln.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		w.t.Fatal(err)
	}
	c, err := w.ln.AcceptUnix()
	if err != nil {
		w.t.Fatalf("accept: %v", err)
	}
	w.t.Cleanup(func() { c.Close() })
	p, err := PinConn(c)
	if err != nil {
		w.t.Fatalf("PinConn: %v", err)
	}
	w.t.Cleanup(func() { p.Close() })
	if p.UID != os.Getuid() {
		w.t.Fatalf("peer uid %d, want %d", p.UID, os.Getuid())
	}
	return c, p
}

// identify runs cmd and names the app that connects.
func (w *world) identify(cmd *exec.Cmd) App {
	w.t.Helper()
	w.start(cmd)
	_, p := w.accept()
	app, err := w.id.Identify(p)
	if err != nil {
		w.t.Fatalf("Identify %v: %v", cmd.Args, err)
	}
	return app
}

// write writes a file of the given mode in the world's folder.
func (w *world) write(name, body string, mode os.FileMode) string {
	w.t.Helper()
	path := filepath.Join(w.dir, name)
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// copyExe copies the executable at src into the world's folder.
func (w *world) copyExe(src, name string) string {
	w.t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.write(name, string(b), 0o755)
}

func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	return p
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// realPython is the python3 executable itself, not a wrapper in front of it.
func realPython(t *testing.T) string {
	t.Helper()
	need(t, "python3")
	p, err := findPython()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	return p
}

var findPython = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(strings.TrimSpace(string(out)))
})

const pyConnect = `import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.recv(1)
`

func curlCmd(curl, sock string) *exec.Cmd {
	return exec.Command(curl, "-s", "--max-time", "30", "--unix-socket", sock, "http://agent/v1/status")
}

func TestCurl(t *testing.T) {
	curl := need(t, "curl")
	real, err := filepath.EvalSymlinks(curl)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	app := w.identify(curlCmd(curl, w.sock))
	if app.Kind != Binary || app.Exe != real || app.Name != filepath.Base(real) {
		t.Fatalf("curl: got %v %q %q, want binary %q", app.Kind, app.Exe, app.Name, real)
	}
	var st os.FileInfo
	if st, err = os.Stat(real); err != nil {
		t.Fatal(err)
	}
	if rootOwnedSystem(real) {
		if app.ExeSHA256 != "" || app.Key != BinaryKey(real, "") {
			t.Fatalf("root-owned %s keyed %q, want by path", real, app.Key)
		}
	} else {
		t.Logf("%s (%v) is not root's alone: keyed by content", real, st.Mode())
	}
	if !strings.Contains(app.Describe(), "--unix-socket") {
		t.Fatalf("Describe() lacks the command line:\n%s", app.Describe())
	}
}

// rootOwnedSystem reports whether path is root's alone, for tests that
// may run where /usr is not.
func rootOwnedSystem(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	return fileUID(fi) == 0 && fi.Mode()&0o022 == 0
}

func TestUserWritableBinaryIsKeyedByContent(t *testing.T) {
	curl := need(t, "curl")
	w := newWorld(t)
	copied := w.copyExe(curl, "mycurl")
	app := w.identify(curlCmd(copied, w.sock))
	want := sha(t, copied)
	if app.Kind != Binary || app.Exe != copied || app.ExeSHA256 != want {
		t.Fatalf("copy: got %v %q sha %q, want binary %q sha %q", app.Kind, app.Exe, app.ExeSHA256, copied, want)
	}
	if app.Key != BinaryKey(copied, want) {
		t.Fatalf("key %q, want %q", app.Key, BinaryKey(copied, want))
	}
}

func TestPythonScript(t *testing.T) {
	py := realPython(t)
	w := newWorld(t)
	script := w.write("bot.py", pyConnect, 0o644)
	app := w.identify(exec.Command(py, "bot.py", w.sock))
	if app.Kind != Script || app.Exe != py || app.Script != script {
		t.Fatalf("python: got %v exe %q script %q (%s), want script %q under %q", app.Kind, app.Exe, app.Script, app.Reason, script, py)
	}
	if app.ScriptSHA256 != sha(t, script) || app.Cwd != w.dir {
		t.Fatalf("python: sha %q cwd %q", app.ScriptSHA256, app.Cwd)
	}
	if !strings.HasPrefix(app.Name, "python") || !strings.HasSuffix(app.Name, " bot.py") {
		t.Fatalf("name %q", app.Name)
	}

	// A changed script is another app.
	if err := os.WriteFile(script, []byte(pyConnect+"# changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	again := w.identify(exec.Command(py, "-u", script, w.sock))
	if again.Kind != Script || again.Script != script || again.Key == app.Key {
		t.Fatalf("changed script: got %v key %q, old key %q", again.Kind, again.Key, app.Key)
	}
}

func TestPythonInline(t *testing.T) {
	py := realPython(t)
	w := newWorld(t)
	for _, args := range [][]string{{"-c", pyConnect, w.sock}, {"-uc", pyConnect, w.sock}} {
		app := w.identify(exec.Command(py, args...))
		if app.Kind != Unidentified || app.Grantable() || !strings.Contains(app.Reason, "-c") {
			t.Fatalf("python3 %s: got %v %q, want unidentified (-c)", args[0], app.Kind, app.Reason)
		}
	}
}

func TestBashScriptRunningTheCLI(t *testing.T) {
	bash := need(t, "bash")
	realBash, _ := filepath.EvalSymlinks(bash)
	self, _ := os.Executable()
	w := newWorld(t)
	script := w.write("trade.sh", "#!/bin/sh\n\"$1\" token\necho done\n", 0o755)
	app := w.identify(exec.Command(bash, "trade.sh", self))
	if app.Kind != Script || app.Exe != realBash || app.Script != script {
		t.Fatalf("bash via CLI: got %v exe %q script %q (%s), want bash + %q", app.Kind, app.Exe, app.Script, app.Reason, script)
	}
	t.Logf("%s", app.Describe())
	if app.Via == nil || app.Via.Exe != self {
		t.Fatalf("Via = %+v, want the CLI %q", app.Via, self)
	}

	// The same CLI called through env and sh -c from the script.
	script2 := w.write("trade2.sh", "sh -c 'env \"$0\" token; true' \"$1\"\necho done\n", 0o755)
	app = w.identify(exec.Command(bash, script2, self))
	if app.Kind != Script || app.Script != script2 {
		t.Fatalf("bash via sh -c, env, CLI: got %v script %q (%s), want %q", app.Kind, app.Script, app.Reason, script2)
	}
}

// TestCLIFromInteractiveTerminal types the CLI into an interactive bash on
// a pseudo-terminal: driven by script(1), root's program as a terminal
// emulator is, it is the interactive terminal; driven by a Python script
// (pty.spawn), the script is the app.
func TestCLIFromInteractiveTerminal(t *testing.T) {
	need(t, "bash")
	self, _ := os.Executable()
	typed := "'" + self + "' token; exit\n"
	t.Run("script(1)", func(t *testing.T) {
		scriptCmd := need(t, "script")
		real, _ := filepath.EvalSymlinks(scriptCmd)
		if !rootOwnedSystem(real) {
			t.Skipf("%s is not root's alone", real)
		}
		w := newWorld(t)
		cmd := exec.Command(scriptCmd, "-q", "-c", "bash --norc --noprofile -i", "/dev/null")
		cmd.Stdin = strings.NewReader(typed)
		app := w.identify(cmd)
		if app.Kind != Terminal || app.Key != TerminalKey {
			t.Fatalf("script(1): got %v %q (%s), want terminal", app.Kind, app.Key, app.Reason)
		}
	})
	t.Run("pty.spawn", func(t *testing.T) {
		py := realPython(t)
		w := newWorld(t)
		driver := w.write("drive.py", "import pty\npty.spawn(['bash', '--norc', '--noprofile', '-i'])\n", 0o644)
		cmd := exec.Command(py, driver)
		cmd.Stdin = strings.NewReader(typed)
		app := w.identify(cmd)
		if app.Kind != Script || app.Script != driver {
			t.Fatalf("pty.spawn: got %v %q (%s), want the driving script %s", app.Kind, app.Key, app.Reason, driver)
		}
	})
}

func TestCLIFromPipedShellIsUnidentified(t *testing.T) {
	bash := need(t, "bash")
	self, _ := os.Executable()
	w := newWorld(t)
	cmd := exec.Command(bash)
	cmd.Stdin = strings.NewReader("'" + self + "' token\necho done\n")
	app := w.identify(cmd)
	if app.Kind != Unidentified || !strings.Contains(app.Reason, "standard input") {
		t.Fatalf("piped bash: got %v %q, want unidentified (standard input)", app.Kind, app.Reason)
	}
}

// TestDeletedOrReplacedExecutable: the file a process runs is gone from its
// path (deleted, or another file renamed over it); it is not named by path.
func TestDeletedOrReplacedExecutable(t *testing.T) {
	curl := need(t, "curl")
	for _, tc := range []struct {
		name   string
		change func(w *world, path string) error
		reason string
	}{
		{"deleted", func(w *world, path string) error { return os.Remove(path) }, "deleted"},
		{"replaced", func(w *world, path string) error {
			return os.Rename(w.write("other", "#!/bin/sh\n", 0o755), path)
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			copied := w.copyExe(curl, "exe")
			w.start(curlCmd(copied, w.sock))
			_, p := w.accept()
			if err := tc.change(w, copied); err != nil {
				t.Fatal(err)
			}
			app, err := w.id.Identify(p)
			if err != nil {
				t.Fatal(err)
			}
			if app.Kind != Unidentified || app.Grantable() || !strings.Contains(app.Reason, tc.reason) {
				t.Fatalf("%s: got %v %q, want unidentified", tc.name, app.Kind, app.Key)
			}
		})
	}
}

func TestMemfdExecutable(t *testing.T) {
	py := realPython(t)
	curl := need(t, "curl")
	w := newWorld(t)
	code := `import os, sys
fd = os.memfd_create("x", 0)
os.write(fd, open(sys.argv[1], "rb").read())
os.execve(fd, ["curl", "-s", "--max-time", "30", "--unix-socket", sys.argv[2], "http://a/"], dict(os.environ))
`
	script := w.write("memfd.py", code, 0o644)
	app := w.identify(exec.Command(py, script, curl, w.sock))
	if app.Kind != Unidentified || !strings.Contains(app.Reason, "memfd") {
		t.Fatalf("memfd: got %v %q exe %q, want unidentified (memfd)", app.Kind, app.Reason, app.Exe)
	}
}

func TestLoaderRunExecutable(t *testing.T) {
	curl := need(t, "curl")
	matches, _ := filepath.Glob("/lib64/ld-linux-*.so.*")
	if len(matches) == 0 {
		matches, _ = filepath.Glob("/lib/ld-*.so*")
	}
	if len(matches) == 0 {
		t.Skip("no dynamic loader found")
	}
	w := newWorld(t)
	cmd := curlCmd(curl, w.sock)
	cmd.Args[0] = curl
	app := w.identify(exec.Command(matches[0], cmd.Args...))
	if app.Kind != Unidentified || !strings.Contains(app.Reason, "loader") {
		t.Fatalf("ld.so: got %v %q, want unidentified (loader)", app.Kind, app.Reason)
	}
}

func TestExecAfterConnecting(t *testing.T) {
	py := realPython(t)
	sleep := need(t, "sleep")
	realSleep, _ := filepath.EvalSymlinks(sleep)
	w := newWorld(t)
	code := `import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
os.set_inheritable(s.fileno(), True)
s.recv(1)
os.execv(sys.argv[2], ["sleep", "60"])
`
	script := w.write("execs.py", code, 0o644)
	w.start(exec.Command(py, script, w.sock, realSleep))
	c, p := w.accept()
	first, err := w.id.Identify(p)
	if err != nil || first.Kind != Script || first.Script != script {
		t.Fatalf("before exec: got %v %q (%v)", first.Kind, first.Script, err)
	}
	if same, err := w.id.Recheck(p, first); err != nil || same.Key != first.Key {
		t.Fatalf("Recheck without exec: %q (%v), want %q", same.Key, err, first.Key)
	}
	if _, err := c.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		now, err := w.id.Recheck(p, first)
		if err != nil {
			t.Fatalf("Recheck: %v", err)
		}
		if now.Key != first.Key {
			if now.Kind != Binary || now.Exe != realSleep {
				t.Fatalf("after exec: got %v %q, want binary %q", now.Kind, now.Exe, realSleep)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Recheck still names %q after the exec", first.Name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExitedPeer(t *testing.T) {
	w := newWorld(t)
	cmd := exec.Command(need(t, "sleep"), "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p, err := PinPID(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.Alive() || !p.Weak {
		t.Fatalf("PinPID: alive %v weak %v, want alive and weak", p.Alive(), p.Weak)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if p.Alive() {
		t.Fatal("Alive after the process exited")
	}
	if _, err := w.id.Identify(p); !errors.Is(err, ErrExited) {
		t.Fatalf("Identify of an exited process: %v, want ErrExited", err)
	}
}

// TestExitedPeerBeforeReading covers a peer that goes away between connect
// and identification: even with SO_PEERPIDFD, what /proc says is refused.
func TestExitedPeerBeforeReading(t *testing.T) {
	curl := need(t, "curl")
	w := newWorld(t)
	cmd := w.start(curlCmd(curl, w.sock))
	_, p := w.accept()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := w.id.Identify(p); !errors.Is(err, ErrExited) {
		t.Fatalf("Identify after exit: %v, want ErrExited", err)
	}
}

func fileUID(fi os.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// TestIdentifyFileMatchesTheRunningApp checks that the key a proposal gets
// from the file is the key the running program gets.
func TestIdentifyFileMatchesTheRunningApp(t *testing.T) {
	py := realPython(t)
	curl := need(t, "curl")
	w := newWorld(t)
	script := w.write("bot.py", "#!"+py+"\n"+pyConnect, 0o755)
	running := w.identify(exec.Command(script, w.sock))
	file, err := w.id.IdentifyFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if running.Kind != Script || file.Key != running.Key {
		t.Fatalf("IdentifyFile key %q, running %v key %q (%s)", file.Key, running.Kind, running.Key, running.Reason)
	}

	copied := w.copyExe(curl, "mycurl")
	running = w.identify(curlCmd(copied, w.sock))
	file, err = w.id.IdentifyFile(copied)
	if err != nil || file.Key != running.Key || file.Kind != Binary {
		t.Fatalf("IdentifyFile(%s) = %v %q (%v), running %q", copied, file.Kind, file.Key, err, running.Key)
	}

	env := w.write("envbot.sh", "#!/usr/bin/env -S bash -e\necho\n", 0o755)
	file, err = w.id.IdentifyFile(env)
	if err != nil || file.Kind != Script || filepath.Base(file.Exe) != "bash" {
		t.Fatalf("IdentifyFile(env bash) = %v %q (%v)", file.Kind, file.Exe, err)
	}
	for _, bad := range []string{"relative", filepath.Join(w.dir, "missing"), w.write("awk.txt", "#!/usr/bin/awk -f\n", 0o755)} {
		if app, err := w.id.IdentifyFile(bad); err == nil {
			t.Errorf("IdentifyFile(%s) = %+v, want an error", bad, app)
		}
	}
}

// TestMultiCallBinary: a busybox is as many apps as it has applets. A copy
// of bash named busybox stands in for one; it runs the script whatever its
// argv[0] says.
func TestMultiCallBinary(t *testing.T) {
	bash := need(t, "bash")
	w := newWorld(t)
	bb := w.copyExe(bash, "busybox")
	script := w.write("wait.sh", "sleep 60\n", 0o644)
	identifyPID := func(argv0 string) App {
		t.Helper()
		cmd := w.start(&exec.Cmd{Path: bb, Args: []string{argv0, script}})
		deadline := time.Now().Add(20 * time.Second)
		for {
			// Between fork and exec the child still runs this test's
			// binary; early in exec the new binary is in place while its
			// command line is not yet (the kernel sets it up later). A
			// program that connects to a socket is past both: read the
			// command line first, then identify.
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
			p, err := PinPID(cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			app, err := w.id.Identify(p)
			p.Close()
			if err != nil {
				t.Fatal(err)
			}
			if (app.Exe == bb && strings.HasPrefix(string(cmdline), argv0+"\x00")) || time.Now().After(deadline) {
				return app
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	sh := identifyPID("sh")
	if sh.Kind != Script || sh.Script != script || !strings.Contains(sh.Key, `applet "sh"`) {
		t.Fatalf("busybox as sh: got %v %q (%s)", sh.Kind, sh.Key, sh.Reason)
	}
	wget := identifyPID("wget")
	if wget.Kind != Binary || !strings.Contains(wget.Key, `applet "wget"`) || wget.Name != "busybox wget" {
		t.Fatalf("busybox as wget: got %v %q %q", wget.Kind, wget.Key, wget.Name)
	}
}

// TestConcurrentIdentify races Identify and Recheck on one peer through a
// cold hash cache; run it with -race.
func TestConcurrentIdentify(t *testing.T) {
	curl := need(t, "curl")
	w := newWorld(t)
	copied := w.copyExe(curl, "racecurl")
	w.start(curlCmd(copied, w.sock))
	_, p := w.accept()
	want := BinaryKey(copied, sha(t, copied))
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			app, err := w.id.Identify(p)
			if err == nil {
				app, err = w.id.Recheck(p, app)
			}
			if err != nil || app.Key != want {
				errs <- fmt.Sprintf("key %q (%v), want %q", app.Key, err, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestInjectedEnvironment: an app started with code injected through its
// environment is not named.
func TestInjectedEnvironment(t *testing.T) {
	bash := need(t, "bash")
	curl := need(t, "curl")
	self, _ := os.Executable()
	w := newWorld(t)
	// The preloaded library need not exist: the variable alone is refused.
	cmd := curlCmd(curl, w.sock)
	cmd.Env = []string{"LD_PRELOAD=/nonexistent/evil.so"}
	app := w.identify(cmd)
	if app.Kind != Unidentified || !strings.Contains(app.Reason, "LD_PRELOAD") {
		t.Fatalf("LD_PRELOAD curl: %v %q", app.Kind, app.Reason)
	}

	script := w.write("trade.sh", "\"$1\" token\necho done\n", 0o644)
	cmd = exec.Command(bash, script, self)
	cmd.Env = []string{"BASH_ENV=" + w.write("evil.sh", "true\n", 0o644)}
	app = w.identify(cmd)
	if app.Kind != Unidentified || !strings.Contains(app.Reason, "BASH_ENV") {
		t.Fatalf("bash with BASH_ENV via CLI: %v %q", app.Kind, app.Reason)
	}
}

// TestCLIThroughOtherShells: fish, tcsh, nu, elvish and xonsh running
// `-c 'tokentray token'` are looked through like sh -c, to the script
// that ran them; a shell binary is never the app (a grant to it would let
// any program run `fish -c 'tokentray token'`). A copy of bash under each
// name stands in for the shell; xonsh, a Python program, is also run as the
// python script it is.
func TestCLIThroughOtherShells(t *testing.T) {
	bash := need(t, "bash")
	self, _ := os.Executable()
	w := newWorld(t)
	// "; true": bash would exec a lone command in place of itself.
	script := w.write("trade.sh", "\"$2\" -c '\"$0\" token; true' \"$1\"\necho done\n", 0o644)
	for _, name := range []string{"fish", "tcsh", "csh", "nu", "elvish", "xonsh"} {
		shell := w.copyExe(bash, name)
		app := w.identify(exec.Command(bash, script, self, shell))
		if app.Kind != Script || app.Script != script {
			t.Errorf("%s -c from a bash script: got %v %q (%s), want bash + %s", name, app.Kind, app.Key, app.Reason, script)
		}
	}

	py := realPython(t)
	xonsh := filepath.Join(t.TempDir(), "xonsh")
	if err := os.WriteFile(xonsh, []byte("import subprocess, sys\nsubprocess.run([sys.argv[3], 'token'])\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pyScript := w.write("trade-xonsh.sh", "\""+py+"\" \""+xonsh+"\" -c '\"$0\" token' \"$1\"\necho done\n", 0o644)
	app := w.identify(exec.Command(bash, pyScript, self))
	if app.Kind != Script || app.Script != pyScript {
		t.Fatalf("python3 xonsh -c from a bash script: got %v %q (%s), want bash + %s", app.Kind, app.Key, app.Reason, pyScript)
	}
}

// TestCLIThroughCommandWrappers: timeout, xargs, flock, nice, nohup and
// make in front of the CLI are looked through like env, to the script that
// ran them; a wrapper the user can change is never the app.
func TestCLIThroughCommandWrappers(t *testing.T) {
	bash := need(t, "bash")
	self, _ := os.Executable()
	w := newWorld(t)
	mk := w.write("Makefile", "token:\n\t\"$(CLI)\" token\n", 0o644)
	for _, tc := range []struct{ tool, line string }{
		{"timeout", `timeout 30 "$1" token`},
		{"xargs", `echo token | xargs "$1"`},
		{"flock", `flock "$0.lock" "$1" token`},
		{"nice", `nice -n 1 "$1" token`},
		{"nohup", `nohup "$1" token`},
		{"setsid", `setsid -w "$1" token`},
		{"make", `make -s -f "` + mk + `" CLI="$1" token`},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			path := need(t, tc.tool)
			if real, _ := filepath.EvalSymlinks(path); !rootOwnedSystem(real) || !rootOnly(real, statT(t, real)) {
				t.Skipf("%s is not root's alone", real)
			}
			script := w.write(tc.tool+".sh", tc.line+"\necho done\n", 0o644)
			app := w.identify(exec.Command(bash, script, self))
			if app.Kind != Script || app.Script != script {
				t.Fatalf("%s: got %v %q (%s), want bash + %s", tc.line, app.Kind, app.Key, app.Reason, script)
			}
		})
	}
	t.Run("user's own timeout", func(t *testing.T) {
		copied := w.copyExe(need(t, "timeout"), "timeout")
		script := w.write("own-timeout.sh", "\"$2\" 30 \"$1\" token\necho done\n", 0o644)
		app := w.identify(exec.Command(bash, script, self, copied))
		if app.Kind != Unidentified || app.Grantable() || !strings.Contains(app.Reason, "whatever command") {
			t.Fatalf("a user-writable timeout: got %v %q (%s), want unidentified", app.Kind, app.Key, app.Reason)
		}
	})
}

func statT(t *testing.T, path string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// TestCLIThroughWrapperFromInteractiveTerminal: `timeout 30 tokentray
// token` typed in an interactive shell is the interactive terminal, as the
// CLI typed alone is.
func TestCLIThroughWrapperFromInteractiveTerminal(t *testing.T) {
	need(t, "bash")
	scriptCmd := need(t, "script")
	timeout := need(t, "timeout")
	for _, p := range []string{scriptCmd, timeout} {
		if real, _ := filepath.EvalSymlinks(p); !rootOwnedSystem(real) {
			t.Skipf("%s is not root's alone", real)
		}
	}
	self, _ := os.Executable()
	w := newWorld(t)
	cmd := exec.Command(scriptCmd, "-q", "-c", "bash --norc --noprofile -i", "/dev/null")
	cmd.Stdin = strings.NewReader("timeout 30 '" + self + "' token; exit\n")
	app := w.identify(cmd)
	if app.Kind != Terminal || app.Key != TerminalKey {
		t.Fatalf("timeout in an interactive shell: got %v %q (%s), want terminal", app.Kind, app.Key, app.Reason)
	}
}

// TestIdentifyFileRefusesWhatNoRunningAppMatches: a file a proposal could
// name but no running program would match is refused, saying why: a script
// without #! (it runs as python3 bot.py), a file that is not an executable
// program, a shell, interpreter or command wrapper (a grant would cover any
// command), the CLI, an interpreter that is itself a script.
func TestIdentifyFileRefusesWhatNoRunningAppMatches(t *testing.T) {
	bash := need(t, "bash")
	curl := need(t, "curl")
	self, _ := os.Executable()
	w := newWorld(t)
	// An interpreter that is itself a #! script: the kernel runs its
	// interpreter, which is what the running app is named by.
	w.write("xonsh", "#!/usr/bin/python3\n", 0o755)
	for _, tc := range []struct {
		path, want string
	}{
		{w.write("bot.py", pyConnect, 0o755), "run it once"},
		{w.write("notes.txt", "hello\n", 0o644), "neither an executable program nor a script"},
		{w.write("curl.copy", string(must(os.ReadFile(curl))), 0o644), "neither an executable program"},
		{need(t, "timeout"), "runs whatever command"},
		{need(t, "env"), "runs whatever command"},
		{bash, "interpreter or a shell"},
		{w.copyExe(bash, "fish"), "interpreter or a shell"},
		{self, "tokentray CLI"},
		{w.write("via-shim.xsh", "#!"+filepath.Join(w.dir, "xonsh")+"\n", 0o755), "itself a script"},
	} {
		app, err := w.id.IdentifyFile(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("IdentifyFile(%s) = %v %q, %v; want an error saying %q", tc.path, app.Kind, app.Key, err, tc.want)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestIdentifyProposalUsesTheProposersPATH: a script whose #! runs
// /usr/bin/env bash runs under the bash the proposer's PATH finds; when the
// agent's PATH finds another, a grant confirmed with the agent's would never
// match, so the proposal is refused.
func TestIdentifyProposalUsesTheProposersPATH(t *testing.T) {
	bash := need(t, "bash")
	w := newWorld(t)
	script := w.write("env.sh", "#!/usr/bin/env bash\necho\n", 0o755)
	same := os.Environ()
	if app, err := w.id.IdentifyProposal(script, same); err != nil || app.Kind != Script {
		t.Fatalf("IdentifyProposal with the agent's own PATH: %v %q, %v", app.Kind, app.Key, err)
	}
	other := filepath.Join(w.dir, "bin")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bash)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "bash"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, env := range [][]string{
		{"HOME=/h", "PATH=" + other + ":" + os.Getenv("PATH")},
		{"PATH=.:" + os.Getenv("PATH")},
		{"HOME=/h"},
		nil,
	} {
		app, err := w.id.IdentifyProposal(script, env)
		if err == nil || !strings.Contains(err.Error(), "env") || !strings.Contains(err.Error(), "full path") {
			t.Errorf("IdentifyProposal(env bash, %q) = %v %q, %v; want a refusal", env, app.Kind, app.Key, err)
		}
	}
	// A #! naming the interpreter's path needs no PATH.
	direct := w.write("direct.sh", "#!"+bash+"\necho\n", 0o755)
	if _, err := w.id.IdentifyProposal(direct, nil); err != nil {
		t.Fatalf("IdentifyProposal(#!%s) without an environment: %v", bash, err)
	}
}
