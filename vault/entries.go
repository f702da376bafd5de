package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/awnumar/memguard"
)

// Entry is what the vault stores under one key: non-secret metadata (JSON, still
// encrypted at rest) and named secrets held in memguard enclaves. The vault shares the enclaves with its
// callers (an enclave is immutable); it copies Meta and the map.
type Entry struct {
	// Meta is any JSON value (or empty); it is not treated as secret in memory.
	Meta json.RawMessage
	// Secrets maps a name to a non-empty secret.
	Secrets map[string]*memguard.Enclave
}

// clone copies the map and metadata of ent (the enclaves are shared).
func (ent Entry) clone() Entry {
	out := Entry{Meta: slices.Clip(slices.Clone(ent.Meta)), Secrets: maps.Clone(ent.Secrets)}
	if out.Secrets == nil {
		out.Secrets = map[string]*memguard.Enclave{}
	}
	return out
}

// validKey checks an entry key: 1–1024 bytes of UTF-8 without control characters.
func validKey(key string) error {
	if key == "" || len(key) > 1024 || !utf8.ValidString(key) ||
		strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("entry key must be 1-1024 bytes of printable UTF-8")
	}
	return nil
}

// validate checks an entry before it is stored; its messages name no secret.
func (ent Entry) validate() error {
	if len(ent.Meta) > 0 && !json.Valid(ent.Meta) {
		return errors.New("entry metadata is not valid JSON")
	}
	if len(ent.Meta) > math.MaxInt32 || len(ent.Secrets) > math.MaxUint16 {
		return errors.New("entry too large")
	}
	for name, e := range ent.Secrets {
		if name == "" || len(name) > math.MaxUint16 {
			return errors.New("secret names must be 1-65535 bytes")
		}
		if e == nil || e.Size() == 0 {
			return fmt.Errorf("secret %q is empty", name)
		}
	}
	return nil
}

// Put stores ent under key, replacing any entry there, and returns once the vault file
// holding it is durably on disk (in ModeMemory: at once). On error nothing changed, in
// memory or on disk.
func (v *Vault) Put(key string, ent Entry) error {
	if err := validKey(key); err != nil {
		return fmt.Errorf("vault: put: %w", err)
	}
	if err := ent.validate(); err != nil {
		return fmt.Errorf("vault: put %q: %w", key, err)
	}
	ent = ent.clone()
	return v.update(func(entries map[string]Entry) bool {
		entries[key] = ent
		return true
	})
}

// Delete removes the entry under key and saves; deleting a missing key does nothing.
// The dropped enclaves become unreadable at the next memguard.Purge.
func (v *Vault) Delete(key string) error {
	return v.update(func(entries map[string]Entry) bool {
		if _, ok := entries[key]; !ok {
			return false
		}
		delete(entries, key)
		return true
	})
}

// update applies change to a copy of the entries, saves the copy, and only then makes it
// current, so readers see only what is on disk.
func (v *Vault) update(change func(map[string]Entry) (changed bool)) error {
	v.saveMu.Lock()
	defer v.saveMu.Unlock()
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return fmt.Errorf("vault: %w", ErrClosed)
	}
	next := maps.Clone(v.entries)
	v.mu.Unlock()
	if !change(next) {
		return nil
	}
	if err := v.save(next); err != nil {
		return err
	}
	v.mu.Lock()
	v.entries = next
	v.mu.Unlock()
	return nil
}

// save writes entries to the vault file atomically and durably. The caller holds saveMu.
func (v *Vault) save(entries map[string]Entry) error {
	if v.mode == ModeMemory {
		return nil
	}
	plain, err := encode(v.device.priv.Load(), entries)
	if err != nil {
		return fmt.Errorf("vault: save: %w", err)
	}
	defer plain.Destroy()
	file, err := seal(v.key, v.hdr, plain.Bytes())
	if err != nil {
		return fmt.Errorf("vault: save: %w", err)
	}
	if err := writeAtomic(v.dir, vaultFile, file); err != nil {
		v.log.Error("vault save failed", "err", err)
		return fmt.Errorf("vault: save: %w", err)
	}
	return nil
}

// Get returns the entry under key and whether there is one. The Entry is a copy; its
// enclaves are shared.
func (v *Vault) Get(key string) (Entry, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	ent, ok := v.entries[key]
	if !ok {
		return Entry{}, false
	}
	return ent.clone(), true
}

// Keys returns the keys that start with prefix, sorted.
func (v *Vault) Keys(prefix string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var keys []string
	for k := range v.entries {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
