package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/awnumar/memguard"
)

// Vault is an open vault. Its methods are safe for concurrent use; saves are serialized,
// and reads never wait for a save's fsync.
type Vault struct {
	log    *slog.Logger
	dir    string
	mode   Mode
	writer string
	kr     timeoutKeyring
	lock   *pidLock
	device *DeviceKey // immutable after Open

	saveMu sync.Mutex        // serializes saves and Close; guards the fields below
	key    *memguard.Enclave // the vault key; nil in ModeMemory
	hdr    header

	mu      sync.Mutex // guards the fields below
	entries map[string]Entry
	notices []string
	closed  bool
}

// Open takes the vault's lock in opts.Dir and loads the vault, creating it (and its
// keyring item) on first use. A second opener gets *AlreadyRunningError. ctx bounds the
// keyring calls together with opts.KeyringTimeout. See the package doc for what each
// failure does to the file.
func Open(ctx context.Context, opts Options) (*Vault, error) {
	defer memguard.WipeBytes(opts.Passphrase)
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ensureDir(opts.Dir); err != nil {
		return nil, err
	}
	lock, err := acquireLock(opts.Dir)
	if err != nil {
		return nil, err
	}
	v := &Vault{
		log:     opts.Logger.With("component", "vault", "dir", opts.Dir),
		dir:     opts.Dir,
		mode:    opts.Mode,
		writer:  opts.Writer,
		kr:      timeoutKeyring{inner: opts.Keyring, timeout: opts.KeyringTimeout},
		lock:    lock,
		entries: map[string]Entry{},
	}
	if err := v.load(ctx, opts.Passphrase); err != nil {
		lock.release()
		return nil, err
	}
	return v, nil
}

// load fills v from the vault file, or starts a new vault.
func (v *Vault) load(ctx context.Context, passphrase []byte) error {
	if v.mode == ModeMemory {
		v.device = newDeviceKey()
		msg := "the vault is memory-only: nothing is saved, every connection is lost when tokentray stops"
		v.log.Warn(msg)
		v.notices = append(v.notices, msg)
		return nil
	}
	if err := removeStaleTemps(v.dir); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	path := filepath.Join(v.dir, vaultFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		v.log.Info("creating a new vault", "mode", v.mode)
		return v.create(ctx, passphrase)
	}
	if err != nil {
		return fmt.Errorf("vault: read: %w", err)
	}
	err = v.decrypt(ctx, data, passphrase)
	if !errors.Is(err, errCorrupt) {
		return err
	}
	aside, kerr := keepAside(v.dir, vaultFile, time.Now())
	if kerr != nil {
		return fmt.Errorf("vault: %w (and %w)", err, kerr)
	}
	msg := fmt.Sprintf("the vault file could not be read (%v); it was kept aside as %s and tokentray starts with an empty vault", err, aside)
	v.log.Error(msg)
	v.notices = append(v.notices, msg)
	return v.create(ctx, passphrase)
}

// decrypt opens an existing file's data into v. errCorrupt means: keep it aside. Any
// other error leaves the file alone.
func (v *Vault) decrypt(ctx context.Context, data, passphrase []byte) error {
	h, n, err := parseHeader(data)
	if err != nil {
		return err // *NewerVersionError or errCorrupt
	}
	want := byte(modeByteKeyring)
	if v.mode == ModePassphrase {
		want = modeBytePassphrase
	}
	if h.Mode != want {
		return fmt.Errorf("vault: %w: the file is a %s vault, asked to open it as a %s vault", ErrModeMismatch, fileModeName(h.Mode), v.mode)
	}
	var key *memguard.Enclave
	if v.mode == ModePassphrase {
		key = deriveKey(passphrase, h.KDF)
	} else if key, err = v.keyringKey(ctx, h.ID); err != nil {
		return err
	}
	ok, err := keyMatches(key, &h)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	if !ok && v.mode == ModePassphrase {
		return fmt.Errorf("vault: %w (the file was not touched)", ErrWrongPassphrase)
	}
	if !ok {
		return fmt.Errorf("%w: the keyring's key for vault %x does not match the file", errCorrupt, h.ID)
	}
	plain, err := open(key, &h, data[:n], data[n:])
	if err != nil {
		return err
	}
	defer plain.Destroy()
	device, entries, err := decode(plain.Bytes())
	if err != nil {
		return err
	}
	v.key, v.hdr, v.entries = key, h, entries
	v.device, err = deviceKeyFromSeed(device)
	if err != nil {
		return fmt.Errorf("%w: %w", errCorrupt, err)
	}
	v.log.Info("vault opened", "mode", v.mode, "id", hex.EncodeToString(h.ID[:]), "entries", len(entries))
	return nil
}

// keyringKey reads the vault key of vault id from the keyring.
func (v *Vault) keyringKey(ctx context.Context, id [idLen]byte) (*memguard.Enclave, error) {
	account := keyringAccount(hex.EncodeToString(id[:]))
	s, err := v.kr.get(ctx, keyringService, account)
	if errors.Is(err, ErrItemNotFound) {
		return nil, fmt.Errorf("vault: %w (keyring item %s/%s, file %s): restore that keyring item, or move the file away to start an empty vault",
			ErrKeyMissing, keyringService, account, filepath.Join(v.dir, vaultFile))
	}
	if err != nil {
		return nil, fmt.Errorf("vault: read key %s/%s: %w", keyringService, account, err)
	}
	// base64 decoding of a Go string: s cannot be wiped (see Keyring); raw is.
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != keyLen {
		memguard.WipeBytes(raw)
		return nil, fmt.Errorf("vault: %w: keyring item %s/%s does not hold a vault key; restore it, or move %s away to start an empty vault",
			ErrKeyMissing, keyringService, account, filepath.Join(v.dir, vaultFile))
	}
	return memguard.NewEnclave(raw), nil // wipes raw
}

// create starts an empty vault with a new id and key and saves it.
func (v *Vault) create(ctx context.Context, passphrase []byte) error {
	h := header{Version: formatVersion, Writer: v.writer}
	if _, err := rand.Read(h.ID[:]); err != nil {
		return fmt.Errorf("vault: id: %w", err)
	}
	var key *memguard.Enclave
	switch v.mode {
	case ModePassphrase:
		h.Mode, h.KDF = modeBytePassphrase, newKDFParams()
		key = deriveKey(passphrase, h.KDF)
	default:
		h.Mode = modeByteKeyring
		var err error
		if key, err = v.newKeyringKey(ctx, h.ID); err != nil {
			return err
		}
	}
	if err := withKey(key, func(k []byte) error { h.KeyCheck = keyCheck(k); return nil }); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	v.key, v.hdr, v.entries = key, h, map[string]Entry{}
	if v.device == nil {
		v.device = newDeviceKey()
	}
	if err := v.save(v.entries); err != nil {
		return err
	}
	v.log.Info("vault created", "mode", v.mode, "id", hex.EncodeToString(h.ID[:]))
	return nil
}

// newKeyringKey creates the keyring item of a new vault: Get first, and refuse if the item
// exists — a keyring item is never overwritten.
func (v *Vault) newKeyringKey(ctx context.Context, id [idLen]byte) (*memguard.Enclave, error) {
	account := keyringAccount(hex.EncodeToString(id[:]))
	_, err := v.kr.get(ctx, keyringService, account)
	if err == nil {
		return nil, fmt.Errorf("vault: %w (%s/%s)", ErrKeyringConflict, keyringService, account)
	}
	if !errors.Is(err, ErrItemNotFound) {
		return nil, fmt.Errorf("vault: check key %s/%s: %w", keyringService, account, err)
	}
	key := memguard.NewBufferRandom(keyLen)
	// The keyring API takes a Go string: this base64 copy cannot be wiped (see Keyring).
	if err := v.kr.set(ctx, keyringService, account, base64.StdEncoding.EncodeToString(key.Bytes())); err != nil {
		key.Destroy()
		return nil, fmt.Errorf("vault: store key %s/%s: %w", keyringService, account, err)
	}
	return key.Seal(), nil // destroys the buffer
}

// fileModeName names a header mode byte.
func fileModeName(m byte) string {
	switch m {
	case modeByteKeyring:
		return ModeKeyring.String()
	case modeBytePassphrase:
		return ModePassphrase.String()
	}
	return fmt.Sprintf("mode-%d", m)
}

// Close saves nothing (every change is already saved), drops the entries and the device
// key and releases the lock. The caller then calls memguard.Purge from its stop path,
// which makes every enclave the vault handed out unreadable. Close is idempotent.
func (v *Vault) Close() error {
	v.saveMu.Lock()
	defer v.saveMu.Unlock()
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return nil
	}
	v.closed = true
	v.entries = nil
	v.mu.Unlock()
	v.key = nil
	if v.device != nil {
		v.device.destroy()
	}
	return v.lock.release()
}

// Notices returns messages the user should see once, e.g. that a corrupt vault file was
// kept aside or that the vault is memory-only.
func (v *Vault) Notices() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.notices...)
}

// ID returns the vault id: the keyring item is "tokentray" / "vault-" + ID. Empty for a
// memory-only vault.
func (v *Vault) ID() string {
	if v.mode == ModeMemory {
		return ""
	}
	return hex.EncodeToString(v.hdr.ID[:])
}

// Dir returns the vault's folder.
func (v *Vault) Dir() string { return v.dir }

// Mode returns the vault's mode.
func (v *Vault) Mode() Mode { return v.mode }
