package localapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/awnumar/memguard"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/relayproto"
)

// An answer that carries a key is built in locked memory and written in one
// write of more than net/http's 2 KiB response buffer
// (bufferBeforeChunkingSize), padded with JSON white space: bufio then hands
// it straight to the connection's own buffer instead of keeping a copy in a
// pooled one, and the safesocket connection's Write wipes that buffer once
// it is sent. So no buffer of net/http keeps a key after the answer has gone.
const (
	keyAnswerMin = 2048 + 1
	keyAnswerCap = 4096 // the pooled buffers' size; a larger answer gets a buffer of its own
)

// keyBuffers is a small free list of locked buffers for key answers: a
// memguard buffer costs an mmap, an mlock and guard pages, too much for every
// token call. sync.Pool would drop buffers unwiped and undestroyed.
var keyBuffers = make(chan *memguard.LockedBuffer, 8)

func getKeyBuffer(n int) *memguard.LockedBuffer {
	if n <= keyAnswerCap {
		select {
		case b := <-keyBuffers:
			return b
		default:
			return memguard.NewBuffer(keyAnswerCap)
		}
	}
	return memguard.NewBuffer(n)
}

// putKeyBuffer wipes b and keeps it for the next answer, or destroys it.
func putKeyBuffer(b *memguard.LockedBuffer) {
	b.Wipe()
	if b.Size() == keyAnswerCap {
		select {
		case keyBuffers <- b:
			return
		default:
		}
	}
	b.Destroy()
}

// lockedWriter appends to a locked buffer that is known to be large enough.
type lockedWriter struct {
	buf []byte
	n   int
}

func (w *lockedWriter) str(s string) { w.n += copy(w.buf[w.n:], s) }

func (w *lockedWriter) byte(c byte) { w.buf[w.n] = c; w.n++ }

// jsonString writes b as a JSON string without copying it anywhere else:
// '"', '\\' and control characters escaped, invalid UTF-8 as U+FFFD, as
// encoding/json does.
func (w *lockedWriter) jsonString(b []byte) {
	const hex = "0123456789abcdef"
	w.byte('"')
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				w.byte('\\')
				w.byte(c)
			case c < 0x20 || c == 0x7f:
				w.str(`\u00`)
				w.byte(hex[c>>4])
				w.byte(hex[c&0xf])
			default:
				w.byte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			w.str(`\ufffd`)
		} else {
			w.n += copy(w.buf[w.n:], b[i:i+size])
		}
		i += size
	}
	w.byte('"')
}

// jsonStringLen is the most bytes jsonString writes for b.
func jsonStringLen(b []byte) int { return 2 + 6*len(b) }

// keyAnswer is a token answer in locked memory; Close wipes it.
type keyAnswer struct {
	buf *memguard.LockedBuffer
	n   int
}

// newKeyAnswer builds the token answer for v: the fields without a key
// marshalled as usual, the key fields written from locked memory into a
// locked buffer. It does no I/O, so it may run under the connection's lock.
func newKeyAnswer(v agent.KeyView) (*keyAnswer, error) {
	head, err := json.Marshal(localclient.Token{TokenType: v.TokenType, ExpiresAt: v.ExpiresAt.UTC(), Scopes: nonNil(v.Scopes), Generation: v.Generation})
	if err != nil {
		return nil, fmt.Errorf("encode token answer: %w", err)
	}
	head = head[:len(head)-1] // the closing brace: the key fields follow
	type field struct {
		name string
		val  []byte
	}
	fields := []field{{`,"access_token":`, v.Key}}
	if v.TokenType == relayproto.FormatPeatio {
		fields = []field{{`,"access_key":`, v.AccessKey()}, {`,"secret_key":`, v.SecretKey()}}
	}
	size := len(head) + len("}\n")
	for _, f := range fields {
		size += len(f.name) + jsonStringLen(f.val)
	}
	buf := getKeyBuffer(max(size, keyAnswerMin))
	lw := &lockedWriter{buf: buf.Bytes()}
	lw.n += copy(lw.buf, head)
	for _, f := range fields {
		lw.str(f.name)
		lw.jsonString(f.val)
	}
	lw.byte('}')
	for lw.n < keyAnswerMin-1 {
		lw.byte(' ')
	}
	lw.byte('\n')
	return &keyAnswer{buf: buf, n: lw.n}, nil
}

// writeTo sends the answer in one write. net/http copies it into the
// connection's buffer (which the safesocket connection's Write wipes once
// sent) before Write returns, so the answer may be wiped right after.
func (k *keyAnswer) writeTo(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(k.n))
	w.WriteHeader(http.StatusOK)
	w.Write(k.buf.Bytes()[:k.n])
}

// Close wipes the answer.
func (k *keyAnswer) Close() { putKeyBuffer(k.buf) }
