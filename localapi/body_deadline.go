package localapi

import (
	"io"
	"net/http"
	"time"
)

// bodyReadTimeout bounds the reading of a request body (everywhere but the
// proxy, whose bodies stream to the provider): a client that sends its body
// slowly, or never, would otherwise hold a socket connection forever.
// Headers are bounded by the server's ReadHeaderTimeout.
var bodyReadTimeout = 10 * time.Second

// limitBodyTime sets a read deadline for r's body and lifts it as soon as
// the body has been read to its end: a handler may then wait as
// long as it needs (a refresh, the tray's approval, a connect stream)
// without its request being cut by the deadline. (net/http lifts it there
// too, when it starts watching for the client's hang-up; this does not rely
// on that.)
//
// A request without a body gets no deadline: nothing would read to the end
// of it and lift the deadline, which would instead hit net/http's own read
// of the connection, the one that watches for the client's hang-up; that
// read's timeout cancels the request (an event stream ended every 10 s) and
// the connection's context, which every later request on the kept
// connection would then inherit already cancelled. net/http reports a
// request without a body by ContentLength 0 (r.Body is then wrapped by
// ServeHTTP, no longer http.NoBody); a chunked body has ContentLength -1.
func limitBodyTime(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(bodyReadTimeout)) != nil {
		return
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
}

// deadlineBody lifts its connection's read deadline at the body's end.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

// Read reads the body; at its end the deadline is lifted. After any other
// error it stays: net/http then discards what is left of the body before it
// closes the connection, and that must not wait forever either.
func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
