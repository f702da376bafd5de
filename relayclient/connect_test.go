package relayclient

import (
	"context"
	"encoding/base64"
	"errors"
	"github.com/tokentray/tokentray/internal/devstack"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

var exchangeProvider = oauthflow.Provider{Provider: relayproto.Provider{ID: "exchange", Name: "EXchange", TokenFormat: relayproto.FormatPeatio, DefaultLifetime: relayproto.Duration(4 * time.Hour)}}

func TestConnectRelay(t *testing.T) {
	d := newRelayDouble(t)
	dev := newTestDevice(t)
	b := &devstack.PageBrowser{}
	var onURL string
	tok, err := oauthflow.ConnectRelay(context.Background(), oauthflow.RelayConnect{
		Relay:    &Client{BaseURL: d.srv.URL, Device: dev},
		Provider: exchangeProvider,
		Scopes:   []string{"profile", "history", "trade"},
		Open:     b.Open,
		OnURL:    func(u string) { onURL = u },
		Timeout:  10 * time.Second,
	})
	if err != nil {
		t.Fatalf("ConnectRelay: %v", err)
	}
	if tok.AccessKey != "AK1" || tok.SecretKey != "SK1" || tok.TokenType != relayproto.FormatPeatio {
		t.Errorf("token keys = %q/%q (%s), want AK1/SK1 peatio", tok.AccessKey, tok.SecretKey, tok.TokenType)
	}
	if !slices.Equal(tok.ScopesGranted, []string{"profile", "history"}) || !slices.Equal(tok.ScopesRequested, []string{"profile", "history", "trade"}) {
		t.Errorf("scopes = %q granted, %q requested", tok.ScopesGranted, tok.ScopesRequested)
	}
	if !strings.HasPrefix(tok.RefreshCredential, "BLOB-") {
		t.Errorf("Refresh = %q, want the relay's blob", tok.RefreshCredential)
	}
	d.mu.Lock()
	for _, f := range d.flows {
		if raw, err := base64.RawURLEncoding.Strict().DecodeString(f.state); err != nil || len(raw) != 32 {
			t.Errorf("state is not 32 random bytes in base64url: %d bytes, %v", len(raw), err)
		}
	}
	d.mu.Unlock()
	if onURL == "" || len(b.Opened()) != 1 || b.Opened()[0] != onURL {
		t.Errorf("OnURL got %q, opener got %q", onURL, b.Opened())
	}
	status, body, h := b.Page()
	if status != 200 || !strings.Contains(body, "Connected") {
		t.Errorf("final page = %d %q", status, body)
	}
	devstack.CheckPageHeaders(t, h)
}

func TestConnectRelayErrors(t *testing.T) {
	tests := []struct {
		name     string
		callback url.Values // what the relay sends to the loopback; DEVICE_STATE is replaced
		wantCode string
		wantSrc  string
		wantText string
	}{
		{
			name:     "provider refusal verbatim",
			callback: url.Values{"error": {"access_denied"}, "error_description": {"The resource owner <b>denied</b> the request."}, "error_source": {"provider"}, "state": {"DEVICE_STATE"}},
			wantCode: "access_denied", wantSrc: relayproto.SourceProvider, wantText: "The resource owner &lt;b&gt;denied&lt;/b&gt; the request.",
		},
		{
			name:     "relay refusal",
			callback: url.Values{"error": {"ticket_expired"}, "error_description": {"the flow took too long"}, "error_source": {"relay"}, "state": {"DEVICE_STATE"}},
			wantCode: "ticket_expired", wantSrc: relayproto.SourceRelay, wantText: "the flow took too long",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newRelayDouble(t)
			d.callbackQ = tt.callback
			b := &devstack.PageBrowser{}
			_, err := oauthflow.ConnectRelay(context.Background(), oauthflow.RelayConnect{
				Relay: &Client{BaseURL: d.srv.URL, Device: newTestDevice(t)}, Provider: exchangeProvider,
				Scopes: []string{"profile"}, Open: b.Open, Timeout: 10 * time.Second,
			})
			var e *oauthflow.Error
			if !errors.As(err, &e) {
				t.Fatalf("ConnectRelay error = %v, want *oauthflow.Error", err)
			}
			if e.Code != tt.wantCode || e.Source != tt.wantSrc || e.Description != tt.callback.Get("error_description") {
				t.Errorf("error = %+v, want code %s source %s, description verbatim", e, tt.wantCode, tt.wantSrc)
			}
			_, body, h := b.Page()
			if !strings.Contains(body, tt.wantText) || strings.Contains(body, "<b>") {
				t.Errorf("error page does not show the escaped text %q:\n%s", tt.wantText, body)
			}
			devstack.CheckPageHeaders(t, h)
		})
	}
}

func TestConnectRelayDown(t *testing.T) {
	d := newRelayDouble(t)
	d.srv.Close()
	_, err := oauthflow.ConnectRelay(context.Background(), oauthflow.RelayConnect{
		Relay: &Client{BaseURL: d.srv.URL, Device: newTestDevice(t)}, Provider: exchangeProvider,
		Open: func(context.Context, string) error { t.Error("opener called though the relay is down"); return nil },
	})
	if !errors.Is(err, ErrRelayUnreachable) {
		t.Fatalf("ConnectRelay with the relay down = %v, want ErrRelayUnreachable", err)
	}
}

func TestConnectRelayTimeoutAndCancel(t *testing.T) {
	d := newRelayDouble(t)
	relay := &Client{BaseURL: d.srv.URL, Device: newTestDevice(t)}
	var loopback string
	noBrowser := func(_ context.Context, u string) error {
		pu, _ := url.Parse(u)
		d.mu.Lock()
		loopback = d.flows[pu.Query().Get("state")].loopback
		d.mu.Unlock()
		return nil
	}
	_, err := oauthflow.ConnectRelay(context.Background(), oauthflow.RelayConnect{Relay: relay, Provider: exchangeProvider, Open: noBrowser, Timeout: 200 * time.Millisecond})
	if !errors.Is(err, oauthflow.ErrTimeout) {
		t.Fatalf("ConnectRelay after its timeout = %v, want oauthflow.ErrTimeout", err)
	}
	if _, err := http.Get(loopback); err == nil {
		t.Errorf("loopback %s still answers after the flow ended", loopback)
	}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := oauthflow.ConnectRelay(ctx, oauthflow.RelayConnect{Relay: relay, Provider: exchangeProvider, OnURL: func(string) { cancel() }})
		errc <- err
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ConnectRelay after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ConnectRelay did not end on cancel")
	}
}
