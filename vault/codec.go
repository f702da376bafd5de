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
//	records          u32 count, then per record (sorted by key):
//	  key      u16 length + bytes
//	  meta     u32 length + JSON bytes
//	  secrets  u16 count, then per secret (sorted by name): u16 length + name,
//	           u32 length + value (never empty)
const seedLen = 32

// encodedSize returns the serialized size of recs.
func encodedSize(recs map[string]Record) (int, error) {
	n := seedLen + 4
	for key, rec := range recs {
		n += 2 + len(key) + 4 + len(rec.Meta) + 2
		for name, e := range rec.Secrets {
			n += 2 + len(name) + 4 + e.Size()
		}
	}
	if n > math.MaxInt32 {
		return 0, fmt.Errorf("vault too large (%d bytes)", n)
	}
	return n, nil
}

// encode serializes the device key seed and recs into a new LockedBuffer the caller
// destroys. Secret values travel enclave → LockedBuffer → LockedBuffer, never the Go heap.
func encode(device *memguard.Enclave, recs map[string]Record) (*memguard.LockedBuffer, error) {
	size, err := encodedSize(recs)
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
	put(binary.BigEndian.AppendUint32(nil, uint32(len(recs))))
	for _, key := range slices.Sorted(maps.Keys(recs)) {
		rec := recs[key]
		put(binary.BigEndian.AppendUint16(nil, uint16(len(key))))
		put([]byte(key))
		put(binary.BigEndian.AppendUint32(nil, uint32(len(rec.Meta))))
		put(rec.Meta)
		put(binary.BigEndian.AppendUint16(nil, uint16(len(rec.Secrets))))
		for _, name := range slices.Sorted(maps.Keys(rec.Secrets)) {
			e := rec.Secrets[name]
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
func decode(p []byte) (device *memguard.Enclave, recs map[string]Record, err error) {
	r := reader{b: p}
	corrupt := func(what string) (*memguard.Enclave, map[string]Record, error) {
		return nil, nil, fmt.Errorf("%w: %s", errCorrupt, what)
	}
	seed := r.take(seedLen)
	count, ok := r.u32()
	if seed == nil || !ok {
		return corrupt("truncated records")
	}
	// Each record takes at least 8 bytes: a count larger than that is a lie.
	if int64(count)*8 > int64(r.rest()) {
		return corrupt("record count exceeds data")
	}
	recs = make(map[string]Record, count)
	for range count {
		kl, ok := r.u16()
		key := r.take(int(kl))
		ml, ok2 := r.u32()
		meta := r.take(int(ml))
		ns, ok3 := r.u16()
		if !ok || key == nil || !ok2 || meta == nil || !ok3 {
			return corrupt("truncated record")
		}
		if err := validKey(string(key)); err != nil {
			return corrupt(err.Error())
		}
		if _, dup := recs[string(key)]; dup {
			return corrupt("duplicate record key")
		}
		if len(meta) > 0 && !json.Valid(meta) {
			return corrupt("record metadata is not JSON")
		}
		rec := Record{Secrets: make(map[string]*memguard.Enclave, ns)}
		if len(meta) > 0 {
			rec.Meta = json.RawMessage(slices.Clone(meta)) // metadata is not secret
		}
		for range ns {
			nl, ok := r.u16()
			name := r.take(int(nl))
			vl, ok2 := r.u32()
			val := r.take(int(vl))
			if !ok || name == nil || !ok2 || val == nil || len(val) == 0 || len(name) == 0 {
				return corrupt("truncated or empty secret")
			}
			if _, dup := rec.Secrets[string(name)]; dup {
				return corrupt("duplicate secret name")
			}
			rec.Secrets[string(name)] = memguard.NewEnclave(val) // wipes val in p
		}
		recs[string(key)] = rec
	}
	if r.rest() != 0 {
		return corrupt("trailing bytes")
	}
	return memguard.NewEnclave(seed), recs, nil
}
