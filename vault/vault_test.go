package vault

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/awnumar/memguard"
)

func TestPutGetSurvivesReopen(t *testing.T) {
	dir, kr := t.TempDir(), newMemKeyring()
	v := openT(t, Options{Dir: dir, Keyring: kr})
	want := map[string]plainEntry{
		"conn/a":   {Meta: `{"label":"Alice's EXchange"}`, Secrets: map[string]string{"access_key": "AK1", "secret_key": "SK1", "refresh": "blob"}},
		"conn/b":   {Meta: `[1,2,3]`, Secrets: map[string]string{"access_token": "tok"}},
		"settings": {Meta: `{"refresh_margin":"5m"}`, Secrets: map[string]string{}},
	}
	for k, p := range want {
		ent := Entry{Meta: json.RawMessage(p.Meta), Secrets: map[string]*memguard.Enclave{}}
		for n, s := range p.Secrets {
			ent.Secrets[n] = secret(s)
		}
		if err := v.Put(k, ent); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	pub := v.DeviceKey().PublicKey()
	id := v.ID()
	if err := v.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	v2 := openT(t, Options{Dir: dir, Keyring: kr})
	if got := snapshot(t, v2); !reflect.DeepEqual(got, want) {
		t.Errorf("after reopen entries = %v, want %v", got, want)
	}
	if v2.ID() != id {
		t.Errorf("ID() = %q after reopen, want %q", v2.ID(), id)
	}
	if !pub.Equal(v2.DeviceKey().PublicKey()) {
		t.Errorf("device key changed across reopen")
	}
	msg := []byte("tokentray-proof|refresh|x")
	sig, err := v2.DeviceKey().Sign(msg)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if !ed25519.Verify(pub, msg, sig) {
		t.Errorf("signature does not verify with PublicKey()")
	}
}

func TestKeysDeleteAndIsolation(t *testing.T) {
	dir := t.TempDir()
	kr := newMemKeyring()
	v := openT(t, Options{Dir: dir, Keyring: kr})
	for _, k := range []string{"conn/b", "conn/a", "profile/exchange"} {
		if err := v.Put(k, Entry{Secrets: map[string]*memguard.Enclave{"s": secret(k)}}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := v.Keys("conn/"), []string{"conn/a", "conn/b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys(%q) = %v, want %v", "conn/", got, want)
	}
	// The caller's map is copied: changing it later changes nothing stored.
	ent, _ := v.Get("conn/a")
	ent.Secrets["other"] = secret("x")
	if again, _ := v.Get("conn/a"); len(again.Secrets) != 1 {
		t.Errorf("Get returned shared map: %d secrets, want 1", len(again.Secrets))
	}
	if err := v.Delete("conn/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := v.Delete("conn/missing"); err != nil {
		t.Errorf("Delete(missing) = %v, want nil", err)
	}
	v.Close()
	v2 := openT(t, Options{Dir: dir, Keyring: kr})
	if got, want := v2.Keys(""), []string{"conn/b", "profile/exchange"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after delete and reopen Keys = %v, want %v", got, want)
	}
}

func TestPutRejectsBadInputAndKeepsState(t *testing.T) {
	dir := t.TempDir()
	v := openT(t, Options{Dir: dir, Keyring: newMemKeyring()})
	if err := v.Put("conn/a", Entry{Meta: json.RawMessage(`{"n":1}`), Secrets: map[string]*memguard.Enclave{"k": secret("v")}}); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, filepath.Join(dir, vaultFile))
	tests := []struct {
		name string
		key  string
		ent  Entry
		want string
	}{
		{"empty key", "", Entry{}, "entry key"},
		{"control character in key", "conn/\n", Entry{}, "entry key"},
		{"invalid UTF-8 key", "conn/\xff", Entry{}, "entry key"},
		{"meta not JSON", "conn/a", Entry{Meta: json.RawMessage(`{"n":`)}, "not valid JSON"},
		{"empty secret name", "conn/a", Entry{Secrets: map[string]*memguard.Enclave{"": secret("v")}}, "secret names"},
		{"nil secret", "conn/a", Entry{Secrets: map[string]*memguard.Enclave{"k": nil}}, `secret "k" is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Put(tt.key, tt.ent)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Put(%q) = %v, want error containing %q", tt.key, err, tt.want)
			}
			got, _ := v.Get("conn/a")
			if p := plain(t, got); p.Meta != `{"n":1}` || p.Secrets["k"] != "v" {
				t.Errorf("entry changed after rejected Put: %v", p)
			}
			if after := readFile(t, filepath.Join(dir, vaultFile)); string(after) != string(before) {
				t.Errorf("vault file rewritten by a rejected Put")
			}
		})
	}
}

func TestPermissionsAndNoLeftovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// A temp file left by a writer that died mid-save is cleaned up on open.
	if err := os.WriteFile(filepath.Join(dir, tempPrefix+"123"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	v := openT(t, Options{Dir: dir, Keyring: newMemKeyring()})
	if err := v.Put("k", Entry{Secrets: map[string]*memguard.Enclave{"s": secret("v")}}); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {filepath.Join(dir, vaultFile), 0o600}, {filepath.Join(dir, lockFile), 0o600}}
	for _, c := range checks {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != c.want {
			t.Errorf("mode of %s = %v, want %v", filepath.Base(c.path), fi.Mode().Perm(), c.want)
		}
	}
	if got, want := dirFiles(t, dir), []string{vaultFile, lockFile}; !reflect.DeepEqual(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
}

func TestMemoryModePersistsNothing(t *testing.T) {
	dir := t.TempDir()
	log, logs := testLogger()
	kr := newMemKeyring()
	v := openT(t, Options{Dir: dir, Mode: ModeMemory, Keyring: kr, Logger: log})
	if err := v.Put("conn/a", Entry{Secrets: map[string]*memguard.Enclave{"s": secret("v")}}); err != nil {
		t.Fatal(err)
	}
	if r, ok := v.Get("conn/a"); !ok || reveal(t, r.Secrets["s"]) != "v" {
		t.Errorf("memory vault lost an entry it holds")
	}
	if got, want := dirFiles(t, dir), []string{lockFile}; !reflect.DeepEqual(got, want) {
		t.Errorf("memory vault wrote %v, want only %v", got, want)
	}
	if calls := kr.callLog(); len(calls) != 0 {
		t.Errorf("memory vault used the keyring: %v", calls)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "memory-only") {
		t.Errorf("memory mode not said loudly in the log: %q", logs.String())
	}
	if n := v.Notices(); len(n) != 1 || !strings.Contains(n[0], "nothing is saved") {
		t.Errorf("Notices() = %q, want the memory-only notice", n)
	}
	if _, err := v.DeviceKey().Sign([]byte("m")); err != nil {
		t.Errorf("memory vault device key: %v", err)
	}
}

func TestPassphraseMode(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("correct horse")
	v, err := Open(context.Background(), Options{Dir: dir, Mode: ModePassphrase, Passphrase: pass})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for i, c := range pass {
		if c != 0 {
			t.Fatalf("passphrase byte %d not wiped after Open", i)
		}
	}
	if err := v.Put("conn/a", Entry{Secrets: map[string]*memguard.Enclave{"s": secret("v")}}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	v2 := openT(t, Options{Dir: dir, Mode: ModePassphrase, Passphrase: []byte("correct horse")})
	if r, ok := v2.Get("conn/a"); !ok || reveal(t, r.Secrets["s"]) != "v" {
		t.Errorf("passphrase vault lost its entry")
	}
}

func TestSecondOpenerIsRefused(t *testing.T) {
	dir := t.TempDir()
	kr := newMemKeyring()
	v := openT(t, Options{Dir: dir, Keyring: kr})
	_, err := Open(context.Background(), Options{Dir: dir, Keyring: kr})
	var running *AlreadyRunningError
	if !errors.As(err, &running) || running.PID != os.Getpid() {
		t.Fatalf("second Open = %v, want *AlreadyRunningError{PID: %d}", err, os.Getpid())
	}
	if want := "already running (pid "; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	v.Close()
	v2, err := Open(context.Background(), Options{Dir: dir, Keyring: kr})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	v2.Close()
}

func TestClosedVault(t *testing.T) {
	v := openT(t, Options{Dir: t.TempDir(), Keyring: newMemKeyring()})
	dk := v.DeviceKey()
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := v.Put("k", Entry{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close = %v, want ErrClosed", err)
	}
	if _, err := dk.Sign([]byte("m")); !errors.Is(err, ErrClosed) {
		t.Errorf("Sign after Close = %v, want ErrClosed", err)
	}
	if keys := v.Keys(""); len(keys) != 0 {
		t.Errorf("Keys after Close = %v, want none", keys)
	}
}

func TestDefaultDir(t *testing.T) {
	tests := []struct {
		name, home, xdg, want string
	}{
		{"TOKENTRAY_HOME wins", "/th", "/xdg", "/th"},
		{"XDG_DATA_HOME", "", "/xdg", "/xdg/tokentray"},
		{"relative XDG_DATA_HOME ignored", "", "rel", "/h/.local/share/tokentray"},
		{"home", "", "", "/h/.local/share/tokentray"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TOKENTRAY_HOME", tt.home)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			t.Setenv("HOME", "/h")
			if got, err := defaultDir(); err != nil || got != tt.want {
				t.Errorf("defaultDir() = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}
