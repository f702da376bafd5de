package localclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The client speaks the small part of HTTP/1.1 the agent's socket needs, by
// hand, instead of through net/http: linking net/http (and through it
// crypto/tls and x509) roughly doubles what a one-shot `tokentray token`
// costs to start, and the CLI's budget is a hello-world's (README,
// "Numbers"). What it speaks: one request at a time per connection, a
// JSON or form body with Content-Length, and answers framed by
// Content-Length, chunked transfer coding or the end of the connection.
// Connections are kept alive and reused; a stream (events, connect, proxy)
// holds its connection until its body is closed.

// transport dials the socket and keeps idle connections for reuse.
type transport struct {
	path string

	mu   sync.Mutex
	idle []*persistConn // guarded by mu
}

// persistConn is one connection to the agent with its read buffer.
type persistConn struct {
	conn      socketConn
	br        *bufio.Reader
	idleSince time.Time
}

// maxIdle is how many idle connections a Client keeps, and maxIdleTime how
// long: well under the agent's idle timeout (2 minutes), so that a kept
// connection is still open when it is used again.
const (
	maxIdle     = 4
	maxIdleTime = 30 * time.Second
)

// Response is the head and body of one answer. The caller closes Body,
// which returns the connection for reuse once the body was read to its end.
type Response struct {
	StatusCode int
	Status     string // "200 OK"
	Header     textproto.MIMEHeader
	Body       io.ReadCloser
}

// request is what roundTrip sends.
type request struct {
	method, path string
	contentType  string
	body         []byte
}

// roundTrip sends req on an idle connection or a new one and reads the
// answer's head. A request that a kept connection could not carry — the
// write failed, or (for a GET, which is safe to repeat) the connection ended
// before any byte of an answer — is sent once more on a new connection, as
// net/http does.
func (t *transport) roundTrip(ctx context.Context, req request) (*Response, error) {
	if pc := t.takeIdle(); pc != nil {
		resp, err := t.send(ctx, pc, req)
		var stale *staleError
		if err == nil || !errors.As(err, &stale) || (!stale.unsent && req.method != "GET") {
			return resp, err
		}
	}
	pc, err := t.dial(ctx)
	if err != nil {
		return nil, err
	}
	return t.send(ctx, pc, req)
}

// staleError reports a connection the agent had closed: unsent when the
// request could not even be written.
type staleError struct {
	unsent bool
	err    error
}

func (e *staleError) Error() string { return "the agent closed the connection: " + e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }

// takeIdle returns the most recently kept connection, closing those kept too
// long.
func (t *transport) takeIdle() *persistConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	for n := len(t.idle); n > 0; n = len(t.idle) {
		pc := t.idle[n-1]
		t.idle = t.idle[:n-1]
		if time.Since(pc.idleSince) < maxIdleTime {
			return pc
		}
		pc.conn.Close()
	}
	return nil
}

// putIdle keeps pc for the next request, or closes it when enough are kept.
func (t *transport) putIdle(pc *persistConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.idle) < maxIdle {
		pc.idleSince = time.Now()
		t.idle = append(t.idle, pc)
		return
	}
	pc.conn.Close()
}

// closeIdle closes the kept connections.
func (t *transport) closeIdle() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, pc := range idle {
		pc.conn.Close()
	}
}

// socketConn is a connection to the agent: a net.Conn, or a plain blocking
// socket (dialBlocking).
type socketConn interface {
	io.ReadWriteCloser
	SetDeadline(time.Time) error
}

func (t *transport) dial(ctx context.Context) (*persistConn, error) {
	var conn socketConn
	var err error
	if ctx.Done() == nil {
		// Nothing can cancel the call (a CLI call's context): a blocking
		// socket spares the runtime's network poller and the scheduler's
		// hand-offs around it, a sizeable part of a one-shot call's cost.
		conn, err = dialBlocking(t.path)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "unix", t.path)
	}
	if err != nil {
		if isNotListening(err) {
			return nil, ErrAgentNotRunning
		}
		return nil, fmt.Errorf("call agent: %w", err)
	}
	return &persistConn{conn: conn, br: bufio.NewReaderSize(conn, 4096)}, nil
}

// send writes req on pc in one write and reads the answer's head. While it
// waits, ctx's end closes the connection, which unblocks both.
func (t *transport) send(ctx context.Context, pc *persistConn, req request) (*Response, error) {
	stop := context.AfterFunc(ctx, func() { pc.conn.SetDeadline(time.Unix(1, 0)) })
	resp, err := t.exchange(pc, req)
	if !stop() || ctx.Err() != nil {
		pc.conn.Close()
		return nil, ctx.Err()
	}
	if err != nil {
		pc.conn.Close()
		return nil, err
	}
	// From here on the body's reader owns pc; ctx still ends a stream.
	body := resp.Body.(*bodyReader)
	body.stop = context.AfterFunc(ctx, func() { pc.conn.SetDeadline(time.Unix(1, 0)) })
	return resp, nil
}

func (t *transport) exchange(pc *persistConn, req request) (*Response, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: tokentray\r\nUser-Agent: tokentray\r\n", req.method, req.path)
	if req.body != nil {
		fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n", req.contentType, len(req.body))
	}
	b.WriteString("\r\n")
	b.Write(req.body)
	if _, err := pc.conn.Write(b.Bytes()); err != nil {
		return nil, &staleError{unsent: true, err: err}
	}
	resp, err := readHead(pc.br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &staleError{err: err}
		}
		return nil, fmt.Errorf("read agent answer: %w", err)
	}
	body, err := newBodyReader(t, pc, req.method, resp)
	if err != nil {
		return nil, err
	}
	resp.Body = body
	return resp, nil
}

// readHead reads the status line and the headers of an answer.
func readHead(br *bufio.Reader) (*Response, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, err
	}
	proto, status, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") {
		return nil, fmt.Errorf("malformed status line %q", line)
	}
	code, err := strconv.Atoi(strings.SplitN(status, " ", 2)[0])
	if err != nil || code < 100 || code > 999 {
		return nil, fmt.Errorf("malformed status line %q", line)
	}
	header, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, fmt.Errorf("read headers: %w", err)
	}
	return &Response{StatusCode: code, Status: status, Header: header}, nil
}
