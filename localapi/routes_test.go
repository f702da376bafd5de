package localapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/localclient"
)

// errorOf decodes an error answer strictly: exactly {"error":{"code","message"}}.
func errorOf(t *testing.T, body []byte) localclient.ErrorBody {
	t.Helper()
	var e struct {
		Error localclient.ErrorBody `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Error
}

func TestRequestsFromWebPagesRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	tests := []struct {
		name, method, path string
		header             http.Header
	}{
		{"origin on status", "GET", "/v1/status", http.Header{"Origin": {"https://evil.example"}}},
		{"origin on token", "GET", "/v1/connections/" + conn.ID + "/token", http.Header{"Origin": {"null"}}},
		{"referer on token", "GET", "/v1/connections/" + conn.ID + "/token", http.Header{"Referer": {"https://evil.example/page"}}},
		{"origin on an unknown path", "GET", "/nope", http.Header{"Origin": {"http://localhost"}}},
		{"origin on a wrong method", "PUT", "/v1/status", http.Header{"Origin": {"http://localhost"}}},
		{"referer on sign", "POST", "/v1/connections/" + conn.ID + "/sign", http.Header{"Referer": {"http://127.0.0.1/"}}},
		{"empty origin on token", "GET", "/v1/connections/" + conn.ID + "/token", http.Header{"Origin": {""}}},
		{"empty referer on token", "GET", "/v1/connections/" + conn.ID + "/token", http.Header{"Referer": {""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.NewReader(`{"method":"GET","path":"/api/v2/members/me"}`)
			status, h, b := e.raw(tt.method, tt.path, body, tt.header)
			if status != http.StatusForbidden || errorOf(t, b).Code != localclient.CodeForbidden {
				t.Fatalf("%s %s with %v = %d %s, want 403 forbidden", tt.method, tt.path, tt.header, status, b)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q, want application/json", ct)
			}
			if bytes.Contains(b, []byte("secret_key")) {
				t.Fatalf("a refused request got a key: %s", b)
			}
		})
	}
	// The same request without the headers is served: the refusal is theirs.
	if status, _, _ := e.raw("GET", "/v1/connections/"+conn.ID+"/token", nil, nil); status != http.StatusOK {
		t.Fatalf("token without Origin = %d, want 200", status)
	}
}

func TestWrongMethodsAndPaths(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	id := conn.ID
	tests := []struct {
		name, method, path string
		status             int
		code, allow        string
	}{
		{"post status", "POST", "/v1/status", 405, localclient.CodeBadRequest, "GET"},
		{"delete providers", "DELETE", "/v1/providers", 405, localclient.CodeBadRequest, "GET"},
		{"post connections", "POST", "/v1/connections", 405, localclient.CodeBadRequest, "GET"},
		{"put connection", "PUT", "/v1/connections/" + id, 405, localclient.CodeBadRequest, "GET, PATCH, DELETE"},
		{"post token", "POST", "/v1/connections/" + id + "/token", 405, localclient.CodeBadRequest, "GET"},
		{"get sign", "GET", "/v1/connections/" + id + "/sign", 405, localclient.CodeBadRequest, "POST"},
		{"get refresh", "GET", "/v1/connections/" + id + "/refresh", 405, localclient.CodeBadRequest, "POST"},
		{"get connect", "GET", "/v1/connect", 405, localclient.CodeBadRequest, "POST"},
		{"post activity", "POST", "/v1/activity", 405, localclient.CodeBadRequest, "GET"},
		{"post events", "POST", "/v1/events", 405, localclient.CodeBadRequest, "GET"},
		{"post settings", "POST", "/v1/settings", 405, localclient.CodeBadRequest, "GET, PATCH"},
		{"unknown path", "GET", "/v1/nope", 404, localclient.CodeNotFound, ""},
		{"root", "GET", "/", 404, localclient.CodeNotFound, ""},
		{"v2", "GET", "/v2/status", 404, localclient.CodeNotFound, ""},
		{"too deep", "GET", "/v1/connections/" + id + "/token/extra", 404, localclient.CodeNotFound, ""},
		{"empty id", "GET", "/v1/connections//token", 404, localclient.CodeNotFound, ""},
		{"unknown connection", "GET", "/v1/connections/nope", 404, localclient.CodeNotFound, ""},
		{"token of unknown connection", "GET", "/v1/connections/nope/token", 404, localclient.CodeNotFound, ""},
		{"refresh of unknown connection", "POST", "/v1/connections/nope/refresh", 404, localclient.CodeNotFound, ""},
		{"revoke unknown connection", "DELETE", "/v1/connections/nope", 404, localclient.CodeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := e.raw(tt.method, tt.path, nil, nil)
			if status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, status, b, tt.status)
			}
			if got := errorOf(t, b).Code; got != tt.code {
				t.Fatalf("%s %s: code %q, want %q", tt.method, tt.path, got, tt.code)
			}
			if got := h.Get("Allow"); got != tt.allow {
				t.Fatalf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
			}
		})
	}
	if got := e.token(id); got.Generation != conn.Generation {
		t.Fatalf("after the refusals the generation is %d, want %d", got.Generation, conn.Generation)
	}
}

func TestBadBodiesRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	id := conn.ID
	label := strings.Repeat("x", 65<<10)
	tests := []struct {
		name, method, path, body string
		want                     string // in the message
	}{
		{"not json", "POST", "/v1/connections/" + id + "/sign", `method=GET`, "not valid JSON"},
		{"truncated", "PATCH", "/v1/connections/" + id, `{"label":"x"`, "not valid JSON"},
		{"empty patch", "PATCH", "/v1/connections/" + id, ``, "not valid JSON"},
		{"unknown field", "PATCH", "/v1/connections/" + id, `{"label":"x","lable":"y"}`, "unknown field"},
		{"unknown field in sign", "POST", "/v1/connections/" + id + "/sign", `{"method":"GET","path":"/api/v2/members/me","secret":"x"}`, "unknown field"},
		{"wrong type", "PATCH", "/v1/connections/" + id, `{"raw_keys":"no"}`, "not valid JSON"},
		{"number param", "POST", "/v1/connections/" + id + "/sign", `{"method":"GET","path":"/x","params":{"a":1}}`, "not valid JSON"},
		{"trailing object", "PATCH", "/v1/connections/" + id, `{"label":"x"} {"label":"y"}`, "trailing data"},
		{"trailing brace", "PATCH", "/v1/connections/" + id, `{"label":"x"}}`, "trailing data"},
		{"trailing bracket", "POST", "/v1/connections/" + id + "/refresh", `{}]`, "trailing data"},
		{"trailing garbage", "PATCH", "/v1/settings", `{"autostart":true}x`, "trailing data"},
		{"array", "POST", "/v1/connect", `[]`, "not valid JSON"},
		{"oversized", "PATCH", "/v1/connections/" + id, `{"label":"` + label + `"}`, "larger than 65536 bytes"},
		{"oversized whitespace", "PATCH", "/v1/settings", `{}` + strings.Repeat(" ", 65<<10), "larger than 65536 bytes"},
		{"sign without path", "POST", "/v1/connections/" + id + "/sign", `{"method":"GET"}`, `needs "method" and "path"`},
		{"connect without provider", "POST", "/v1/connect", `{}`, `needs "provider"`},
		{"negative min_valid", "GET", "/v1/connections/" + id + "/token?min_valid=-1", ``, "min_valid"},
		{"word min_valid", "GET", "/v1/connections/" + id + "/token?min_valid=1h", ``, "min_valid"},
		{"huge min_valid", "GET", "/v1/connections/" + id + "/token?min_valid=99999999999", ``, "min_valid"},
		{"bad label", "PATCH", "/v1/connections/" + id, `{"label":"two\nlines"}`, "label"},
		{"bad scope", "POST", "/v1/connect", `{"provider":"exchange","scopes":["admin"]}`, "admin"},
		{"bad field", "POST", "/v1/connect", `{"provider":"exchange","fields":{"colour":"red"}}`, "colour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, b := e.raw(tt.method, tt.path, strings.NewReader(tt.body), http.Header{"Content-Type": {"application/json"}})
			eb := errorOf(t, b)
			if status != http.StatusBadRequest || eb.Code != localclient.CodeBadRequest || !strings.Contains(eb.Message, tt.want) {
				t.Fatalf("%s %s %.40q = %d %s, want 400 bad_request mentioning %q", tt.method, tt.path, tt.body, status, b, tt.want)
			}
		})
	}
	// Nothing was lost or changed by the refusals.
	got, err := e.client.Connection(t.Context(), id)
	if err != nil || got.Label != conn.Label || got.Generation != conn.Generation || !got.RawKeys {
		t.Fatalf("after the refusals: %+v, %v; want %+v", got, err, conn)
	}
	if list, _ := e.client.Connections(t.Context()); len(list) != 1 {
		t.Fatalf("after the refusals there are %d connections, want 1", len(list))
	}
}

func TestRefreshTakesAnEmptyBody(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	status, _, b := e.raw("POST", "/v1/connections/"+conn.ID+"/refresh", http.NoBody, nil)
	var got localclient.Connection
	if status != http.StatusOK || json.Unmarshal(b, &got) != nil || got.Generation != conn.Generation+1 {
		t.Fatalf("refresh with no body = %d %s, want 200 and generation %d", status, b, conn.Generation+1)
	}
}

func TestStatusAndProviders(t *testing.T) {
	e := newEnv(t, envOptions{})
	st, err := e.client.Status(t.Context())
	if err != nil || st.Version != "test" || st.Connections != 0 || st.PID == 0 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	e.connect()
	if st, _ := e.client.Status(t.Context()); st.Connections != 1 {
		t.Fatalf("Status after connect: %d connections, want 1", st.Connections)
	}
	ps, err := e.client.Providers(t.Context())
	if err != nil || len(ps) != 1 || ps[0].ID != "exchange" || ps[0].TokenFormat != "peatio" || len(ps[0].Scopes) != 3 {
		t.Fatalf("Providers = %+v, %v", ps, err)
	}
	// The relay's list stays served while the relay is down.
	e.stack.SetRelayDown(true)
	defer e.stack.SetRelayDown(false)
	ps, err = e.client.Providers(t.Context())
	if err != nil || len(ps) != 1 {
		t.Fatalf("Providers while the relay is down = %+v, %v", ps, err)
	}
	status, _, b := e.raw("GET", "/v1/providers", nil, nil)
	for _, leak := range []string{"client_id", "client_secret", "token_url", "tokentray-demo"} {
		if status != 200 || bytes.Contains(b, []byte(leak)) {
			t.Fatalf("/v1/providers = %d and holds %q: %s", status, leak, b)
		}
	}
}
