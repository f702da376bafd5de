package relay

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

// served is a relay running Serve on real loopback listeners.
type served struct {
	s          *Server
	url        string // the public listener
	metricsURL string
}

// serveRelay builds a relay from the fixture's config (after edit, if not nil) and runs
// Serve on fresh loopback listeners until the test ends, when it checks the shutdown
// was clean.
func (f *fixture) serveRelay(scheme string, edit func(*Server)) *served {
	f.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	publicURL := scheme + "://" + ln.Addr().String()
	f.ex.AddRedirectURI(publicURL + "/v1/callback")
	s := f.newRelayAt(publicURL)
	if edit != nil {
		edit(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, mln) }()
	f.t.Cleanup(func() {
		// A connection the client dialled but never used is "new" to the server, and
		// http.Server.Shutdown waits 5 s before it counts such a one as idle: close ours
		// first so the grace period measures requests in flight, not our pool.
		f.client.CloseIdleConnections()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				f.t.Errorf("Serve = %v, want a clean shutdown", err)
			}
		case <-time.After(30 * time.Second):
			f.t.Error("Serve did not return after the shutdown")
		}
	})
	return &served{s: s, url: publicURL, metricsURL: "http://" + mln.Addr().String()}
}

// writeSelfSigned writes cert.pem and key.pem for 127.0.0.1 into the fixture's folder
// and returns a pool that trusts the certificate.
func (f *fixture) writeSelfSigned() *x509.CertPool {
	f.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tokentray relay test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		f.t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		f.t.Fatal(err)
	}
	f.writeFile("cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	f.writeFile("key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		f.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func withTLS(s string) string {
	return strings.Replace(s, `seal_keys_file = "seal.keys"`, `seal_keys_file = "seal.keys"
tls_cert = "cert.pem"
tls_key = "key.pem"`, 1)
}

func TestServeTLS(t *testing.T) {
	f := newFixture(t)
	pool := f.writeSelfSigned()
	f.mutate = withTLS
	r := f.serveRelay("https", nil)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(r.url + "/healthz")
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("healthz over TLS = %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	// The whole flow runs over TLS: the callback, the redeem and a refresh.
	f.client.Transport = client.Transport
	a := f.connect(r.url)
	if status, body := f.refresh(r.url, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh)); status != http.StatusOK {
		t.Fatalf("refresh over TLS = %d %s", status, body)
	}
	old := &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}
	if _, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: old}}).Get(r.url + "/healthz"); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	resp, err = http.Get("http://" + strings.TrimPrefix(r.url, "https://") + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP to the TLS listener was served")
		}
	}
}

func TestNewRefusesBadTLSFiles(t *testing.T) {
	f := newFixture(t)
	f.writeSelfSigned()
	f.writeFile("key.pem", "-----BEGIN EC PRIVATE KEY-----\nbm90IGEga2V5\n-----END EC PRIVATE KEY-----\n")
	f.writeFile("relay.toml", withTLS(f.configText("https://relay.example.com")))
	cfg, err := LoadConfig(f.dir + "/relay.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, WithLogger(discardLogger()))
	if err == nil || !strings.Contains(err.Error(), "tls_cert and tls_key") {
		t.Fatalf("New with a broken key = %v, want a tls_cert and tls_key error", err)
	}
}

func TestSlowClientIsCut(t *testing.T) {
	f := newFixture(t)
	r := f.serveRelay("http", func(s *Server) {
		s.timeouts.readHeader = 300 * time.Millisecond
		s.timeouts.read = time.Second
	})
	addr := strings.TrimPrefix(r.url, "http://")
	tests := []struct {
		name string
		sent string // what the client sends before it stalls
	}{
		{"headers never end", "GET /healthz HTTP/1.1\r\nHost: relay\r\nX-Slow: "},
		{"body never ends", "POST /v1/refresh HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"provider\":"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tc.sent); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_ = conn.SetReadDeadline(start.Add(10 * time.Second))
			// The relay either answers an error and closes, or just closes.
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err == nil {
				if resp.StatusCode < 400 {
					t.Errorf("stalled request answered %d", resp.StatusCode)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				var one [1]byte
				_, err = conn.Read(one[:])
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the relay kept a stalled connection open for %s", time.Since(start).Round(time.Millisecond))
			}
		})
	}
	if resp, err := http.Get(r.url + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz after slow clients: %v", err)
	}
}

func TestProviderCallsCapped(t *testing.T) {
	f := newFixture(t)
	_, fast := f.newRelay()
	blobs := []string{f.connect(fast).Refresh, f.connect(fast).Refresh, f.connect(fast).Refresh}
	calls := f.ex.Calls("/oauth/token")

	// Another relay, same keys: one provider call a second, at most 0.5 s to wait.
	f.mutate = func(s string) string {
		s = strings.Replace(s, `provider_timeout = "2s"`, `provider_timeout = "1s"`, 1)
		return strings.Replace(s, "rate_per_minute = 100000", "rate_per_minute = 100000\nprovider_calls_per_second = 1", 1)
	}
	r := f.serveRelay("http", nil)
	type answer struct {
		status     int
		body       []byte
		retryAfter string
	}
	answers := make(chan answer, len(blobs))
	for _, b := range blobs {
		go func() {
			resp, err := f.client.Post(r.url+"/v1/refresh", "application/json",
				jsonBody(t, relayproto.RefreshRequest{Provider: "exchange", Refresh: b, Proof: f.proof(relayproto.OpRefresh, b)}))
			if err != nil {
				answers <- answer{status: -1, body: []byte(err.Error())}
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, body, resp.Header.Get("Retry-After")}
		}()
	}
	ok, busy := 0, 0
	for range blobs {
		a := <-answers
		switch a.status {
		case http.StatusOK:
			ok++
		default:
			e := wantError(t, a.status, a.body, http.StatusServiceUnavailable, "provider_busy")
			if e.Source != relayproto.SourceRelay || a.retryAfter != "1" {
				t.Errorf("busy answer: source %q, Retry-After %q; want relay, 1", e.Source, a.retryAfter)
			}
			busy++
		}
	}
	// The first call goes at once; the others would wait a second or two for the
	// limit, longer than half of provider_timeout, and are refused at once.
	if ok != 1 || busy != 2 {
		t.Errorf("%d ok and %d busy, want 1 and 2", ok, busy)
	}
	if n := f.ex.Calls("/oauth/token") - calls; n != ok {
		t.Errorf("provider token calls = %d, want %d (one per answered refresh, none for busy ones)", n, ok)
	}
	if m := scrape(t, r.metricsURL); !strings.Contains(m, `tokentray_relay_provider_throttled_total{provider="exchange"} `) {
		t.Errorf("metrics lack the throttled count:\n%s", m)
	}
}

// scrape fetches /metrics from a metrics listener.
func scrape(t *testing.T, metricsURL string) string {
	t.Helper()
	resp, err := http.Get(metricsURL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(body)
}
