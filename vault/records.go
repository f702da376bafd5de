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

// Record is one entry of the vault: non-secret metadata (JSON, still encrypted at rest)
// and named secrets held in memguard enclaves. The vault shares the enclaves with its
// callers (an enclave is immutable); it copies Meta and the map.
type Record struct {
	// Meta is any JSON value (or empty); it is not treated as secret in memory.
	Meta json.RawMessage
	// Secrets maps a name to a non-empty secret.
	Secrets map[string]*memguard.Enclave
}

// clone copies the map and metadata of r (the enclaves are shared).
func (r Record) clone() Record {
	out := Record{Meta: slices.Clip(slices.Clone(r.Meta)), Secrets: maps.Clone(r.Secrets)}
	if out.Secrets == nil {
		out.Secrets = map[string]*memguard.Enclave{}
	}
	return out
}

// validKey checks a record key: 1–1024 bytes of UTF-8 without control characters.
func validKey(key string) error {
	if key == "" || len(key) > 1024 || !utf8.ValidString(key) ||
		strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("record key must be 1-1024 bytes of printable UTF-8")
	}
	return nil
}

// validate checks a record before it is stored; its messages name no secret.
func (r Record) validate() error {
	if len(r.Meta) > 0 && !json.Valid(r.Meta) {
		return errors.New("record metadata is not valid JSON")
	}
	if len(r.Meta) > math.MaxInt32 || len(r.Secrets) > math.MaxUint16 {
		return errors.New("record too large")
	}
	for name, e := range r.Secrets {
		if name == "" || len(name) > math.MaxUint16 {
			return errors.New("secret names must be 1-65535 bytes")
		}
		if e == nil || e.Size() == 0 {
			return fmt.Errorf("secret %q is empty", name)
		}
	}
	return nil
}

// Put stores rec under key, replacing any record there, and returns once the vault file
// holding it is durably on disk (in ModeMemory: at once). On error nothing changed, in
// memory or on disk.
func (v *Vault) Put(key string, rec Record) error {
	if err := validKey(key); err != nil {
		return fmt.Errorf("vault: put: %w", err)
	}
	if err := rec.validate(); err != nil {
		return fmt.Errorf("vault: put %q: %w", key, err)
	}
	rec = rec.clone()
	return v.update(func(recs map[string]Record) bool {
		recs[key] = rec
		return true
	})
}

// Delete removes the record under key and saves; deleting a missing key does nothing.
// The dropped enclaves become unreadable at the next memguard.Purge.
func (v *Vault) Delete(key string) error {
	return v.update(func(recs map[string]Record) bool {
		if _, ok := recs[key]; !ok {
			return false
		}
		delete(recs, key)
		return true
	})
}

// update applies change to a copy of the records, saves the copy, and only then makes it
// current, so readers see only what is on disk.
func (v *Vault) update(change func(map[string]Record) (changed bool)) error {
	v.saveMu.Lock()
	defer v.saveMu.Unlock()
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return fmt.Errorf("vault: %w", ErrClosed)
	}
	next := maps.Clone(v.recs)
	v.mu.Unlock()
	if !change(next) {
		return nil
	}
	if err := v.save(next); err != nil {
		return err
	}
	v.mu.Lock()
	v.recs = next
	v.mu.Unlock()
	return nil
}

// save writes recs to the vault file atomically and durably. The caller holds saveMu.
func (v *Vault) save(recs map[string]Record) error {
	if v.mode == ModeMemory {
		return nil
	}
	plain, err := encode(v.device.priv.Load(), recs)
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

// Get returns the record under key and whether there is one. The Record is a copy; its
// enclaves are shared.
func (v *Vault) Get(key string) (Record, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	rec, ok := v.recs[key]
	if !ok {
		return Record{}, false
	}
	return rec.clone(), true
}

// Keys returns the keys that start with prefix, sorted.
func (v *Vault) Keys(prefix string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var keys []string
	for k := range v.recs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
