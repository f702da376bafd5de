package oauthflow

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

// browser is a test opener: it follows the URL with a plain http.Client,
// as a browser would, and keeps the last page.
type browser struct {
	mu     sync.Mutex
	status int
	body   string
	header http.Header
	opened []string
}

func (b *browser) open(ctx context.Context, u string) error {
	b.mu.Lock()
	b.opened = append(b.opened, u)
	b.mu.Unlock()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.mu.Lock()
	b.status, b.body, b.header = resp.StatusCode, string(body), resp.Header
	b.mu.Unlock()
	return nil
}

func (b *browser) page() (int, string, http.Header) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status, b.body, b.header
}

var exchangeProvider = Provider{Provider: relayproto.Provider{ID: "exchange", Name: "EXchange", TokenFormat: relayproto.FormatPeatio, DefaultLifetime: relayproto.Duration(4 * time.Hour)}}

func checkPageHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}
