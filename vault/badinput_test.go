package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/awnumar/memguard"
)

// newFilledVault creates a keyring vault in a new folder holding one entry, closes it,
// and returns the folder, the keyring, the vault id and the file's bytes.
func newFilledVault(t *testing.T) (dir string, kr *memKeyring, id string, file []byte) {
	t.Helper()
	dir, kr = t.TempDir(), newMemKeyring()
	v := openT(t, Options{Dir: dir, Keyring: kr})
	if err := v.Put("conn/a", Entry{Secrets: map[string]*memguard.Enclave{"s": secret("v")}}); err != nil {
		t.Fatal(err)
	}
	id = v.ID()
	v.Close()
	return dir, kr, id, readFile(t, filepath.Join(dir, vaultFile))
}

// assertUntouched checks the folder holds exactly the original vault file and the lock.
func assertUntouched(t *testing.T, dir string, file []byte) {
	t.Helper()
	if got := readFile(t, filepath.Join(dir, vaultFile)); !bytes.Equal(got, file) {
		t.Errorf("vault file changed")
	}
	if got, want := dirFiles(t, dir), []string{vaultFile, lockFile}; !reflect.DeepEqual(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
}

// TestKeyringFailuresLeaveFileAlone covers point 4 of the issue: no Secret Service, a
// locked keyring, a keyring that never answers, a cancelled context, a missing or invalid
// key — each a clear error, and the existing vault file untouched.
func TestKeyringFailuresLeaveFileAlone(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name    string
		keyring func(kr *memKeyring, id string) Keyring
		ctx     func() context.Context
		want    error
		say     []string
	}{
		{"no Secret Service", func(*memKeyring, string) Keyring { return errKeyring{ErrNoSecretService} }, nil,
			ErrNoSecretService, []string{"no Secret Service", "passphrase"}},
		{"locked keyring", func(*memKeyring, string) Keyring { return errKeyring{ErrKeyringLocked} }, nil,
			ErrKeyringLocked, []string{"locked", "unlock"}},
		{"unanswered unlock prompt", func(*memKeyring, string) Keyring { return blockingKeyring{release} }, nil,
			ErrKeyringTimeout, []string{"did not answer", "unlock prompt"}},
		{"cancelled context", func(*memKeyring, string) Keyring { return blockingKeyring{release} },
			func() context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			}, context.Canceled, nil},
		{"key missing", func(kr *memKeyring, id string) Keyring { kr.deleteItem(id); return kr }, nil,
			ErrKeyMissing, []string{"tokentray/vault-", "restore", "move"}},
		{"key not base64", func(kr *memKeyring, id string) Keyring { kr.setItem(id, "not base64!"); return kr }, nil,
			ErrKeyMissing, []string{"does not hold a vault key"}},
		{"key of wrong length", func(kr *memKeyring, id string) Keyring {
			kr.setItem(id, base64.StdEncoding.EncodeToString(make([]byte, 16)))
			return kr
		}, nil, ErrKeyMissing, []string{"does not hold a vault key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, kr, id, file := newFilledVault(t)
			orig, _ := kr.item(id)
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			start := time.Now()
			_, err := Open(ctx, Options{Dir: dir, Keyring: tt.keyring(kr, id), KeyringTimeout: 200 * time.Millisecond})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Open took %v despite the 200ms keyring timeout", d)
			}
			for _, s := range tt.say {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			assertUntouched(t, dir, file)
			// Nothing was lost and the lock was released: with the keyring back, the vault
			// opens with its entry.
			kr.setItem(id, orig)
			v := openT(t, Options{Dir: dir, Keyring: kr})
			if r, ok := v.Get("conn/a"); !ok || reveal(t, r.Secrets["s"]) != "v" {
				t.Errorf("entry lost after a keyring failure")
			}
		})
	}
}

// TestNewVaultNeedsAKeyring: with no file and a failing keyring nothing is created.
func TestNewVaultNeedsAKeyring(t *testing.T) {
	for _, want := range []error{ErrNoSecretService, ErrKeyringLocked} {
		t.Run(want.Error()[:20], func(t *testing.T) {
			dir := t.TempDir()
			_, err := Open(context.Background(), Options{Dir: dir, Keyring: errKeyring{want}})
			if !errors.Is(err, want) {
				t.Fatalf("Open = %v, want %v", err, want)
			}
			if got := dirFiles(t, dir); !reflect.DeepEqual(got, []string{lockFile}) {
				t.Errorf("folder holds %v after failed create, want only the lock", got)
			}
		})
	}
}

// TestKeyringItemNeverOverwritten: a new vault whose id already has a keyring item refuses.
func TestKeyringItemNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	kr := &presentKeyring{}
	_, err := Open(context.Background(), Options{Dir: dir, Keyring: kr})
	if !errors.Is(err, ErrKeyringConflict) {
		t.Fatalf("Open = %v, want ErrKeyringConflict", err)
	}
	if kr.sets != 0 {
		t.Errorf("Set called %d times on an existing item, want 0", kr.sets)
	}
}

// presentKeyring claims every item exists.
type presentKeyring struct{ sets int }

func (k *presentKeyring) Get(service, user string) (string, error) { return "c29tZXRoaW5n", nil }
func (k *presentKeyring) Set(service, user, password string) error { k.sets++; return nil }

func TestWrongPassphraseLeavesFileAlone(t *testing.T) {
	dir := t.TempDir()
	v := openT(t, Options{Dir: dir, Mode: ModePassphrase, Passphrase: []byte("right")})
	if err := v.Put("k", Entry{Secrets: map[string]*memguard.Enclave{"s": secret("v")}}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	file := readFile(t, filepath.Join(dir, vaultFile))
	_, err := Open(context.Background(), Options{Dir: dir, Mode: ModePassphrase, Passphrase: []byte("wrong")})
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Open = %v, want ErrWrongPassphrase", err)
	}
	assertUntouched(t, dir, file)
	if _, err := Open(context.Background(), Options{Dir: dir, Mode: ModePassphrase}); err == nil {
		t.Errorf("Open with an empty passphrase succeeded")
	}
	assertUntouched(t, dir, file)
}

func TestModeMismatchLeavesFileAlone(t *testing.T) {
	dir, kr, _, file := newFilledVault(t)
	_, err := Open(context.Background(), Options{Dir: dir, Mode: ModePassphrase, Passphrase: []byte("p"), Keyring: kr})
	if !errors.Is(err, ErrModeMismatch) {
		t.Fatalf("Open = %v, want ErrModeMismatch", err)
	}
	assertUntouched(t, dir, file)
}

func TestNewerVersionIsRefusedUntouched(t *testing.T) {
	dir, kr, _, file := newFilledVault(t)
	newer := bytes.Clone(file)
	newer[len(magic)], newer[len(magic)+1] = 0, formatVersion+1
	if err := os.WriteFile(filepath.Join(dir, vaultFile), newer, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 { // twice: the failed Open released the lock
		_, err := Open(context.Background(), Options{Dir: dir, Keyring: kr})
		var nv *NewerVersionError
		if !errors.As(err, &nv) || nv.Version != formatVersion+1 || nv.Writer != "tokentray (dev)" {
			t.Fatalf("Open = %v, want *NewerVersionError{%d, %q}", err, formatVersion+1, "tokentray (dev)")
		}
		if !strings.Contains(err.Error(), `written by "tokentray (dev)"`) {
			t.Errorf("error %q does not name the writer", err)
		}
		assertUntouched(t, dir, newer)
	}
	// Even a newer file cut short in its writer field is refused, not kept aside.
	short := newer[:len(magic)+4]
	if err := os.WriteFile(filepath.Join(dir, vaultFile), short, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Options{Dir: dir, Keyring: kr})
	var nv *NewerVersionError
	if !errors.As(err, &nv) {
		t.Fatalf("Open(short newer file) = %v, want *NewerVersionError", err)
	}
	assertUntouched(t, dir, short)
}

// TestCorruptFileIsKeptAside covers point 5: a corrupt, truncated or wrong-key file is
// renamed aside intact, reported and logged, and the vault starts empty.
func TestCorruptFileIsKeptAside(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, file []byte, kr *memKeyring, id string) []byte
	}{
		{"empty", func(*testing.T, []byte, *memKeyring, string) []byte { return []byte{} }},
		{"truncated in magic", cut(4)},
		{"truncated in writer", cut(len(magic) + 5)},
		{"truncated in header", cut(len(magic) + 3 + len("tokentray (dev)") + 10)},
		{"truncated after header", func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte { return f[:headerLen(t, f)] }},
		{"truncated ciphertext", func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte { return f[:len(f)-1] }},
		{"extra byte", func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte { return append(bytes.Clone(f), 0) }},
		{"bad magic", flip(0)},
		{"old version 0", func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte {
			f = bytes.Clone(f)
			f[len(magic)+1] = 0
			return f
		}},
		{"unknown mode", func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte {
			f = bytes.Clone(f)
			f[len(magic)+3+len("tokentray (dev)")+idLen] = 9
			return f
		}},
		{"flipped key check", func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte {
			return flip(headerLen(t, f)-nonceLen-1)(t, f, nil, "")
		}},
		{"flipped nonce", func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte {
			return flip(headerLen(t, f)-1)(t, f, nil, "")
		}},
		{"flipped writer (authenticated header)", flip(len(magic) + 4)},
		{"flipped ciphertext", func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte {
			return flip(headerLen(t, f)+3)(t, f, nil, "")
		}},
		{"flipped tag", func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte { return flip(len(f)-1)(t, f, nil, "") }},
		{"wrong key in keyring", func(t *testing.T, f []byte, kr *memKeyring, id string) []byte {
			other := make([]byte, keyLen)
			rand.Read(other)
			kr.setItem(id, base64.StdEncoding.EncodeToString(other))
			return f
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, kr, id, file := newFilledVault(t)
			bad := tt.damage(t, file, kr, id)
			if err := os.WriteFile(filepath.Join(dir, vaultFile), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			log, logs := testLogger()
			v := openT(t, Options{Dir: dir, Keyring: kr, Logger: log})
			if keys := v.Keys(""); len(keys) != 0 {
				t.Errorf("vault after corrupt file holds %v, want empty", keys)
			}
			aside := asideFiles(t, dir)
			if len(aside) != 1 {
				t.Fatalf("kept-aside files = %v, want one", aside)
			}
			if got := readFile(t, filepath.Join(dir, aside[0])); !bytes.Equal(got, bad) {
				t.Errorf("kept-aside file differs from the corrupt file")
			}
			n := v.Notices()
			if len(n) != 1 || !strings.Contains(n[0], "kept aside as "+filepath.Join(dir, aside[0])) {
				t.Errorf("Notices() = %q, want one naming %s", n, aside[0])
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "kept aside") {
				t.Errorf("corrupt file not logged: %q", logs.String())
			}
			// The new vault works and survives a reopen; the old keyring item is kept.
			if err := v.Put("new", Entry{Secrets: map[string]*memguard.Enclave{"s": secret("x")}}); err != nil {
				t.Fatal(err)
			}
			if v.ID() == id {
				t.Errorf("fresh vault reuses the old id")
			}
			if _, ok := kr.item(id); !ok {
				t.Errorf("old keyring item was removed")
			}
			v.Close()
			v2 := openT(t, Options{Dir: dir, Keyring: kr})
			if got := v2.Keys(""); !reflect.DeepEqual(got, []string{"new"}) {
				t.Errorf("reopened fresh vault holds %v, want [new]", got)
			}
		})
	}
}

// TestCorruptPassphraseFileIsKeptAside: the right passphrase over damaged ciphertext is
// corruption, not a wrong passphrase.
func TestCorruptPassphraseFileIsKeptAside(t *testing.T) {
	dir := t.TempDir()
	v := openT(t, Options{Dir: dir, Mode: ModePassphrase, Passphrase: []byte("p")})
	v.Close()
	f := readFile(t, filepath.Join(dir, vaultFile))
	f[len(f)-1] ^= 1
	if err := os.WriteFile(filepath.Join(dir, vaultFile), f, 0o600); err != nil {
		t.Fatal(err)
	}
	v2 := openT(t, Options{Dir: dir, Mode: ModePassphrase, Passphrase: []byte("p")})
	if len(asideFiles(t, dir)) != 1 || len(v2.Notices()) != 1 {
		t.Errorf("corrupt passphrase vault not kept aside: files %v, notices %q", dirFiles(t, dir), v2.Notices())
	}
}

// cut returns a damage function truncating the file to n bytes.
func cut(n int) func(*testing.T, []byte, *memKeyring, string) []byte {
	return func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte { return bytes.Clone(f[:n]) }
}

// flip returns a damage function flipping one bit of byte i.
func flip(i int) func(*testing.T, []byte, *memKeyring, string) []byte {
	return func(t *testing.T, f []byte, _ *memKeyring, _ string) []byte {
		f = bytes.Clone(f)
		f[i] ^= 0x01
		return f
	}
}

// headerLen returns the length of the file's header.
func headerLen(t *testing.T, f []byte) int {
	t.Helper()
	_, n, err := parseHeader(f)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// asideFiles lists the kept-aside files in dir.
func asideFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range dirFiles(t, dir) {
		if strings.HasPrefix(n, vaultFile+".corrupt-") {
			out = append(out, n)
		}
	}
	return out
}

func TestKeepAsideNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, want := range []string{"vault.corrupt-20260102T030405Z", "vault.corrupt-20260102T030405Z-2"} {
		if err := os.WriteFile(filepath.Join(dir, vaultFile), []byte{byte(i)}, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := keepAside(dir, vaultFile, now)
		if err != nil || got != filepath.Join(dir, want) {
			t.Fatalf("keepAside #%d = %q, %v, want %q", i, got, err, want)
		}
		if b := readFile(t, got); !bytes.Equal(b, []byte{byte(i)}) {
			t.Errorf("kept-aside file #%d holds %v", i, b)
		}
	}
}
