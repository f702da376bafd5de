package vault

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/awnumar/memguard"
	"github.com/zalando/go-keyring"
)

// requireSecretService skips unless the test runs under scripts/with-secret-service
// (TOKENTRAY_REQUIRE_KEYRING=1), and there fails if the Secret Service does not answer:
// CI must not pass by skipping. Outside the script the user's own keyring is never used.
func requireSecretService(t *testing.T) {
	t.Helper()
	if os.Getenv("TOKENTRAY_REQUIRE_KEYRING") != "1" {
		t.Skip("needs a real Secret Service: run under scripts/with-secret-service (sets TOKENTRAY_REQUIRE_KEYRING=1)")
	}
	_, err := withTimeout(context.Background(), 10*time.Second, func() (string, error) {
		return osKeyring{}.Get(keyringService, "vault-probe-does-not-exist")
	})
	if !errors.Is(err, ErrItemNotFound) {
		t.Fatalf("TOKENTRAY_REQUIRE_KEYRING=1 but the Secret Service does not work: %v", err)
	}
}

// deleteItemAtCleanup removes a test vault's keyring item from the throwaway keyring.
func deleteItemAtCleanup(t *testing.T, id string) {
	t.Cleanup(func() { keyring.Delete(keyringService, keyringAccount(id)) })
}

func TestSecretServiceRoundTrip(t *testing.T) {
	requireSecretService(t)
	dir := t.TempDir()
	v := openT(t, Options{Dir: dir})
	deleteItemAtCleanup(t, v.ID())
	if err := v.Put("conn/a", Entry{Secrets: map[string]*memguard.Enclave{"s": secret("v")}}); err != nil {
		t.Fatal(err)
	}
	id := v.ID()
	v.Close()

	item, err := keyring.Get(keyringService, keyringAccount(id))
	if err != nil {
		t.Fatalf("keyring item %s/%s: %v", keyringService, keyringAccount(id), err)
	}
	if raw, err := base64.StdEncoding.DecodeString(item); err != nil || len(raw) != keyLen {
		t.Errorf("keyring item is not a base64 32-byte key (len %d)", len(item))
	}
	v2 := openT(t, Options{Dir: dir})
	if r, ok := v2.Get("conn/a"); !ok || reveal(t, r.Secrets["s"]) != "v" {
		t.Errorf("entry lost across reopen with the Secret Service")
	}
	if v2.ID() != id {
		t.Errorf("reopen changed the id")
	}
}

func TestSecretServiceKeyMissing(t *testing.T) {
	requireSecretService(t)
	dir := t.TempDir()
	v := openT(t, Options{Dir: dir})
	id := v.ID()
	v.Close()
	file := readFile(t, dir+"/"+vaultFile)
	if err := keyring.Delete(keyringService, keyringAccount(id)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Options{Dir: dir})
	if !errors.Is(err, ErrKeyMissing) {
		t.Fatalf("Open = %v, want ErrKeyMissing", err)
	}
	assertUntouched(t, dir, file)
}
