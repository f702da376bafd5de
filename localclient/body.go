package localclient

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// bodyReader reads one answer's body as its head frames it (Content-Length,
// chunked, or up to the end of the connection) and, once read to its end,
// hands the connection back to the transport for the next request.
type bodyReader struct {
	t     *transport
	pc    *persistConn
	stop  func() bool // stops the context's watch of the connection
	r     io.Reader   // the framed body
	reuse bool        // the connection may carry another request after this body
	done  bool        // r reached its end
	freed bool        // the connection was returned or closed
}

func newBodyReader(t *transport, pc *persistConn, method string, resp *Response) (*bodyReader, error) {
	b := &bodyReader{t: t, pc: pc, reuse: !strings.EqualFold(resp.Header.Get("Connection"), "close")}
	te := resp.Header.Get("Transfer-Encoding")
	cl := resp.Header.Get("Content-Length")
	switch {
	case method == "HEAD" || resp.StatusCode == 204 || resp.StatusCode == 304 || resp.StatusCode/100 == 1:
		b.r = strings.NewReader("")
	case strings.EqualFold(te, "chunked"):
		b.r = &chunkedReader{br: pc.br}
	case te != "":
		return nil, fmt.Errorf("the agent answered with transfer coding %q", te)
	case cl != "":
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("the agent answered a bad Content-Length %q", cl)
		}
		b.r = io.LimitReader(pc.br, n)
	default:
		b.r, b.reuse = pc.br, false
	}
	return b, nil
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.freed {
		return 0, errors.New("read on a closed body")
	}
	n, err := b.r.Read(p)
	if errors.Is(err, io.EOF) {
		b.done = true
		if lr, ok := b.r.(*io.LimitedReader); ok && lr.N > 0 {
			b.reuse = false
			return n, io.ErrUnexpectedEOF
		}
	}
	return n, err
}

// Close frees the connection: back to the transport when the body was read
// to its end, else closed (the rest of an unread body would have to be
// drained first, and a stream may never end).
func (b *bodyReader) Close() error {
	if b.freed {
		return nil
	}
	b.freed = true
	if b.stop != nil && !b.stop() {
		b.reuse = false // the context ended: the deadline is set
	}
	if b.done && b.reuse {
		b.t.putIdle(b.pc)
		return nil
	}
	return b.pc.conn.Close()
}

// chunkedReader decodes the chunked transfer coding (RFC 9112 §7.1).
type chunkedReader struct {
	br   *bufio.Reader
	left int64 // bytes left in the current chunk
	end  bool
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.end {
		return 0, io.EOF
	}
	if c.left == 0 {
		size, err := c.chunkSize()
		if err != nil {
			return 0, err
		}
		if size == 0 {
			c.end = true
			return 0, c.skipTrailer()
		}
		c.left = size
	}
	n, err := c.br.Read(p[:min(int64(len(p)), c.left)])
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		err = c.crlf()
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// chunkSize reads a chunk's size line, ignoring chunk extensions.
func (c *chunkedReader) chunkSize() (int64, error) {
	line, err := c.line()
	if err != nil {
		return 0, err
	}
	line, _, _ = strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
	if err != nil || size < 0 {
		return 0, fmt.Errorf("bad chunk size %q", line)
	}
	return size, nil
}

// skipTrailer reads the trailer fields after the last chunk, up to the
// empty line, and reports io.EOF: the body ended.
func (c *chunkedReader) skipTrailer() error {
	for {
		line, err := c.line()
		if err != nil {
			return err
		}
		if line == "" {
			return io.EOF
		}
	}
}

// crlf reads the line end after a chunk's data.
func (c *chunkedReader) crlf() error {
	line, err := c.line()
	if err == nil && line != "" {
		err = fmt.Errorf("chunk data followed by %q", line)
	}
	return err
}

// maxLine bounds a chunk-size or trailer line.
const maxLine = 4096

func (c *chunkedReader) line() (string, error) {
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxLine {
		return "", errors.New("chunk line too long")
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}
