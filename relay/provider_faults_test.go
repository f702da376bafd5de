package relay

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/relayproto"
)

// TestRefreshProviderErrorsAreClear checks each way a provider can fail gives a 502
// that says which way, with source "provider", and leaves the blob usable.
func TestRefreshProviderErrorsAreClear(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	a := f.connect(relayURL)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	f.mutate = func(s string) string {
		return strings.Replace(s, `token_url = "`+f.exURL+`/oauth/token"`, `token_url = "`+down+`/oauth/token"`, 1)
	}
	_, downURL := f.newRelay()
	f.mutate = nil

	// A slow provider's call outlives the device's wait (it goes on for a retry), so it
	// hangs on a blob of its own.
	hung := f.connect(relayURL)
	tests := []struct {
		name     string
		relay    string
		blob     string
		fail     fakeexchange.Failure
		status   int
		wantDesc string
	}{
		{"down", downURL, a.Refresh, 0, 0, "cannot be reached"},
		{"slow", relayURL, hung.Refresh, fakeexchange.FailHang, 0, "did not answer in time"},
		{"500", relayURL, a.Refresh, fakeexchange.Fail500, 500, "answered HTTP 500"},
		{"not json", relayURL, a.Refresh, fakeexchange.FailNonJSON, 200, "not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fail != 0 {
				f.ex.FailNext("/oauth/token", 1, tc.fail)
			}
			status, body := f.refresh(tc.relay, tc.blob, f.proof(relayproto.OpRefresh, tc.blob))
			e := wantError(t, status, body, http.StatusBadGateway, "provider_unavailable")
			if e.Source != relayproto.SourceProvider || e.ProviderStatus != tc.status || !strings.Contains(e.Description, tc.wantDesc) {
				t.Errorf("error = %+v, want source provider, provider_status %d, description with %q", e, tc.status, tc.wantDesc)
			}
		})
	}
	if status, body := f.refresh(relayURL, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh)); status != http.StatusOK {
		t.Errorf("refresh after the faults = %d %s", status, body)
	}
}
