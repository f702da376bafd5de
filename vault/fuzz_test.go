package vault

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/awnumar/memguard"
)

// FuzzParseHeader: any bytes either fail cleanly (errCorrupt or *NewerVersionError) or
// parse into a header that marshals back to exactly the bytes it was read from.
func FuzzParseHeader(f *testing.F) {
	for _, mode := range []byte{modeByteKeyring, modeBytePassphrase} {
		h := header{Version: formatVersion, Writer: "tokentray 1.0", Mode: mode, KDF: kdfParams{Time: 3, MemoryKiB: 65536, Threads: 4}}
		b := append(h.marshal(), make([]byte, 40)...)
		f.Add(b)
		f.Add(b[:len(b)/2])
		newer := bytes.Clone(b)
		newer[len(magic)+1] = formatVersion + 1
		f.Add(newer)
	}
	f.Add([]byte{})
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := parseHeader(data)
		var nv *NewerVersionError
		switch {
		case errors.As(err, &nv):
			if nv.Version <= formatVersion {
				t.Fatalf("NewerVersionError for version %d", nv.Version)
			}
		case err != nil:
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("parseHeader error %v does not wrap errCorrupt", err)
			}
		default:
			if n > len(data) || !bytes.Equal(h.marshal(), data[:n]) {
				t.Fatalf("parsed header does not marshal back to its %d bytes", n)
			}
		}
	})
}

// FuzzDecode: decoding any plaintext either fails with errCorrupt or yields entries that
// encode back to the same size and decode to the same content.
func FuzzDecode(f *testing.F) {
	seed := func(entries map[string]Entry) []byte {
		lb, err := encode(memguard.NewEnclave(make([]byte, seedLen)), entries)
		if err != nil {
			f.Fatal(err)
		}
		defer lb.Destroy()
		return bytes.Clone(lb.Bytes())
	}
	f.Add(seed(map[string]Entry{}))
	f.Add(seed(map[string]Entry{"conn/a": {Meta: []byte(`{"a":1}`), Secrets: map[string]*memguard.Enclave{"k": secret("v"), "r": secret("blob")}}}))
	f.Add(seed(map[string]Entry{"a": {}, "b": {Meta: []byte(`[]`)}}))
	f.Add(make([]byte, seedLen+4))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.Clone(data)
		dev, entries, err := decode(in)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("decode error %v does not wrap errCorrupt", err)
			}
			return
		}
		again, err := encode(dev, entries)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		defer again.Destroy()
		if again.Size() != len(data) {
			t.Fatalf("re-encoded %d bytes, decoded from %d", again.Size(), len(data))
		}
		_, entries2, err := decode(bytes.Clone(again.Bytes()))
		if err != nil {
			t.Fatalf("decode of re-encoded: %v", err)
		}
		if !reflect.DeepEqual(plainAll(t, entries), plainAll(t, entries2)) {
			t.Fatalf("round trip changed the entries")
		}
	})
}

// plainAll reveals an entry map.
func plainAll(t *testing.T, entries map[string]Entry) map[string]plainEntry {
	out := map[string]plainEntry{}
	for k, r := range entries {
		out[k] = plain(t, r)
	}
	return out
}
