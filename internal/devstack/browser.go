package devstack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// browseTimeout bounds one walk of Browse: the exchange, the relay and the
// agent's loopback all answer at once on this machine.
const browseTimeout = 30 * time.Second

// Browse is the simulated world's browser: it GETs u and follows its
// redirects to the end, as a browser does with an authorize URL: through the
// exchange's consent (at once with AutoApprove; with Manual it stops at the
// consent page), the relay's callback and the agent's loopback listener. It
// reads the last answer to its end and reports a failed walk or a status
// other than 2xx.
func Browse(ctx context.Context, u string) error {
	status, _, _, err := walk(ctx, u)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("browse: the last page answered %d", status)
	}
	return nil
}

// walk GETs u, follows its redirects within browseTimeout and returns the
// last page.
func walk(ctx context.Context, u string) (int, []byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, browseTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("browse: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("browse: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("browse: read the last page: %w", err)
	}
	return resp.StatusCode, body, resp.Header, nil
}

// Browser is an oauthflow.Opener for the simulated world: it Browses u in
// the background and returns at once, as a user's browser opens while the
// flow waits for its callback. The walk outlives ctx, as a browser outlives
// the flow that opened it, and ends within browseTimeout.
func Browser(ctx context.Context, u string) error {
	go Browse(context.WithoutCancel(ctx), u)
	return nil
}

// PageBrowser is a browser for tests that look at where a walk ended: its
// Open follows a URL as Browse does, and it keeps the URLs it was asked to
// open and the last page it got.
type PageBrowser struct {
	mu     sync.Mutex
	status int
	body   string
	header http.Header
	opened []string
}

// Open follows u to the end and keeps the page; an opener for the flows.
func (b *PageBrowser) Open(ctx context.Context, u string) error {
	b.mu.Lock()
	b.opened = append(b.opened, u)
	b.mu.Unlock()
	status, body, header, err := walk(ctx, u)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.status, b.body, b.header = status, string(body), header
	b.mu.Unlock()
	return nil
}

// Page returns the last page's status, body and headers.
func (b *PageBrowser) Page() (int, string, http.Header) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status, b.body, b.header
}

// Opened returns the URLs Open was given, in order.
func (b *PageBrowser) Opened() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.opened...)
}

// pageHeaders are the headers every page the device or the relay shows in
// the browser carries: nothing loads from elsewhere, nothing is cached, no
// Referer leaks the code.
var pageHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'",
	"Cache-Control":           "no-store",
	"Referrer-Policy":         "no-referrer",
}

// CheckPageHeaders reports through t each of pageHeaders that h lacks.
func CheckPageHeaders(t interface {
	Helper()
	Errorf(format string, args ...any)
}, h http.Header) {
	t.Helper()
	for k, want := range pageHeaders {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}
