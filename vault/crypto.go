package vault

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/awnumar/memguard"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// keyLen is the size of the vault key (XChaCha20-Poly1305).
const keyLen = chacha20poly1305.KeySize

// defaultKDF is argon2id's cost for new passphrase vaults (RFC 9106 §4, second
// recommended option: t=3, 64 MiB). Tests lower it; files record their own.
var defaultKDF = kdfParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// newKDFParams returns defaultKDF with a fresh random salt.
func newKDFParams() kdfParams {
	p := defaultKDF
	if _, err := rand.Read(p.Salt[:]); err != nil {
		panic(fmt.Sprintf("vault: crypto/rand: %v", err)) // crypto/rand never fails on Linux
	}
	return p
}

// deriveKey runs argon2id over the passphrase. argon2.IDKey returns its output on the Go
// heap (no way around it in x/crypto); the slice is moved into an enclave and wiped at once.
func deriveKey(passphrase []byte, p kdfParams) *memguard.Enclave {
	k := argon2.IDKey(passphrase, p.Salt[:], p.Time, p.MemoryKiB, p.Threads, keyLen)
	return memguard.NewEnclave(k) // wipes k
}

// keyCheck returns the header's key check value for key (a one-way function of it).
func keyCheck(key []byte) [checkLen]byte {
	h := sha256.New()
	h.Write([]byte("tokentray vault key check v1"))
	h.Write(key)
	var out [checkLen]byte
	copy(out[:], h.Sum(nil))
	return out
}

// withKey opens the key enclave for the duration of fn.
func withKey(key *memguard.Enclave, fn func(k []byte) error) error {
	lb, err := key.Open()
	if err != nil {
		return fmt.Errorf("open vault key: %w", err)
	}
	defer lb.Destroy()
	return fn(lb.Bytes())
}

// keyMatches reports whether key's check value equals the header's, in constant time.
func keyMatches(key *memguard.Enclave, h *header) (bool, error) {
	var ok bool
	err := withKey(key, func(k []byte) error {
		c := keyCheck(k)
		ok = subtle.ConstantTimeCompare(c[:], h.KeyCheck[:]) == 1
		return nil
	})
	return ok, err
}

// seal encrypts plain under key with h (nonce filled here) as associated data and returns
// the whole file: header ‖ ciphertext.
func seal(key *memguard.Enclave, h header, plain []byte) ([]byte, error) {
	if _, err := rand.Read(h.Nonce[:]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	var file []byte
	err := withKey(key, func(k []byte) error {
		aead, err := chacha20poly1305.NewX(k)
		if err != nil {
			return fmt.Errorf("aead: %w", err)
		}
		ad := h.marshal()
		file = aead.Seal(ad, h.Nonce[:], plain, ad)
		return nil
	})
	return file, err
}

// open decrypts ct into a new LockedBuffer (the plaintext never touches the Go heap) that
// the caller destroys. An authentication failure wraps errCorrupt.
func open(key *memguard.Enclave, h *header, ad, ct []byte) (*memguard.LockedBuffer, error) {
	if len(ct) < chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: truncated ciphertext", errCorrupt)
	}
	n := len(ct) - chacha20poly1305.Overhead
	if n < seedLen+4 {
		return nil, fmt.Errorf("%w: truncated ciphertext", errCorrupt)
	}
	out := memguard.NewBuffer(n)
	err := withKey(key, func(k []byte) error {
		aead, err := chacha20poly1305.NewX(k)
		if err != nil {
			return fmt.Errorf("aead: %w", err)
		}
		dst := out.Bytes()[:0:n] // Open appends in place: capacity n means no reallocation
		p, err := aead.Open(dst, h.Nonce[:], ct, ad)
		if err != nil {
			return fmt.Errorf("%w: authentication failed", errCorrupt)
		}
		if len(p) != n || &p[0] != &out.Bytes()[0] {
			return fmt.Errorf("aead opened outside locked memory")
		}
		return nil
	})
	if err != nil {
		out.Destroy()
		return nil, err
	}
	return out, nil
}
