package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awnumar/memguard"
	"github.com/zalando/go-keyring"
)

// TestCanary puts a unique marker in secrets, metadata and the passphrase, drives the vault
// through saves, reopens, a rejected Put and a corrupt file, then scans every file of the
// folder, the captured logs, notices, error texts and the raw keyring item: the marker
// must appear nowhere in plaintext (raw, hex or base64).
func TestCanary(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		kr   func(t *testing.T) (Keyring, func(id string) string)
	}{
		{"keyring fake", ModeKeyring, func(t *testing.T) (Keyring, func(string) string) {
			kr := newMemKeyring()
			return kr, func(id string) string { s, _ := kr.item(id); return s }
		}},
		{"passphrase", ModePassphrase, func(t *testing.T) (Keyring, func(string) string) {
			return errKeyring{ErrNoSecretService}, func(string) string { return "" }
		}},
		{"Secret Service", ModeKeyring, func(t *testing.T) (Keyring, func(string) string) {
			requireSecretService(t)
			return nil, func(id string) string {
				s, err := keyring.Get(keyringService, keyringAccount(id))
				if err != nil {
					t.Fatalf("raw keyring item: %v", err)
				}
				keyring.Delete(keyringService, keyringAccount(id))
				return s
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, rawItem := tt.kr(t)
			runCanary(t, tt.mode, kr, rawItem)
		})
	}
}

func runCanary(t *testing.T, mode Mode, kr Keyring, rawItem func(id string) string) {
	var mb [8]byte
	rand.Read(mb[:])
	marker := "CANARY" + hex.EncodeToString(mb[:])
	dir := t.TempDir()
	log, logs := testLogger()
	var said []string // error texts and notices
	opts := func() Options {
		return Options{Dir: dir, Mode: mode, Keyring: kr, Logger: log, Passphrase: []byte("pass-" + marker)}
	}
	v, err := Open(context.Background(), opts())
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(map[string]string{"label": "label " + marker})
	for _, k := range []string{"conn/a", "conn/b"} {
		if err := v.Put(k, Entry{Meta: meta, Secrets: map[string]*memguard.Enclave{
			"access_key": secret("AK-" + marker), "refresh": secret("blob-" + marker)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Put("conn/c", Entry{Meta: json.RawMessage(`{"x":"` + marker), Secrets: map[string]*memguard.Enclave{"s": secret(marker)}}); err != nil {
		said = append(said, err.Error())
	} else {
		t.Fatal("Put with broken JSON metadata succeeded")
	}
	if err := v.Delete("conn/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.DeviceKey().Sign([]byte(marker)); err != nil {
		t.Fatal(err)
	}
	id := v.ID()
	v.Close()
	if mode == ModePassphrase {
		bad := opts()
		bad.Passphrase = []byte("wrong-" + marker)
		if _, err := Open(context.Background(), bad); err == nil {
			t.Fatal("wrong passphrase opened the vault")
		} else {
			said = append(said, err.Error())
		}
	}
	v, err = Open(context.Background(), opts())
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := v.Get("conn/a"); !ok || reveal(t, r.Secrets["access_key"]) != "AK-"+marker {
		t.Fatal("canary entry lost")
	}
	v.Close()
	// A corrupt file: its notice and log line must not leak either.
	f := readFile(t, filepath.Join(dir, vaultFile))
	f[len(f)-1] ^= 1
	if err := os.WriteFile(filepath.Join(dir, vaultFile), f, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err = Open(context.Background(), opts())
	if err != nil {
		t.Fatal(err)
	}
	said = append(said, v.Notices()...)
	newID := v.ID()
	v.Close()

	forms := []string{marker, hex.EncodeToString([]byte(marker)), base64.StdEncoding.EncodeToString([]byte(marker))[:16],
		base64.StdEncoding.EncodeToString([]byte(marker[1:]))[:16], base64.StdEncoding.EncodeToString([]byte(marker[2:]))[:16]}
	scan := func(what string, b []byte) {
		for _, form := range forms {
			if bytes.Contains(b, []byte(form)) {
				t.Errorf("marker found in %s", what)
			}
		}
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		scan(path, []byte(path))
		if !d.IsDir() {
			scan(path, readFile(t, path))
		}
		return nil
	})
	scan("logs", []byte(logs.String()))
	scan("errors and notices", []byte(strings.Join(said, "\n")))
	if mode == ModeKeyring {
		for _, i := range []string{id, newID} {
			item := rawItem(i)
			if len(item) != 44 {
				t.Errorf("keyring item is %d bytes, want 44 (base64 of 32)", len(item))
			}
			scan("keyring item", []byte(item))
		}
	}
	if len(said) == 0 || logs.String() == "" {
		t.Fatal("canary scanned nothing: the test lost its teeth")
	}
}
