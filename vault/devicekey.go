package vault

import (
	"crypto/ed25519"
	"fmt"
	"sync/atomic"

	"github.com/awnumar/memguard"
)

// DeviceKey is the device's Ed25519 key, made on the vault's first open and kept in it.
// The private half lives in an enclave (its first 32 bytes, the seed, are what the vault
// file stores); the relay binds refresh blobs to the public half (docs/relay.md §3).
// Safe for concurrent use.
type DeviceKey struct {
	pub  ed25519.PublicKey
	priv atomic.Pointer[memguard.Enclave] // 64-byte ed25519.PrivateKey (seed ‖ public); nil once destroyed
}

// newDeviceKey makes a fresh key.
func newDeviceKey() *DeviceKey {
	seed := memguard.NewBufferRandom(ed25519.SeedSize)
	defer seed.Destroy()
	k, err := deviceKeyFromBytes(seed.Bytes())
	if err != nil {
		panic(err) // a 32-byte seed always makes a key
	}
	return k
}

// deviceKeyFromSeed builds the key from the seed enclave the vault file holds.
func deviceKeyFromSeed(seed *memguard.Enclave) (*DeviceKey, error) {
	lb, err := seed.Open()
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	defer lb.Destroy()
	return deviceKeyFromBytes(lb.Bytes())
}

// deviceKeyFromBytes expands a seed. ed25519.NewKeyFromSeed returns the private key on the
// Go heap (crypto/ed25519 has no other way); it is sealed into an enclave, which wipes it.
func deviceKeyFromBytes(seed []byte) (*DeviceKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("device key seed is %d bytes", len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := ed25519.PublicKey(append([]byte(nil), priv[ed25519.SeedSize:]...))
	k := &DeviceKey{pub: pub}
	k.priv.Store(memguard.NewEnclave(priv))
	return k, nil
}

// DeviceKey returns the device's signing key.
func (v *Vault) DeviceKey() *DeviceKey { return v.device }

// PublicKey returns the public half (a copy).
func (k *DeviceKey) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), k.pub...)
}

// Sign signs msg with the private key, opened into locked memory for the call only.
// It fails once the vault is closed or memory purged.
//
// Unavoidable heap copy: since Go 1.26 ed25519.Sign caches the expanded key in a weak map
// keyed by the key's address, which panics for memory outside the Go heap (memguard's).
// So the 64-byte key is copied to a Go slice for the call and wiped right after; the
// expanded key the standard library caches for that slice is dropped (not wiped) at the
// next garbage collection. Signing happens once per refresh or revoke, not per request.
func (k *DeviceKey) Sign(msg []byte) ([]byte, error) {
	priv := k.priv.Load()
	if priv == nil {
		return nil, fmt.Errorf("vault: device key: %w", ErrClosed)
	}
	lb, err := priv.Open()
	if err != nil {
		return nil, fmt.Errorf("vault: device key unreadable (memory purged?): %w", err)
	}
	defer lb.Destroy()
	key := make(ed25519.PrivateKey, ed25519.PrivateKeySize)
	copy(key, lb.Bytes())
	defer memguard.WipeBytes(key)
	return ed25519.Sign(key, msg), nil
}

// destroy drops the private key; Sign then fails.
func (k *DeviceKey) destroy() { k.priv.Store(nil) }
