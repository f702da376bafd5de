package relayclient

import (
	"context"
	"errors"
	"github.com/tokentray/tokentray/internal/devstack"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

// TestLoopbackBadCallbacks sends the loopback every wrong request before
// the right one: each gets its status and the flow keeps waiting.
func TestLoopbackBadCallbacks(t *testing.T) {
	d := newRelayDouble(t)
	b := &devstack.PageBrowser{}
	type step struct {
		name   string
		path   string // path and query; STATE is replaced by the device state
		host   string // Host header; "" keeps 127.0.0.1:PORT
		method string
		status int
		text   string
	}
	steps := []step{
		{name: "wrong path", path: "/other?state=STATE&result=x", status: 404, text: "Not found"},
		{name: "root", path: "/", status: 404},
		{name: "wrong host", path: "/callback?state=STATE&result=x", host: "localhost", status: 400},
		{name: "rebinding host", path: "/callback?state=STATE&result=x", host: "evil.example:80", status: 400},
		{name: "post", path: "/callback?state=STATE&result=x", method: "POST", status: 405},
		{name: "missing state", path: "/callback?result=x", status: 400, text: "does not belong"},
		{name: "wrong state", path: "/callback?state=AAAA&result=x", status: 400, text: "does not belong"},
		{name: "empty state", path: "/callback?state=&error=access_denied", status: 400},
		{name: "twice state", path: "/callback?state=STATE&state=STATE&result=x", status: 400},
		{name: "wrong state with error", path: "/callback?state=nope&error=access_denied&error_description=%3Cscript%3E", status: 400},
	}
	open := func(ctx context.Context, authURL string) error {
		pu, _ := url.Parse(authURL)
		d.mu.Lock()
		f := d.flows[pu.Query().Get("state")]
		d.mu.Unlock()
		lb, _ := url.Parse(f.loopback)
		if lb.Hostname() != "127.0.0.1" || lb.Path != oauthflow.CallbackPath {
			t.Errorf("loopback = %q, want http://127.0.0.1:PORT/callback", f.loopback)
		}
		for _, s := range steps {
			req, _ := http.NewRequestWithContext(ctx, cmp(s.method, "GET"), "http://"+lb.Host+strings.ReplaceAll(s.path, "STATE", url.QueryEscape(f.state)), nil)
			if s.host != "" {
				req.Host = s.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("%s: %v", s.name, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != s.status || !strings.Contains(string(body), s.text) {
				t.Errorf("%s: %d %q, want %d with %q", s.name, resp.StatusCode, body, s.status, s.text)
			}
			if strings.Contains(string(body), "<script>") {
				t.Errorf("%s: page holds unescaped input", s.name)
			}
			devstack.CheckPageHeaders(t, resp.Header)
		}
		return b.Open(ctx, authURL) // now the real answer
	}
	tok, err := oauthflow.ConnectRelay(context.Background(), oauthflow.RelayConnect{
		Relay: &Client{BaseURL: d.srv.URL, Device: newTestDevice(t)}, Provider: exchangeProvider, Open: open, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("ConnectRelay after bad callbacks: %v", err)
	}
	if tok.AccessKey != "AK1" {
		t.Errorf("AccessKey = %q, want AK1", tok.AccessKey)
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestLoopbackListensOnLoopbackOnly checks the listener is bound to
// 127.0.0.1 only: another local address of the machine does not reach it.
func TestLoopbackListensOnLoopbackOnly(t *testing.T) {
	d := newRelayDouble(t)
	var port string
	open := func(ctx context.Context, authURL string) error {
		pu, _ := url.Parse(authURL)
		d.mu.Lock()
		lb, _ := url.Parse(d.flows[pu.Query().Get("state")].loopback)
		d.mu.Unlock()
		port = lb.Port()
		// 127.0.0.2 is loopback too, but not the bound address.
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.2", port), time.Second)
		if err == nil {
			c.Close()
			t.Errorf("listener answers on 127.0.0.2:%s; it must bind 127.0.0.1 only", port)
		}
		return errors.New("no browser here") // logged, the flow keeps waiting
	}
	_, err := oauthflow.ConnectRelay(context.Background(), oauthflow.RelayConnect{
		Relay: &Client{BaseURL: d.srv.URL, Device: newTestDevice(t)}, Provider: exchangeProvider, Open: open, Timeout: 300 * time.Millisecond,
	})
	if !errors.Is(err, oauthflow.ErrTimeout) {
		t.Fatalf("ConnectRelay = %v, want oauthflow.ErrTimeout after an opener error", err)
	}
	if port == "" || port == "0" {
		t.Errorf("port = %q, want an ephemeral port", port)
	}
}

// TestLoopbackRedeemFailure: a result the relay will not redeem ends the
// flow with the relay's error, shown on the page.
func TestLoopbackRedeemFailure(t *testing.T) {
	d := newRelayDouble(t)
	d.callbackQ = url.Values{"result": {"not-a-result"}, "state": {"DEVICE_STATE"}}
	b := &devstack.PageBrowser{}
	_, err := oauthflow.ConnectRelay(context.Background(), oauthflow.RelayConnect{
		Relay: &Client{BaseURL: d.srv.URL, Device: newTestDevice(t)}, Provider: exchangeProvider, Open: b.Open, Timeout: 10 * time.Second,
	})
	var e *oauthflow.Error
	if !errors.As(err, &e) || e.Code != "invalid_grant" || e.Source != relayproto.SourceRelay {
		t.Fatalf("ConnectRelay = %v, want the relay's invalid_grant", err)
	}
	if _, body, _ := b.Page(); !strings.Contains(body, "invalid_grant") {
		t.Errorf("page does not show the error: %s", body)
	}
}
