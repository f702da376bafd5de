package localclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serveUnix serves h with net/http on a Unix socket in a fresh folder, the
// way the agent does, and returns the socket's path.
func serveUnix(t *testing.T, h http.Handler) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return path
}

func TestTransportFraming(t *testing.T) {
	big := strings.Repeat("0123456789", 2000) // past net/http's buffer: chunked
	var conns atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "small") })
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) })
	mux.HandleFunc("GET /flushed", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "part one,")
		w.(http.Flusher).Flush()
		io.WriteString(w, "part two")
	})
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Type", r.Header.Get("Content-Type"))
		io.Copy(w, r.Body)
	})
	srv := &http.Server{Handler: mux, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	tests := []struct {
		name, method, path, body, want string
		status                         int
	}{
		{"content-length", "GET", "/small", "", "small", 200},
		{"chunked", "GET", "/big", "", big, 200},
		{"flushed chunks", "GET", "/flushed", "", "part one,part two", 200},
		{"no content", "GET", "/empty", "", "", 204},
		{"post body", "POST", "/echo", `{"a":1}`, `{"a":1}`, 200},
		{"not found", "GET", "/nothing", "", "404 page not found\n", 404},
	}
	for mode, ctx := range dialModes(t) {
		tr := &transport{path: path}
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				req := request{method: tt.method, path: tt.path}
				if tt.body != "" {
					req.body, req.contentType = []byte(tt.body), "application/json"
				}
				resp, err := tr.roundTrip(ctx, req)
				if err != nil {
					t.Fatalf("roundTrip(%s %s): %v", tt.method, tt.path, err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(got) != tt.want || resp.StatusCode != tt.status {
					t.Fatalf("%s %s = %d %q (%v), want %d %q", tt.method, tt.path, resp.StatusCode, got, err, tt.status, tt.want)
				}
				if tt.body != "" && resp.Header.Get("X-Type") != "application/json" {
					t.Fatalf("the server saw Content-Type %q", resp.Header.Get("X-Type"))
				}
			})
		}
	}
	// Every body was read to its end, so one kept-alive connection per
	// transport carried all its requests.
	if n := conns.Load(); n != 2 {
		t.Fatalf("the server saw %d connections, want 2 (one per dial mode, kept alive)", n)
	}
}

// dialModes are the contexts that choose each way of dialing: one nothing
// can cancel (a blocking socket, as a CLI call uses) and one that can (the
// net package's polled socket).
func dialModes(t *testing.T) map[string]context.Context {
	return map[string]context.Context{"blocking": context.Background(), "polled": t.Context()}
}

func TestTransportRetriesAConnectionTheAgentClosed(t *testing.T) {
	var served atomic.Int32
	closed := make(chan struct{}, 4)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served.Add(1)
			io.WriteString(w, r.Method)
		}),
		// The agent closes idle connections; here at once.
		IdleTimeout: time.Millisecond,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed {
				closed <- struct{}{}
			}
		},
	}
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	for _, ctx := range dialModes(t) {
		retryAfterClose(t, &transport{path: path}, ctx, closed)
	}
	if n := served.Load(); n != 8 {
		t.Fatalf("the server served %d requests, want 8 (none lost, none sent twice)", n)
	}
}

func retryAfterClose(t *testing.T, tr *transport, ctx context.Context, closed <-chan struct{}) {
	t.Helper()
	for _, method := range []string{"GET", "POST"} {
		resp, err := tr.roundTrip(ctx, request{method: "GET", path: "/"})
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the server did not close the idle connection within 10 s")
		}
		resp, err = tr.roundTrip(ctx, request{method: method, path: "/", body: []byte("x"), contentType: "text/plain"})
		if err != nil {
			t.Fatalf("%s after the agent closed the kept connection: %v", method, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != method {
			t.Fatalf("%s answered %q", method, got)
		}
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the server did not close the idle connection within 10 s")
		}
	}
}

func TestTransportContextEndsAWait(t *testing.T) {
	release := make(chan struct{})
	path := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	tr := &transport{path: path}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := tr.roundTrip(ctx, request{method: "GET", path: "/"})
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("roundTrip after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("roundTrip did not return within 10 s of its context's end")
	}
}

func TestTransportAgentNotRunning(t *testing.T) {
	// A socket file nobody listens on: what a crashed agent leaves.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	for _, path := range []string{filepath.Join(t.TempDir(), "none.sock"), stale} {
		tr := &transport{path: path}
		for mode, ctx := range dialModes(t) {
			if _, err := tr.roundTrip(ctx, request{method: "GET", path: "/"}); !errors.Is(err, ErrAgentNotRunning) {
				t.Fatalf("%s: roundTrip to %s = %v, want ErrAgentNotRunning", mode, filepath.Base(path), err)
			}
		}
	}
}

func TestChunkedReaderRefusesBadInput(t *testing.T) {
	tests := []struct{ name, in string }{
		{"bad size", "zz\r\nabc\r\n0\r\n\r\n"},
		{"missing crlf after data", "3\r\nabcX\r\n0\r\n\r\n"},
		{"cut in data", "5\r\nab"},
		{"no last chunk", "3\r\nabc\r\n"},
		{"negative", "-1\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &chunkedReader{br: bufio.NewReader(strings.NewReader(tt.in))}
			if got, err := io.ReadAll(r); err == nil {
				t.Fatalf("chunked %q = %q, nil; want an error", tt.in, got)
			}
		})
	}
}

// FuzzChunkedReader checks that what net/http's chunked writer encodes, in
// pieces of any size, decodes to the same bytes, with the trailer skipped.
func FuzzChunkedReader(f *testing.F) {
	f.Add([]byte("hello"), uint8(2))
	f.Add([]byte(""), uint8(1))
	f.Add(bytes.Repeat([]byte{0xff}, 5000), uint8(200))
	f.Fuzz(func(t *testing.T, data []byte, piece uint8) {
		step := int(piece) + 1
		var enc bytes.Buffer
		w := httputil.NewChunkedWriter(&enc)
		for i := 0; i < len(data); i += step {
			w.Write(data[i:min(i+step, len(data))])
		}
		w.Close()
		enc.WriteString("Trailer-Field: x\r\n\r\nNEXT")
		br := bufio.NewReader(&enc)
		got, err := io.ReadAll(&chunkedReader{br: br})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("decode(encode(%d bytes)) = %d bytes, %v", len(data), len(got), err)
		}
		if rest, _ := io.ReadAll(br); string(rest) != "NEXT" {
			t.Fatalf("after the body the reader is at %q, want the next answer", rest)
		}
	})
}
