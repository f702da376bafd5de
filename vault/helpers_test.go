package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/awnumar/memguard"

	"github.com/tokentray/tokentray/internal/syncbuf"
)

func TestMain(m *testing.M) {
	// Cheap argon2 for tests; files record their own parameters, so this is not a shortcut
	// past anything Open checks.
	defaultKDF = kdfParams{Time: 1, MemoryKiB: 64, Threads: 1}
	if child := os.Getenv(childEnv); child != "" {
		os.Exit(runChild(child))
	}
	code := m.Run()
	memguard.Purge()
	os.Exit(code)
}

// childEnv selects a child role when the test binary re-executes itself.
const childEnv = "VAULT_TEST_CHILD"

// quickExit keeps a child built with -race from sleeping a second at exit (the
// race runtime's atexit_sleep_ms) while its parent waits for it.
const quickExit = "GORACE=atexit_sleep_ms=0"

// runChild runs one child role and returns its exit code.
func runChild(role string) int {
	switch role {
	case "killloop":
		return killChild()
	case "nobus":
		return noBusChild()
	case "nosessionbus":
		return noSessionBusChild()
	case "locked":
		return lockedChild()
	}
	fmt.Fprintf(os.Stderr, "unknown child role %q\n", role)
	return 2
}

// memKeyring is an in-memory Keyring that entries every call.
type memKeyring struct {
	mu    sync.Mutex
	items map[string]string // service + "/" + user → secret
	calls []string          // "get service/user", "set service/user"
}

func newMemKeyring() *memKeyring { return &memKeyring{items: map[string]string{}} }

func (k *memKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, "get "+service+"/"+user)
	s, ok := k.items[service+"/"+user]
	if !ok {
		return "", ErrItemNotFound
	}
	return s, nil
}

func (k *memKeyring) Set(service, user, password string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, "set "+service+"/"+user)
	k.items[service+"/"+user] = password
	return nil
}

func (k *memKeyring) item(id string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.items[keyringService+"/"+keyringAccount(id)]
	return s, ok
}

func (k *memKeyring) setItem(id, secret string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.items[keyringService+"/"+keyringAccount(id)] = secret
}

func (k *memKeyring) deleteItem(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.items, keyringService+"/"+keyringAccount(id))
}

func (k *memKeyring) callLog() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.calls)
}

// fileKeyring is a Keyring kept in a JSON file, so a parent and a child process share it.
type fileKeyring struct{ path string }

func (k fileKeyring) load() (map[string]string, error) {
	m := map[string]string{}
	b, err := os.ReadFile(k.path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	return m, json.Unmarshal(b, &m)
}

func (k fileKeyring) Get(service, user string) (string, error) {
	m, err := k.load()
	if err != nil {
		return "", err
	}
	s, ok := m[service+"/"+user]
	if !ok {
		return "", ErrItemNotFound
	}
	return s, nil
}

func (k fileKeyring) Set(service, user, password string) error {
	m, err := k.load()
	if err != nil {
		return err
	}
	m[service+"/"+user] = password
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Dir(k.path), filepath.Base(k.path), b)
}

// errKeyring fails every call with err.
type errKeyring struct{ err error }

func (k errKeyring) Get(service, user string) (string, error) { return "", k.err }
func (k errKeyring) Set(service, user, password string) error { return k.err }

// blockingKeyring never answers until release is closed, like an unanswered unlock prompt.
type blockingKeyring struct{ release chan struct{} }

func (k blockingKeyring) Get(service, user string) (string, error) {
	<-k.release
	return "", ErrKeyringLocked
}

func (k blockingKeyring) Set(service, user, password string) error {
	<-k.release
	return ErrKeyringLocked
}

// testLogger returns a debug-level logger writing into the returned buffer.
func testLogger() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// openT opens a vault and closes it at cleanup.
func openT(t testing.TB, opts Options) *Vault {
	t.Helper()
	v, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// secret makes an enclave from a string (test data only).
func secret(s string) *memguard.Enclave { return memguard.NewEnclave([]byte(s)) }

// reveal opens an enclave into a string (test data only).
func reveal(t testing.TB, e *memguard.Enclave) string {
	t.Helper()
	lb, err := e.Open()
	if err != nil {
		t.Fatalf("open enclave: %v", err)
	}
	defer lb.Destroy()
	return string(lb.Bytes())
}

// plainEntry is a Entry with its secrets revealed, for comparisons.
type plainEntry struct {
	Meta    string
	Secrets map[string]string
}

func plain(t testing.TB, r Entry) plainEntry {
	t.Helper()
	p := plainEntry{Meta: string(r.Meta), Secrets: map[string]string{}}
	for name, e := range r.Secrets {
		p.Secrets[name] = reveal(t, e)
	}
	return p
}

// snapshot returns every entry of v, revealed.
func snapshot(t testing.TB, v *Vault) map[string]plainEntry {
	t.Helper()
	out := map[string]plainEntry{}
	for _, k := range v.Keys("") {
		r, ok := v.Get(k)
		if !ok {
			t.Fatalf("Get(%q) after Keys: missing", k)
		}
		out[k] = plain(t, r)
	}
	return out
}

// dirFiles lists the names in dir, sorted.
func dirFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// readFile reads a file or fails the test.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
