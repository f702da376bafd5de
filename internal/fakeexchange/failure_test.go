package fakeexchange

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		n          int
		f          Failure
		wantStatus int
		wantJSON   bool
	}{
		{"500 on token", "/oauth/token", 2, Fail500, 500, false},
		{"non-JSON on token", "/oauth/token", 1, FailNonJSON, 200, false},
		{"500 on any path", "", 3, Fail500, 500, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok := f.ex.Issue()
			f.ex.FailNext(tt.path, tt.n, tt.f)
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
			for i := range tt.n {
				status, body := f.postForm(t, "/oauth/token", form, "tokentray-demo", "demo-client-secret")
				if status != tt.wantStatus || json.Valid(body) {
					t.Errorf("call %d: status %d, JSON %v; want %d and no JSON", i+1, status, json.Valid(body), tt.wantStatus)
				}
			}
			// Nothing was handled: the refresh token still works, once.
			status, _ := f.postForm(t, "/oauth/token", form, "tokentray-demo", "demo-client-secret")
			if status != http.StatusOK {
				t.Errorf("after %d failures: status %d, want 200", tt.n, status)
			}
			if got := f.ex.Calls("/oauth/token"); got != tt.n+1 {
				t.Errorf("Calls(/oauth/token) = %d, want %d", got, tt.n+1)
			}
		})
	}
}

func TestFailNextOnlyMatchingPath(t *testing.T) {
	f := newFixture(t)
	f.ex.FailNext("/oauth/token", 1, Fail500)
	if status, _, _ := f.get(t, "/api/v2/markets", nil); status != http.StatusOK {
		t.Errorf("other path: status %d, want 200", status)
	}
	if status, _ := f.postForm(t, "/oauth/token", url.Values{}, "", ""); status != http.StatusInternalServerError {
		t.Errorf("matching path: status %d, want 500", status)
	}
	if status, _ := f.postForm(t, "/oauth/token", url.Values{}, "", ""); status != http.StatusUnauthorized {
		t.Errorf("after the rule is used up: status %d, want 401", status)
	}
	if f.ex.Calls("/api/v2/markets") != 1 || f.ex.Calls("/oauth/token") != 2 || f.ex.Calls("/nowhere") != 0 {
		t.Errorf("Calls = %d, %d, %d; want 1, 2, 0", f.ex.Calls("/api/v2/markets"), f.ex.Calls("/oauth/token"), f.ex.Calls("/nowhere"))
	}
}

func TestFailHangEndsWithContext(t *testing.T) {
	f := newFixture(t)
	f.ex.FailNext("/api/v2/markets", 1, FailHang)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/api/v2/markets", nil)
	_, err := f.client.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung request: err = %v, want deadline exceeded", err)
	}
	if status, _, _ := f.get(t, "/api/v2/markets", nil); status != http.StatusOK {
		t.Errorf("next request: status %d, want 200", status)
	}
}

func TestCloseReleasesHangs(t *testing.T) {
	f := newFixture(t)
	f.ex.FailNext("", 1, FailHang)
	done := make(chan error, 1)
	go func() {
		resp, err := f.client.Get(f.srv.URL + "/api/v2/markets")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); f.ex.Calls("/api/v2/markets") == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the exchange")
		}
	}
	f.ex.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
}

func TestUnknownPath(t *testing.T) {
	f := newFixture(t)
	status, _, _ := f.get(t, "/api/v2/nothing", nil)
	if status != http.StatusNotFound {
		t.Errorf("status = %d, want 404", status)
	}
	if status, _ := f.postForm(t, "/api/v2/markets", url.Values{}, "", ""); status != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/v2/markets: status %d, want 405", status)
	}
	if f.ex.Calls("/api/v2/nothing") != 1 {
		t.Errorf("Calls(/api/v2/nothing) = %d, want 1", f.ex.Calls("/api/v2/nothing"))
	}
}
