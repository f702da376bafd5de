package oauthflow

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/relayproto"
)

const testState = "c3RhdGUtc3RhdGUtc3RhdGUtc3RhdGUtc3RhdGUtc3Q"

func TestParseCallback(t *testing.T) {
	relay := flowMode{}
	direct := flowMode{direct: true, issuer: "https://id.example.com"}
	strict := flowMode{direct: true, issuer: "https://id.example.com", issRequired: true}
	tests := []struct {
		name    string
		query   string
		mode    flowMode
		result  string
		code    string
		wantErr error // errWrongState, ErrBadResponse, ErrIssuerMismatch, or &Error{Code}
	}{
		{name: "result", query: "state=S&result=R1", mode: relay, result: "R1"},
		{name: "code", query: "state=S&code=C1", mode: direct, code: "C1"},
		{name: "code with right iss", query: "state=S&code=C1&iss=https%3A%2F%2Fid.example.com", mode: strict, code: "C1"},
		{name: "code iss unknown issuer ignored", query: "state=S&code=C1&iss=x", mode: flowMode{direct: true}, code: "C1"},
		{name: "no state", query: "result=R1", mode: relay, wantErr: errWrongState},
		{name: "wrong state", query: "state=T&result=R1", mode: relay, wantErr: errWrongState},
		{name: "state prefix", query: "state=" + testState[:10] + "&result=R1", mode: relay, wantErr: errWrongState},
		{name: "two states", query: "state=S&state=S&result=R1", mode: relay, wantErr: errWrongState},
		{name: "error without state", query: "error=access_denied", mode: relay, wantErr: errWrongState},
		{name: "provider error", query: "state=S&error=access_denied&error_description=no+way&error_source=provider", mode: relay, wantErr: &Error{Code: "access_denied", Source: relayproto.SourceProvider}},
		{name: "relay error", query: "state=S&error=server_error&error_source=relay", mode: relay, wantErr: &Error{Code: "server_error", Source: relayproto.SourceRelay}},
		{name: "direct error is the provider's", query: "state=S&error=access_denied&error_source=relay", mode: direct, wantErr: &Error{Code: "access_denied", Source: relayproto.SourceProvider}},
		{name: "neither", query: "state=S", mode: relay, wantErr: ErrBadResponse},
		{name: "code in relay mode", query: "state=S&code=C", mode: relay, wantErr: ErrBadResponse},
		{name: "result in direct mode", query: "state=S&result=R", mode: direct, wantErr: ErrBadResponse},
		{name: "two results", query: "state=S&result=A&result=B", mode: relay, wantErr: ErrBadResponse},
		{name: "wrong iss", query: "state=S&code=C&iss=https%3A%2F%2Fevil.example.com", mode: direct, wantErr: ErrIssuerMismatch},
		{name: "wrong iss on error too", query: "state=S&error=x&iss=https%3A%2F%2Fevil.example.com", mode: direct, wantErr: ErrIssuerMismatch},
		{name: "missing promised iss", query: "state=S&code=C", mode: strict, wantErr: ErrIssuerMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(strings.ReplaceAll(tt.query, "state=S", "state="+testState))
			if err != nil {
				t.Fatal(err)
			}
			cb, err := parseCallback(q, testState, tt.mode)
			if tt.wantErr == nil {
				if err != nil || cb.result != tt.result || cb.code != tt.code {
					t.Fatalf("parseCallback(%s) = %+v, %v, want result %q code %q", tt.query, cb, err, tt.result, tt.code)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("parseCallback(%s) error = %v, want %v", tt.query, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testState) {
				t.Errorf("error %q holds the state", err)
			}
		})
	}
}

// FuzzCallback feeds arbitrary queries to the callback handling: a
// callback is accepted only with this flow's exact state, an accepted one
// carries a result, errors never hold the state, and the page shown for
// any outcome escapes what the query said.
func FuzzCallback(f *testing.F) {
	for _, s := range []string{
		"state=S&result=R1", "state=S&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		"state=T&result=R", "result=R", "state=S&state=S", "state=S&error=x&error_source=relay", "%zz", "state=S&result=",
	} {
		f.Add(strings.ReplaceAll(s, "state=S", "state="+testState), false)
		f.Add(strings.ReplaceAll(s, "result", "code"), true)
	}
	f.Fuzz(func(t *testing.T, raw string, direct bool) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		cb, err := parseCallback(q, testState, flowMode{direct: direct, issuer: "https://id.example.com"})
		if err == nil {
			if len(q["state"]) != 1 || q.Get("state") != testState {
				t.Fatalf("accepted a callback without the exact state: %q", raw)
			}
			if (direct && cb.code == "") || (!direct && cb.result == "") {
				t.Fatalf("accepted a callback without a %s", map[bool]string{true: "code", false: "result"}[direct])
			}
			return
		}
		if strings.Contains(err.Error(), testState) {
			t.Fatalf("error %q holds the state", err)
		}
		w := httptest.NewRecorder()
		writePage(w, 200, errorPage(err))
		if markup := pageMarkup(w.Body.String()); strings.ContainsAny(markup, "<>") {
			t.Fatalf("page body holds markup that is not the template's: %q", markup)
		}
		var e *Error
		if errors.As(err, &e) && e.Description != "" && !strings.Contains(w.Body.String(), templateEscaped(e.Description)) {
			t.Fatalf("page does not show the description %q", e.Description)
		}
	})
}

// pageMarkup returns the page's body with the template's own tags removed:
// whatever '<' or '>' is left came from the input unescaped.
func pageMarkup(page string) string {
	i, j := strings.Index(page, "<body>"), strings.LastIndex(page, "</body>")
	if i < 0 || j < i {
		return "<missing body>"
	}
	body := page[i+len("<body>") : j]
	for _, tag := range []string{"<h1>", "</h1>", "<p>", "</p>", "<pre>", "</pre>"} {
		body = strings.ReplaceAll(body, tag, "")
	}
	return body
}

// templateEscaped escapes s as html/template does for element text.
func templateEscaped(s string) string {
	w := httptest.NewRecorder()
	writePage(w, 200, page{Detail: s})
	b := w.Body.String()
	i := strings.Index(b, "<pre>")
	j := strings.LastIndex(b, "</pre>")
	if i < 0 || j < i {
		return ""
	}
	return b[i+5 : j]
}
