package vault

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/awnumar/memguard"
)

// The serialized plaintext, built and parsed only inside memguard LockedBuffers:
//
//	device key seed  32 bytes
//	entries          u32 count, then per entry (sorted by key):
//	  key      u16 length + bytes
//	  meta     u32 length + JSON bytes
//	  secrets  u16 count, then per secret (sorted by name): u16 length + name,
//	           u32 length + value (never empty)
const seedLen = 32

// encodedSize returns the serialized size of entries.
func encodedSize(entries map[string]Entry) (int, error) {
	n := seedLen + 4
	for key, ent := range entries {
		n += 2 + len(key) + 4 + len(ent.Meta) + 2
		for name, e := range ent.Secrets {
			n += 2 + len(name) + 4 + e.Size()
		}
	}
	if n > math.MaxInt32 {
		return 0, fmt.Errorf("vault too large (%d bytes)", n)
	}
	return n, nil
}

// encode serializes the device key seed and entries into a new LockedBuffer the caller
// destroys. Secret values travel enclave → LockedBuffer → LockedBuffer, never the Go heap.
func encode(device *memguard.Enclave, entries map[string]Entry) (*memguard.LockedBuffer, error) {
	size, err := encodedSize(entries)
	if err != nil {
		return nil, err
	}
	out := memguard.NewBuffer(size)
	b := out.Bytes()
	off := 0
	put := func(p []byte) { off += copy(b[off:], p) }
	putOpened := func(e *memguard.Enclave, limit int) error {
		lb, err := e.Open()
		if err != nil {
			return fmt.Errorf("open enclave: %w", err)
		}
		defer lb.Destroy()
		p := lb.Bytes()
		if limit > 0 && len(p) > limit {
			p = p[:limit]
		}
		put(p)
		return nil
	}
	fail := func(err error) (*memguard.LockedBuffer, error) {
		out.Destroy()
		return nil, err
	}
	if device.Size() < seedLen {
		return fail(fmt.Errorf("device key is %d bytes", device.Size()))
	}
	if err := putOpened(device, seedLen); err != nil {
		return fail(err)
	}
	put(binary.BigEndian.AppendUint32(nil, uint32(len(entries))))
	for _, key := range slices.Sorted(maps.Keys(entries)) {
		ent := entries[key]
		put(binary.BigEndian.AppendUint16(nil, uint16(len(key))))
		put([]byte(key))
		put(binary.BigEndian.AppendUint32(nil, uint32(len(ent.Meta))))
		put(ent.Meta)
		put(binary.BigEndian.AppendUint16(nil, uint16(len(ent.Secrets))))
		for _, name := range slices.Sorted(maps.Keys(ent.Secrets)) {
			e := ent.Secrets[name]
			put(binary.BigEndian.AppendUint16(nil, uint16(len(name))))
			put([]byte(name))
			put(binary.BigEndian.AppendUint32(nil, uint32(e.Size())))
			if err := putOpened(e, 0); err != nil {
				return fail(fmt.Errorf("secret %q of %q: %w", name, key, err))
			}
		}
	}
	if off != size {
		return fail(fmt.Errorf("encoded %d bytes, want %d", off, size))
	}
	return out, nil
}

// decode parses the plaintext p (which should be locked memory; decode wipes each secret's
// bytes in p as it seals them into an enclave). Any malformation wraps errCorrupt.
func decode(p []byte) (device *memguard.Enclave, entries map[string]Entry, err error) {
	r := reader{b: p}
	corrupt := func(what string) (*memguard.Enclave, map[string]Entry, error) {
		return nil, nil, fmt.Errorf("%w: %s", errCorrupt, what)
	}
	seed := r.take(seedLen)
	count, ok := r.u32()
	if seed == nil || !ok {
		return corrupt("truncated entries")
	}
	// Each entry takes at least 8 bytes: a count larger than that is a lie.
	if int64(count)*8 > int64(r.rest()) {
		return corrupt("entry count exceeds data")
	}
	entries = make(map[string]Entry, count)
	for range count {
		kl, ok := r.u16()
		key := r.take(int(kl))
		ml, ok2 := r.u32()
		meta := r.take(int(ml))
		ns, ok3 := r.u16()
		if !ok || key == nil || !ok2 || meta == nil || !ok3 {
			return corrupt("truncated entry")
		}
		if err := validKey(string(key)); err != nil {
			return corrupt(err.Error())
		}
		if _, dup := entries[string(key)]; dup {
			return corrupt("duplicate entry key")
		}
		if len(meta) > 0 && !json.Valid(meta) {
			return corrupt("entry metadata is not JSON")
		}
		ent := Entry{Secrets: make(map[string]*memguard.Enclave, ns)}
		if len(meta) > 0 {
			ent.Meta = json.RawMessage(slices.Clone(meta)) // metadata is not secret
		}
		for range ns {
			nl, ok := r.u16()
			name := r.take(int(nl))
			vl, ok2 := r.u32()
			val := r.take(int(vl))
			if !ok || name == nil || !ok2 || val == nil || len(val) == 0 || len(name) == 0 {
				return corrupt("truncated or empty secret")
			}
			if _, dup := ent.Secrets[string(name)]; dup {
				return corrupt("duplicate secret name")
			}
			ent.Secrets[string(name)] = memguard.NewEnclave(val) // wipes val in p
		}
		entries[string(key)] = ent
	}
	if r.rest() != 0 {
		return corrupt("trailing bytes")
	}
	return memguard.NewEnclave(seed), entries, nil
}
