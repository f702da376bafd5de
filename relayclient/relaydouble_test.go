package relayclient

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

// testDevice is an in-memory DeviceSigner.
type testDevice struct{ priv ed25519.PrivateKey }

func newTestDevice(t testing.TB) *testDevice {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testDevice{priv: priv}
}

func (d *testDevice) PublicKey() ed25519.PublicKey { return d.priv.Public().(ed25519.PublicKey) }
func (d *testDevice) Sign(msg []byte) ([]byte, error) {
	return ed25519.Sign(d.priv, msg), nil
}

// relayDouble is a test double of the relay's HTTP API: it checks what the
// device sends exactly as docs/relay.md §2/§3 say, and plays the browser leg
// (authorize URL → 302 to the loopback) itself.
type relayDouble struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	clock      time.Time          // relay clock for proofs; guarded by mu
	flows      map[string]flowRec // by ticket; guarded by mu
	results    map[string]flowRec // by result; guarded by mu
	callbackQ  url.Values         // when set, the callback answers this query instead of a result
	proofs     int                // proofs checked; guarded by mu
	blobHeader string             // last X-Tokentray-Blob; guarded by mu
	refreshOp  func(w http.ResponseWriter, r *http.Request)
}

type flowRec struct {
	loopback, state, challenge, deviceKey, provider string
}

func newRelayDouble(t *testing.T) *relayDouble {
	d := &relayDouble{t: t, clock: time.Now(), flows: map[string]flowRec{}, results: map[string]flowRec{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/providers", func(w http.ResponseWriter, r *http.Request) {
		writeTestJSON(w, 200, map[string]any{"providers": []map[string]any{{
			"id": "exchange", "name": "EXchange", "token_format": "peatio", "default_lifetime": "4h",
			"scopes": []map[string]any{{"name": "profile", "required": true, "default": true}},
		}}})
	})
	mux.HandleFunc("POST /v1/authorize", d.serveAuthorize)
	mux.HandleFunc("GET /provider/authorize", d.serveProviderAuthorize)
	mux.HandleFunc("POST /v1/redeem", d.serveRedeem)
	mux.HandleFunc("POST /v1/refresh", func(w http.ResponseWriter, r *http.Request) { d.serveProofed(w, r, "refresh") })
	mux.HandleFunc("POST /v1/revoke", func(w http.ResponseWriter, r *http.Request) { d.serveProofed(w, r, "revoke") })
	d.srv = httptest.NewServer(mux)
	t.Cleanup(d.srv.Close)
	return d
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func relayErrBody(w http.ResponseWriter, status int, code, desc, source string) {
	writeTestJSON(w, status, map[string]any{"error": code, "error_description": desc, "source": source})
}

func (d *relayDouble) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Provider, Loopback, State, CodeChallenge, CodeChallengeMethod, DeviceKey string
		Scopes                                                                   []string
		Fields                                                                   map[string]string
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		relayErrBody(w, 400, "invalid_request", "not json", "relay")
		return
	}
	for _, k := range []string{"provider", "scopes", "fields", "loopback", "state", "code_challenge", "code_challenge_method", "device_key"} {
		if _, ok := raw[k]; !ok {
			relayErrBody(w, 400, "invalid_request", "missing "+k, "relay")
			return
		}
	}
	b, _ := json.Marshal(raw)
	json.Unmarshal(b, &struct {
		P  *string            `json:"provider"`
		L  *string            `json:"loopback"`
		S  *string            `json:"state"`
		C  *string            `json:"code_challenge"`
		M  *string            `json:"code_challenge_method"`
		K  *string            `json:"device_key"`
		Sc *[]string          `json:"scopes"`
		F  *map[string]string `json:"fields"`
	}{&in.Provider, &in.Loopback, &in.State, &in.CodeChallenge, &in.CodeChallengeMethod, &in.DeviceKey, &in.Scopes, &in.Fields})
	lb, err := url.Parse(in.Loopback)
	if err != nil || lb.Scheme != "http" || lb.Hostname() != "127.0.0.1" || lb.Port() == "" || lb.RawQuery != "" {
		relayErrBody(w, 400, "invalid_request", "bad loopback", "relay")
		return
	}
	if in.CodeChallengeMethod != "S256" || len(in.CodeChallenge) != 43 || len(in.State) > 128 {
		relayErrBody(w, 400, "invalid_request", "bad pkce or state", "relay")
		return
	}
	if k, err := base64.RawURLEncoding.DecodeString(in.DeviceKey); err != nil || len(k) != ed25519.PublicKeySize {
		relayErrBody(w, 400, "invalid_request", "bad device key", "relay")
		return
	}
	ticket := rand.Text()
	d.mu.Lock()
	d.flows[ticket] = flowRec{loopback: in.Loopback, state: in.State, challenge: in.CodeChallenge, deviceKey: in.DeviceKey, provider: in.Provider}
	d.mu.Unlock()
	writeTestJSON(w, 200, map[string]string{"authorize_url": d.srv.URL + "/provider/authorize?state=" + ticket})
}

// serveProviderAuthorize plays provider + relay callback: 302 to the loopback.
func (d *relayDouble) serveProviderAuthorize(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	f, ok := d.flows[r.URL.Query().Get("state")]
	q := d.callbackQ
	d.mu.Unlock()
	if !ok {
		http.Error(w, "no ticket", 400)
		return
	}
	u, _ := url.Parse(f.loopback)
	if q == nil {
		result := rand.Text()
		d.mu.Lock()
		d.results[result] = f
		d.mu.Unlock()
		q = url.Values{"result": {result}, "state": {f.state}}
	} else {
		q = cloneValues(q)
		if q.Get("state") == "DEVICE_STATE" {
			q.Set("state", f.state)
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (d *relayDouble) serveRedeem(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Result       string `json:"result"`
		CodeVerifier string `json:"code_verifier"`
	}
	json.NewDecoder(r.Body).Decode(&in)
	d.mu.Lock()
	f, ok := d.results[in.Result]
	d.mu.Unlock()
	sum := sha256.Sum256([]byte(in.CodeVerifier))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != f.challenge {
		relayErrBody(w, 400, "invalid_grant", "the result does not open with this verifier", "relay")
		return
	}
	d.mu.Lock()
	delete(d.results, in.Result)
	d.mu.Unlock()
	writeTestJSON(w, 200, map[string]any{"access_token": "AK1:SK1", "token_type": "Bearer", "expires_in": 14400,
		"scope": "profile history", "refresh": "BLOB-" + f.deviceKey})
}

// serveProofed checks a refresh or revoke proof against the device key the
// blob names ("BLOB-<key>").
func (d *relayDouble) serveProofed(w http.ResponseWriter, r *http.Request, op string) {
	var in struct {
		Provider    string `json:"provider"`
		Refresh     string `json:"refresh"`
		AccessToken string `json:"access_token"`
		Proof       struct {
			Sig   string      `json:"sig"`
			TS    json.Number `json:"ts"`
			Nonce string      `json:"nonce"`
		} `json:"proof"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Provider == "" {
		relayErrBody(w, 400, "invalid_request", "bad body", "relay")
		return
	}
	d.mu.Lock()
	d.proofs++
	d.blobHeader = r.Header.Get("X-Tokentray-Blob")
	clock := d.clock
	hook := d.refreshOp
	d.mu.Unlock()
	var key []byte
	err := errors.New("blob does not name a key")
	if len(in.Refresh) >= 5+43 {
		key, err = base64.RawURLEncoding.DecodeString(in.Refresh[5 : 5+43])
	}
	sig, err2 := base64.RawURLEncoding.Strict().DecodeString(in.Proof.Sig)
	nonce, err3 := base64.RawURLEncoding.Strict().DecodeString(in.Proof.Nonce)
	if err != nil || err2 != nil || err3 != nil || len(nonce) != 16 || len(key) != ed25519.PublicKeySize {
		relayErrBody(w, 401, "invalid_proof", "malformed proof", "relay")
		return
	}
	ts, _ := in.Proof.TS.Int64()
	msg := "tokentray-proof|" + op + "|" + relayproto.BlobHash(in.Refresh) + "|" + strconv.FormatInt(ts, 10) + "|" + in.Proof.Nonce
	if !ed25519.Verify(key, []byte(msg), sig) {
		relayErrBody(w, 401, "invalid_proof", "bad signature", "relay")
		return
	}
	if diff := clock.Unix() - ts; diff > 120 || diff < -120 {
		writeTestJSON(w, 401, map[string]any{"error": "stale_proof", "error_description": "proof too old", "source": "relay", "server_time": clock.Unix()})
		return
	}
	if hook != nil {
		hook(w, r)
		return
	}
	if op == "revoke" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeTestJSON(w, 200, map[string]any{"access_token": "AK2:SK2", "token_type": "Bearer", "expires_in": 14400, "refresh": in.Refresh + "-2"})
}
