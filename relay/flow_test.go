package relay

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/relayproto"
)

func TestBrokeredFlow(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	d := newDevice()
	authURL := f.authorize(relayURL, f.authorizeRequest(d))

	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"client_id": testClientID, "redirect_uri": relayURL + "/v1/callback",
		"response_type": "code", "scope": "profile history",
	} {
		if q.Get(k) != want {
			t.Errorf("authorize_url %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if strings.Contains(authURL, testClientSecret) || q.Get("state") == d.state || q.Has("code_challenge") {
		t.Errorf("authorize_url carries a secret, the device state or a PKCE it should not")
	}

	lq := f.walk(authURL, "")
	if lq.Get("state") != d.state || lq.Get("result") == "" || lq.Has("code") {
		t.Fatalf("loopback query has keys %v, want result and state only", keys(lq))
	}
	status, body := f.redeem(relayURL, lq.Get("result"), d.verifier)
	if status != http.StatusOK {
		t.Fatalf("redeem = %d %s", status, body)
	}
	a := decodeAnswer(t, body)
	if a.TokenType != "urn:peatio:api:v2:token" || a.ExpiresIn != 4*3600 || a.Scope != "profile history" || a.Refresh == "" {
		t.Errorf("answer = type %q, expires %d, scope %q, refresh set %v", a.TokenType, a.ExpiresIn, a.Scope, a.Refresh != "")
	}
	if status, code := f.me(a.AccessToken); status != http.StatusOK {
		t.Errorf("me with the redeemed key = %d (code %d), want 200", status, code)
	}
	if n := f.ex.Calls("/oauth/token"); n != 1 {
		t.Errorf("token calls = %d, want 1", n)
	}
}

func TestProvidersList(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	resp := f.get(relayURL + "/v1/providers")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("providers = %d", resp.StatusCode)
	}
	for _, leak := range []string{testClientID, testClientSecret, "/oauth/", "other-client", otherSecret} {
		if strings.Contains(string(body), leak) {
			t.Errorf("providers list shows %q", leak)
		}
	}
	var out struct {
		Providers []map[string]any `json:"providers"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.Providers) != 2 {
		t.Fatalf("providers body %s: %v", body, err)
	}
	p := out.Providers[0]
	for _, k := range []string{"id", "name", "token_format", "default_lifetime", "api_base", "me_path", "label",
		"account_field", "allowed_hosts", "default_params", "scopes", "fields"} {
		if _, ok := p[k]; !ok {
			t.Errorf("provider lacks %q", k)
		}
	}
	if p["default_lifetime"] != "4h" || p["id"] != "exchange" {
		t.Errorf("provider = %v", p)
	}
	resp = f.get(relayURL + "/healthz")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("healthz = %d %q", resp.StatusCode, body)
	}
}

func TestRedeemWrongVerifierKeepsResult(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	d := newDevice()
	result := f.walk(f.authorize(relayURL, f.authorizeRequest(d)), "").Get("result")

	status, body := f.redeem(relayURL, result, d.verifier+"x")
	wantError(t, status, body, http.StatusBadRequest, "invalid_verifier")
	status, body = f.redeem(relayURL, result, d.verifier)
	if status != http.StatusOK {
		t.Fatalf("redeem after a wrong verifier = %d %s, want 200", status, body)
	}
	status, body = f.redeem(relayURL, result, d.verifier)
	wantError(t, status, body, http.StatusBadRequest, "result_used")
}

func TestRedeemRefusals(t *testing.T) {
	f := newFixture(t)
	s, relayURL := f.newRelay()
	d := newDevice()
	result := f.walk(f.authorize(relayURL, f.authorizeRequest(d)), "").Get("result")
	forged := []byte(result)
	forged[len(forged)/2] ^= 1
	refreshBlobAsResult, _ := s.sealer.sealJSON(purposeRefresh, "exchange", testClientID, result)
	otherProvider, _ := s.sealer.sealJSON(purposeResult, "exchange", "other-client",
		map[string]any{"ch": "x", "exp": f.clock.Now().Add(time.Minute).Unix()})
	tests := []struct {
		name, result, verifier, code string
	}{
		{"forged", string(forged), d.verifier, "invalid_result"},
		{"other purpose", refreshBlobAsResult, d.verifier, "invalid_result"},
		{"other client", otherProvider, d.verifier, "invalid_result"},
		{"no verifier", result, "", "invalid_request"},
		{"no result", "", d.verifier, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.redeem(relayURL, tc.result, tc.verifier)
			wantError(t, status, body, http.StatusBadRequest, tc.code)
		})
	}
	f.clock.Advance(resultLife + time.Second)
	status, body := f.redeem(relayURL, result, d.verifier)
	wantError(t, status, body, http.StatusBadRequest, "expired_result")
}

func TestAuthorizeRefusals(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	long := "http://127.0.0.1:8080/" + strings.Repeat("a", 240)
	tests := []struct {
		name   string
		edit   func(*relayproto.AuthorizeRequest)
		code   string
		status int
	}{
		{"unknown provider", func(r *relayproto.AuthorizeRequest) { r.Provider = "nope" }, "unknown_provider", 400},
		{"other host", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://192.168.1.2:8080/cb" }, "invalid_loopback", 400},
		{"localhost", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://localhost:8080/cb" }, "invalid_loopback", 400},
		{"https", func(r *relayproto.AuthorizeRequest) { r.Loopback = "https://127.0.0.1:8080/cb" }, "invalid_loopback", 400},
		{"userinfo", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://evil@127.0.0.1:8080/cb" }, "invalid_loopback", 400},
		{"userinfo host trick", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.1:80@evil.com/" }, "invalid_loopback", 400},
		{"query", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.1:8080/cb?x=1" }, "invalid_loopback", 400},
		{"empty query", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.1:8080/cb?" }, "invalid_loopback", 400},
		{"fragment", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.1:8080/cb#x" }, "invalid_loopback", 400},
		{"no port", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.1/cb" }, "invalid_loopback", 400},
		{"named port", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.1:http/cb" }, "invalid_loopback", 400},
		{"port zero", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.1:0/cb" }, "invalid_loopback", 400},
		{"port too big", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.1:65536/cb" }, "invalid_loopback", 400},
		{"port sign", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.1:+80/cb" }, "invalid_loopback", 400},
		{"other loopback ip", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://127.0.0.2:8080/cb" }, "invalid_loopback", 400},
		{"ipv6 unbracketed", func(r *relayproto.AuthorizeRequest) { r.Loopback = "http://::1:8080/cb" }, "invalid_loopback", 400},
		{"too long", func(r *relayproto.AuthorizeRequest) { r.Loopback = long }, "invalid_loopback", 400},
		{"backslash", func(r *relayproto.AuthorizeRequest) { r.Loopback = `http://127.0.0.1:8080\@evil.com/` }, "invalid_loopback", 400},
		{"no state", func(r *relayproto.AuthorizeRequest) { r.State = "" }, "invalid_state", 400},
		{"long state", func(r *relayproto.AuthorizeRequest) { r.State = strings.Repeat("s", 129) }, "invalid_state", 400},
		{"plain pkce", func(r *relayproto.AuthorizeRequest) { r.CodeChallengeMethod = "plain" }, "invalid_request", 400},
		{"short challenge", func(r *relayproto.AuthorizeRequest) { r.CodeChallenge = "abc" }, "invalid_request", 400},
		{"bad device key", func(r *relayproto.AuthorizeRequest) { r.DeviceKey = "AAAA" }, "invalid_device_key", 400},
		{"unknown scope", func(r *relayproto.AuthorizeRequest) { r.Scopes = []string{"withdraw"} }, "invalid_scope", 400},
		{"unknown field", func(r *relayproto.AuthorizeRequest) { r.Fields = map[string]string{"colour": "red"} }, "invalid_fields", 400},
		{"bad option", func(r *relayproto.AuthorizeRequest) { r.Fields = map[string]string{"environment": "moon"} }, "invalid_fields", 400},
		{"long field", func(r *relayproto.AuthorizeRequest) {
			r.Fields = map[string]string{"environment": strings.Repeat("x", 257)}
		}, "invalid_fields", 400},
		{"nine fields", func(r *relayproto.AuthorizeRequest) {
			r.Fields = map[string]string{}
			for _, k := range "abcdefghi" {
				r.Fields[string(k)] = "v"
			}
		}, "invalid_fields", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := f.authorizeRequest(newDevice())
			tc.edit(req)
			status, body := f.post(relayURL, "/v1/authorize", req)
			wantError(t, status, body, tc.status, tc.code)
		})
	}
	t.Run("ipv6 loopback accepted", func(t *testing.T) {
		req := f.authorizeRequest(newDevice())
		req.Loopback = "http://[::1]:8080"
		req.Scopes = []string{"trade"}
		u, _ := url.Parse(f.authorize(relayURL, req))
		if got := u.Query().Get("scope"); got != "profile trade" {
			t.Errorf("scope = %q, want the required profile added: %q", got, "profile trade")
		}
	})
	if n := f.ex.Calls("/oauth/authorize") + f.ex.Calls("/oauth/token"); n != 0 {
		t.Errorf("exchange called %d times", n)
	}
}

func TestAuthorizeBadBodies(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"not json", "provider=exchange", 400, "invalid_request"},
		{"array", "[]", 400, "invalid_request"},
		{"trailing", `{"provider":"exchange"} {}`, 400, "invalid_request"},
		{"too large", `{"state":"` + strings.Repeat("a", maxRequestBody) + `"}`, 413, "request_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.client.Post(relayURL+"/v1/authorize", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantError(t, resp.StatusCode, body, tc.status, tc.code)
		})
	}
	resp := f.get(relayURL + "/v1/authorize")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantError(t, resp.StatusCode, body, http.StatusMethodNotAllowed, "method_not_allowed")
}

func TestCallbackDenied(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	f.ex.SetApproval(fakeexchange.AutoDeny)
	d := newDevice()
	q := f.walk(f.authorize(relayURL, f.authorizeRequest(d)), "")
	if q.Get("error") != "access_denied" || q.Get("error_source") != "provider" || q.Get("state") != d.state || q.Has("result") {
		t.Errorf("loopback got error %q source %q state ok %v", q.Get("error"), q.Get("error_source"), q.Get("state") == d.state)
	}
	if q.Get("error_description") == "" {
		t.Error("the provider's error_description did not reach the loopback")
	}
}

func TestCallbackProviderFaults(t *testing.T) {
	tests := []struct {
		name string
		fail fakeexchange.Failure
		code string
	}{
		{"500", fakeexchange.Fail500, "provider_unavailable"},
		{"not json", fakeexchange.FailNonJSON, "provider_unavailable"},
		{"hang", fakeexchange.FailHang, "provider_unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, relayURL := f.newRelay()
			f.ex.FailNext("/oauth/token", 1, tc.fail)
			d := newDevice()
			q := f.walk(f.authorize(relayURL, f.authorizeRequest(d)), "")
			if q.Get("error") != tc.code || q.Get("error_source") != "provider" || q.Get("state") != d.state {
				t.Errorf("loopback got error %q source %q", q.Get("error"), q.Get("error_source"))
			}
		})
	}
}

func TestCallbackBadTicket(t *testing.T) {
	f := newFixture(t)
	s, relayURL := f.newRelay()
	d := newDevice()
	u, _ := url.Parse(f.authorize(relayURL, f.authorizeRequest(d)))
	tk := u.Query().Get("state")
	forged := []byte(tk)
	forged[len(forged)/2] ^= 1
	resultAsTicket, _ := s.sealer.sealJSON(purposeResult, "exchange", testClientID, ticket{Loopback: f.loopback})
	tests := []struct{ name, state string }{
		{"none", ""},
		{"forged", string(forged)},
		{"other purpose", resultAsTicket},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.get(relayURL + "/v1/callback?" + url.Values{"code": {"abc"}, "state": {tc.state}}.Encode())
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
				resp.Header.Get("Content-Security-Policy") != "default-src 'none'" {
				t.Errorf("callback = %d, Location %q, headers %v", resp.StatusCode, resp.Header.Get("Location"), resp.Header)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		f.clock.Advance(ticketLife + time.Second)
		resp := f.get(relayURL + "/v1/callback?" + url.Values{"code": {"abc"}, "state": {tk}}.Encode())
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "expired_ticket" || loc.Query().Get("error_source") != "relay" {
			t.Errorf("expired ticket = %d, error %q", resp.StatusCode, loc.Query().Get("error"))
		}
	})
	if n := f.ex.Calls("/oauth/token"); n != 0 {
		t.Errorf("token calls = %d, want 0", n)
	}
}

func TestPKCEToProvider(t *testing.T) {
	f := newFixture(t)
	f.mutate = func(s string) string {
		return strings.Replace(s, `token_format = "peatio"`, "token_format = \"peatio\"\npkce_to_provider = true", 1)
	}
	_, relayURL := f.newRelay()
	d := newDevice()
	u, _ := url.Parse(f.authorize(relayURL, f.authorizeRequest(d)))
	sum := f.authorizeRequest(d).CodeChallenge
	if c := u.Query().Get("code_challenge"); c == "" || c == sum || u.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("provider PKCE = %q, want the relay's own S256 challenge", c)
	}
	if q := f.walk(u.String(), ""); q.Get("result") == "" {
		t.Errorf("flow with provider PKCE failed: %q", q.Get("error"))
	}
}

func keys(v url.Values) []string {
	var out []string
	for k := range v {
		out = append(out, k)
	}
	return out
}
