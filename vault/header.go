package vault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The vault file: a plaintext header, then XChaCha20-Poly1305 ciphertext of the serialized
// entries with the whole header as associated data.
//
//	magic      8 bytes  "TKTRAYV\x00"
//	version    u16 BE   formatVersion
//	writer     u8 length + bytes (application version string)
//	-- stable up to here in every version, so any build can name a newer file's writer --
//	vault id   16 bytes (random; keyring account "vault-" + hex)
//	mode       u8       1 keyring, 2 passphrase
//	kdf        passphrase only: salt 16 bytes, time u32, memory KiB u32, threads u8
//	key check  16 bytes SHA-256("tokentray vault key check v1" ‖ key)[:16]
//	nonce      24 bytes
const (
	formatVersion      = 1
	magic              = "TKTRAYV\x00"
	maxWriterLen       = 255
	idLen              = 16
	saltLen            = 16
	checkLen           = 16
	nonceLen           = 24
	modeByteKeyring    = 1
	modeBytePassphrase = 2
)

// errCorrupt marks a file that cannot be ours as written: kept aside, never overwritten.
var errCorrupt = errors.New("vault file is corrupt")

// kdfParams are argon2id's parameters, recorded in the header of a passphrase vault.
type kdfParams struct {
	Salt      [saltLen]byte
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// Limits on parameters read from a file, so a tampered header cannot exhaust memory.
const (
	maxKDFTime      = 64
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
)

// header is the parsed plaintext header.
type header struct {
	Version  int
	Writer   string
	ID       [idLen]byte
	Mode     byte
	KDF      kdfParams // Mode == modeBytePassphrase only
	KeyCheck [checkLen]byte
	Nonce    [nonceLen]byte
}

// marshal encodes h; the result is also the AEAD's associated data.
func (h *header) marshal() []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write(binary.BigEndian.AppendUint16(nil, uint16(h.Version)))
	b.WriteByte(byte(len(h.Writer)))
	b.WriteString(h.Writer)
	b.Write(h.ID[:])
	b.WriteByte(h.Mode)
	if h.Mode == modeBytePassphrase {
		b.Write(h.KDF.Salt[:])
		b.Write(binary.BigEndian.AppendUint32(nil, h.KDF.Time))
		b.Write(binary.BigEndian.AppendUint32(nil, h.KDF.MemoryKiB))
		b.WriteByte(h.KDF.Threads)
	}
	b.Write(h.KeyCheck[:])
	b.Write(h.Nonce[:])
	return b.Bytes()
}

// parseHeader reads the header at the start of data and returns it with its length.
// A newer format version yields *NewerVersionError; anything malformed wraps errCorrupt.
func parseHeader(data []byte) (header, int, error) {
	var h header
	r := reader{b: data}
	if m := r.take(len(magic)); m == nil || string(m) != magic {
		return h, 0, fmt.Errorf("%w: not a tokentray vault (bad magic)", errCorrupt)
	}
	v, ok := r.u16()
	if !ok {
		return h, 0, fmt.Errorf("%w: truncated header", errCorrupt)
	}
	wl, ok := r.u8()
	w := r.take(int(wl))
	h.Version, h.Writer = int(v), string(w)
	if h.Version > formatVersion {
		// Refused even when the writer field is cut short: a newer file is never touched.
		return h, 0, &NewerVersionError{Version: h.Version, Writer: h.Writer}
	}
	if !ok || w == nil {
		return h, 0, fmt.Errorf("%w: truncated header", errCorrupt)
	}
	if h.Version != formatVersion {
		return h, 0, fmt.Errorf("%w: unknown format version %d", errCorrupt, h.Version)
	}
	id := r.take(idLen)
	mode, ok := r.u8()
	if id == nil || !ok {
		return h, 0, fmt.Errorf("%w: truncated header", errCorrupt)
	}
	copy(h.ID[:], id)
	h.Mode = mode
	switch mode {
	case modeByteKeyring:
	case modeBytePassphrase:
		salt := r.take(saltLen)
		t, ok1 := r.u32()
		m, ok2 := r.u32()
		p, ok3 := r.u8()
		if salt == nil || !ok1 || !ok2 || !ok3 {
			return h, 0, fmt.Errorf("%w: truncated header", errCorrupt)
		}
		copy(h.KDF.Salt[:], salt)
		h.KDF.Time, h.KDF.MemoryKiB, h.KDF.Threads = t, m, p
		if t == 0 || t > maxKDFTime || m < 8*uint32(p) || m > maxKDFMemoryKiB || p == 0 {
			return h, 0, fmt.Errorf("%w: argon2 parameters out of range", errCorrupt)
		}
	default:
		return h, 0, fmt.Errorf("%w: unknown key mode %d", errCorrupt, mode)
	}
	kc := r.take(checkLen)
	nonce := r.take(nonceLen)
	if kc == nil || nonce == nil {
		return h, 0, fmt.Errorf("%w: truncated header", errCorrupt)
	}
	copy(h.KeyCheck[:], kc)
	copy(h.Nonce[:], nonce)
	return h, r.off, nil
}

// reader reads big-endian fields; each method reports false (or nil) past the end.
type reader struct {
	b   []byte
	off int
}

// take returns the next n bytes, or nil when fewer remain.
func (r *reader) take(n int) []byte {
	if n < 0 || len(r.b)-r.off < n {
		r.off = len(r.b)
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	if s == nil {
		s = []byte{}
	}
	return s
}

func (r *reader) u8() (uint8, bool) {
	b := r.take(1)
	if b == nil {
		return 0, false
	}
	return b[0], true
}

func (r *reader) u16() (uint16, bool) {
	b := r.take(2)
	if b == nil {
		return 0, false
	}
	return binary.BigEndian.Uint16(b), true
}

func (r *reader) u32() (uint32, bool) {
	b := r.take(4)
	if b == nil {
		return 0, false
	}
	return binary.BigEndian.Uint32(b), true
}

// rest reports how many bytes remain.
func (r *reader) rest() int { return len(r.b) - r.off }
