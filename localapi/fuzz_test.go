package localapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/localapi"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/vault"
)

// FuzzServeHTTP sends arbitrary methods, paths, bodies and Origin headers to
// the handler (over an agent with no relay and no connections) and checks
// that every answer is one of the API's: 200 with a JSON body, or an error
// body whose code matches its status; never a 500 and never a panic.
func FuzzServeHTTP(f *testing.F) {
	seeds := []struct{ method, path, body, origin string }{
		{"GET", "/v1/status", "", ""},
		{"GET", "/v1/status", "", "https://evil.example"},
		{"POST", "/v1/status", "", ""},
		{"GET", "/v1/connections", "", ""},
		{"GET", "/v1/connections/x", "", ""},
		{"PATCH", "/v1/connections/x", `{"label":"y"}`, ""},
		{"DELETE", "/v1/connections/x", "", ""},
		{"GET", "/v1/connections/x/token?min_valid=60", "", ""},
		{"GET", "/v1/connections/x/token?min_valid=-1", "", ""},
		{"POST", "/v1/connections/x/sign", `{"method":"GET","path":"/api/v2/orders","params":{"a":"b"}}`, ""},
		{"POST", "/v1/connections/x/refresh", `{"if_generation":3}`, ""},
		{"POST", "/v1/connections/x/refresh", `{}]`, ""},
		{"POST", "/v1/connect", `{"provider":"exchange","scopes":["trade"],"fields":{}}`, ""},
		{"PATCH", "/v1/settings", `{"refresh_margin":"20m","autostart":true}`, ""},
		{"PATCH", "/v1/settings", `{"refresh_margin":"banana"}`, ""},
		{"PATCH", "/v1/settings", `{"refresh_margin":"15m"} x`, ""},
		{"GET", "/v1/activity", "", ""},
		{"GET", "//v1/../status", "", ""},
		{"GET", "/v1/connections/%2F/token", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body, s.origin)
	}
	dir := f.TempDir()
	v, err := vault.Open(context.Background(), vault.Options{Dir: dir, Mode: vault.ModeMemory, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { v.Close() })
	a, err := agent.New(agent.Config{Vault: v, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(a.Close)
	srv := localapi.NewServer(a, slog.New(slog.DiscardHandler))
	statusOf := map[string]int{
		localclient.CodeBadRequest: 400, localclient.CodeForbidden: 403, localclient.CodeNotFound: 404,
		localclient.CodeNeedsReconnect: 409, localclient.CodeProviderError: 502, localclient.CodeRelayUnreachable: 503,
	}

	f.Fuzz(func(t *testing.T, method, path, body, origin string) {
		req, err := http.NewRequest(method, "http://tokentray"+path, strings.NewReader(body))
		if err != nil || !strings.HasPrefix(req.URL.Path, "/") {
			return
		}
		if req.Method == "GET" && req.URL.Path == "/v1/events" && origin == "" {
			return // a stream: it ends only when the client leaves
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code == http.StatusOK {
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %q: 200 with a body that is not JSON: %q", method, path, w.Body.Bytes())
			}
			return
		}
		var e struct {
			Error localclient.ErrorBody `json:"error"`
		}
		dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s %q: %d with a body that is not the error JSON: %q", method, path, w.Code, w.Body.Bytes())
		}
		want, known := statusOf[e.Error.Code]
		if w.Code == http.StatusMethodNotAllowed {
			want, known = 405, e.Error.Code == localclient.CodeBadRequest && w.Header().Get("Allow") != ""
		}
		if !known || w.Code != want {
			t.Fatalf("%s %q: status %d with code %q", method, path, w.Code, e.Error.Code)
		}
		if origin != "" && w.Code != http.StatusForbidden {
			t.Fatalf("%s %q with Origin %q: status %d, want 403", method, path, origin, w.Code)
		}
	})
}
