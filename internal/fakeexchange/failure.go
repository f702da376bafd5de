package fakeexchange

import (
	"io"
	"net/http"
)

// failRule is one FailNext call: fail the next n requests to path ("" = any).
type failRule struct {
	path string
	n    int
	f    Failure
}

// FailNext makes the next n requests to path fail with f before any normal
// handling. An empty path matches every endpoint. Rules queue up in call
// order; the first rule that matches a request and has calls left is used.
func (e *Exchange) FailNext(path string, n int, f Failure) {
	if n <= 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures = append(e.failures, failRule{path: path, n: n, f: f})
}

// injectFailure counts r and, if a queued rule matches, answers r with the
// failure and reports true.
func (e *Exchange) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	e.mu.Lock()
	e.calls[r.URL.Path]++
	var f Failure
	for i := range e.failures {
		rule := &e.failures[i]
		if rule.path != "" && rule.path != r.URL.Path {
			continue
		}
		f = rule.f
		rule.n--
		if rule.n == 0 {
			e.failures = append(e.failures[:i], e.failures[i+1:]...)
		}
		break
	}
	e.mu.Unlock()

	switch f {
	case 0:
		return false
	case FailHang:
		select {
		case <-r.Context().Done():
		case <-e.closeCh:
		}
		return true
	case FailNonJSON:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "<!DOCTYPE html><html><body><h1>We'll be back soon</h1><p>EXchange is under maintenance.</p></body></html>\n")
		return true
	default: // Fail500 and unknown values
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "We're sorry, but something went wrong.\n")
		return true
	}
}
