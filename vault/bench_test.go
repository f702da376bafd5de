package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/awnumar/memguard"
)

// quiet drops log lines in benchmarks and the kill test.
var quiet = slog.New(slog.DiscardHandler)

// benchVault opens a keyring vault (in-memory keyring) holding n connection-like entries.
func benchVault(b *testing.B, n int) (string, *memKeyring) {
	b.Helper()
	dir, kr := b.TempDir(), newMemKeyring()
	v, err := Open(context.Background(), Options{Dir: dir, Keyring: kr, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	for i := range n {
		if err := v.Put(fmt.Sprintf("conn/%d", i), connEntry(i)); err != nil {
			b.Fatal(err)
		}
	}
	return dir, kr
}

// connEntry looks like what the agent stores per connection.
func connEntry(i int) Entry {
	meta, _ := json.Marshal(map[string]any{"provider": "exchange", "label": fmt.Sprintf("conn %d", i), "scopes": []string{"profile", "history", "trade"}})
	return Entry{Meta: meta, Secrets: map[string]*memguard.Enclave{
		"access_key": secret("0123456789abcdef0123"), "secret_key": secret("0123456789abcdef0123456789abcdef01234567"),
		"refresh": memguard.NewEnclaveRandom(300),
	}}
}

// BenchmarkOpen opens (and closes) a vault of 10 connections: lock, keyring read, file
// read, AEAD open, parse into enclaves.
func BenchmarkOpen(b *testing.B) {
	dir, kr := benchVault(b, 10)
	opts := Options{Dir: dir, Keyring: kr, Logger: quiet}
	for b.Loop() {
		v, err := Open(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		v.Close()
	}
}

// BenchmarkPut saves one connection into a vault of 10, with fsync of file and folder.
func BenchmarkPut(b *testing.B) {
	dir, kr := benchVault(b, 10)
	v, err := Open(context.Background(), Options{Dir: dir, Keyring: kr, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	ent := connEntry(0)
	for b.Loop() {
		if err := v.Put("conn/0", ent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHotSecretLockedBuffer reads a secret kept open in a LockedBuffer.
func BenchmarkHotSecretLockedBuffer(b *testing.B) {
	lb, err := secret("0123456789abcdef0123456789abcdef01234567").Open()
	if err != nil {
		b.Fatal(err)
	}
	defer lb.Destroy()
	var sink byte
	for b.Loop() {
		sink ^= lb.Bytes()[0]
	}
	_ = sink
}

// BenchmarkHotSecretEnclaveOpen reads a secret by opening its enclave each time.
func BenchmarkHotSecretEnclaveOpen(b *testing.B) {
	e := secret("0123456789abcdef0123456789abcdef01234567")
	var sink byte
	for b.Loop() {
		lb, err := e.Open()
		if err != nil {
			b.Fatal(err)
		}
		sink ^= lb.Bytes()[0]
		lb.Destroy()
	}
	_ = sink
}

// BenchmarkDeviceKeySign signs a refresh proof with the device key.
func BenchmarkDeviceKeySign(b *testing.B) {
	dk := newDeviceKey()
	msg := []byte("tokentray-proof|refresh|0123456789abcdef|1700000000|nonce")
	for b.Loop() {
		if _, err := dk.Sign(msg); err != nil {
			b.Fatal(err)
		}
	}
}
