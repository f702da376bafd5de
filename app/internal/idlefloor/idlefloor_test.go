package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/app/internal/desktoptest"
	"github.com/tokentray/tokentray/internal/syncbuf"
)

// TestIdleLoopWakes runs idlefloor -probe with Fyne's real driver on a
// private X server and checks the event loop of third_party/fyne: it goes
// idle (its main thread stops waking 60 times a second), and from idle it
// still applies a fyne.Do from another goroutine, a real click, a real key
// and the end of the program.
func TestIdleLoopWakes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("skipped: reads the main thread's context switches from Linux's /proc")
	}
	if testing.Short() {
		t.Skip("skipped in -short: builds and runs a Fyne program")
	}
	xdotool := desktoptest.Need(t, "xdotool", "xdotool")
	s := desktoptest.Start(t)

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipped: no go command to build idlefloor with")
	}
	bin := filepath.Join(t.TempDir(), "idlefloor")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build idlefloor: %v\n%s", err, out)
	}

	env := s.Env
	probe := exec.Command(bin, "-probe")
	probe.Env = env
	var log syncbuf.Buffer
	probe.Stdout, probe.Stderr = &log, &log
	stdin, err := probe.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := probe.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- probe.Wait() }()
	t.Cleanup(func() {
		stdin.Close()
		probe.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("idlefloor's log:\n%s", log.String())
		}
	})
	pid := probe.Process.Pid

	x := func(args ...string) string {
		t.Helper()
		return desktoptest.Xdotool(t, xdotool, env, args...)
	}
	// waitTitle returns the window titled title, within 30 s.
	waitTitle := func(title string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			cmd := exec.Command(xdotool, "search", "--onlyvisible", "--name", "^"+title+"$")
			cmd.Env = env
			if out, err := cmd.Output(); err == nil && len(strings.Fields(string(out))) > 0 {
				return strings.Fields(string(out))[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no window titled %q within 30 s", title)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// waitIdle waits, 30 s at most, until the main thread (the one Fyne's
	// loop is locked to) sleeps through a whole second but for a few
	// wakes: ticking at 60 Hz, it wakes at least 60 times.
	waitIdle := func(after string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		last := mainThreadSwitches(t, pid)
		for {
			time.Sleep(time.Second)
			now := mainThreadSwitches(t, pid)
			if now-last < 20 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the event loop did not go idle within 30 s (its main thread still woke %d times in a second)", after, now-last)
			}
			last = now
		}
	}

	win := waitTitle("tokentray")
	waitIdle("at the start")

	// A fyne.Do from the goroutine that reads standard input.
	if _, err := fmt.Fprintln(stdin, "set by fyne.Do"); err != nil {
		t.Fatal(err)
	}
	waitTitle("set by fyne.Do")
	waitIdle("after the fyne.Do")

	// A real click on the button, which fills the window.
	x("mousemove", "--window", win, "20", "20", "click", "1")
	waitTitle("pressed 1")
	waitIdle("after the click")

	// A real key.
	x("windowfocus", "--sync", win, "key", "space")
	waitTitle("pressed 2")
	waitIdle("after the key")

	// The end of the input quits through fyne.Do.
	stdin.Close()
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("idlefloor -probe exited: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("idlefloor -probe did not quit within 30 s of the end of its input")
	}
}

// mainThreadSwitches returns how many times the main thread of process pid
// has slept (its voluntary context switches).
func mainThreadSwitches(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, pid))
	if err != nil {
		t.Fatalf("read the main thread's status: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("main thread's %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatal("no voluntary_ctxt_switches in the main thread's status")
	return 0
}
