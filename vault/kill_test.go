package vault

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/awnumar/memguard"
)

var killRounds = flag.Int("vault.killrounds", 200, "rounds of the SIGKILL test")

// counterEntry is the entry the kill test's child rewrites in a loop.
func counterEntry(n int) Entry {
	return Entry{
		Meta:    json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		Secrets: map[string]*memguard.Enclave{"value": secret(fmt.Sprintf("value-%d", n))},
	}
}

// readCounter returns the counter a vault holds, checking its secret agrees with its meta.
func readCounter(t *testing.T, v *Vault) int {
	t.Helper()
	r, ok := v.Get("counter")
	if !ok {
		t.Fatalf("counter entry missing")
	}
	var m struct{ N int }
	if err := json.Unmarshal(r.Meta, &m); err != nil {
		t.Fatalf("counter meta %q: %v", r.Meta, err)
	}
	if got, want := reveal(t, r.Secrets["value"]), fmt.Sprintf("value-%d", m.N); got != want {
		t.Fatalf("secret %q does not match meta n=%d: a torn write", got, m.N)
	}
	return m.N
}

// TestSIGKILLLeavesOldOrNew runs the package's tests, built without -race, as a child
// that saves in a loop and SIGKILLs it at random moments; after each kill the vault
// must open with the last reported save or the one in flight, never anything else.
func TestSIGKILLLeavesOldOrNew(t *testing.T) {
	child := plainTestBinary(t)
	dir := t.TempDir()
	kr := fileKeyring{path: filepath.Join(t.TempDir(), "keyring.json")}
	v := openT(t, Options{Dir: dir, Keyring: kr, Logger: quiet})
	if err := v.Put("counter", counterEntry(0)); err != nil {
		t.Fatal(err)
	}
	v.Close()

	seed := uint64(time.Now().UnixNano())
	t.Logf("kill test: %d rounds, seed %d", *killRounds, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	current, killedMidOpen, killedMidSaves := 0, 0, 0
	for round := range *killRounds {
		lastSaved, ready := killRound(t, child, dir, kr.path, rng)
		v, err := Open(context.Background(), Options{Dir: dir, Keyring: kr, Logger: quiet})
		if err != nil {
			t.Fatalf("round %d: Open after SIGKILL: %v", round, err)
		}
		got := readCounter(t, v)
		notices := v.Notices()
		v.Close()
		low := max(current, lastSaved)
		if got < low || got > low+1 {
			t.Fatalf("round %d: vault holds n=%d, want %d (last durable) or %d (in flight)", round, got, low, low+1)
		}
		if len(notices) != 0 {
			t.Fatalf("round %d: notices after SIGKILL: %q", round, notices)
		}
		if !ready {
			killedMidOpen++
		} else if got > current {
			killedMidSaves++
		}
		current = got
	}
	if files := dirFiles(t, dir); len(files) != 2 {
		t.Errorf("folder after kill test holds %v, want only the vault and its lock", files)
	}
	t.Logf("kill test: final n=%d; %d kills before the child was ready, %d after it saved", current, killedMidOpen, killedMidSaves)
}

// plainTestBinary builds this package's tests without -race for the kill test's
// many children: a -race binary takes most of a second to start on a busy machine,
// one without it a fraction of that. What a child does (Open, then Put in one
// goroutine until killed) gains nothing from the race detector.
func plainTestBinary(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vault.test")
	if out, err := exec.Command("go", "test", "-c", "-o", path, ".").CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	return path
}

// killRound starts a child, kills it at a random moment and reports the last save it
// announced (-1 if none) and whether it had opened the vault.
func killRound(t *testing.T, child, dir, keyringPath string, rng *rand.Rand) (lastSaved int, ready bool) {
	t.Helper()
	cmd := exec.Command(child)
	cmd.Env = append(os.Environ(), childEnv+"=killloop", "VAULT_KILL_DIR="+dir, "VAULT_KILL_KEYRING="+keyringPath)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var saved atomic.Int64
	saved.Store(-1)
	opening, readyc, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 1 && f[0] == "opening" {
				close(opening)
			}
			if len(f) == 2 && f[0] == "ready" {
				close(readyc)
			}
			if len(f) == 2 && f[0] == "saved" {
				n, _ := strconv.Atoi(f[1])
				saved.Store(int64(n))
			}
		}
	}()
	// One round in five kills while the child may still be opening the vault.
	wait, what := readyc, "ready"
	if rng.IntN(5) == 0 {
		wait, what = opening, "opening"
	}
	select {
	case <-wait:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("child never reported %s", what)
	}
	time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-done
	if err := cmd.Wait(); err == nil {
		t.Fatal("child exited on its own; want it killed")
	}
	select {
	case <-readyc:
		ready = true
	default:
	}
	return int(saved.Load()), ready
}

// killChild opens the vault and saves an increasing counter until killed.
func killChild() int {
	kr := fileKeyring{path: os.Getenv("VAULT_KILL_KEYRING")}
	fmt.Println("opening")
	v, err := Open(context.Background(), Options{Dir: os.Getenv("VAULT_KILL_DIR"), Keyring: kr, Logger: quiet})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 1
	}
	r, _ := v.Get("counter")
	var m struct{ N int }
	if err := json.Unmarshal(r.Meta, &m); err != nil {
		fmt.Fprintln(os.Stderr, "child meta:", err)
		return 1
	}
	fmt.Printf("ready %d\n", m.N)
	for n := m.N + 1; ; n++ {
		if err := v.Put("counter", counterEntry(n)); err != nil {
			fmt.Fprintln(os.Stderr, "child put:", err)
			return 1
		}
		fmt.Printf("saved %d\n", n)
	}
}
