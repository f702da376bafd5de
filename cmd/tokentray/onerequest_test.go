package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
)

// standIn is an agent stand-in on a real Unix socket that counts what a CLI
// call costs it: connections accepted and requests served, by path.
type standIn struct {
	sock string

	mu       sync.Mutex
	conns    int
	requests []string
}

// standInAnswers are canned answers in the agent's wire format; the keys are
// made up.
var standInAnswers = map[string]string{
	"GET /v1/token":                `{"token_type":"peatio","expires_at":"2030-01-01T00:00:00Z","scopes":["profile"],"generation":1,"access_key":"FAKEACCESS","secret_key":"FAKESECRET"}`,
	"GET /v1/connections/c1/token": `{"token_type":"peatio","expires_at":"2030-01-01T00:00:00Z","scopes":["profile"],"generation":1,"access_key":"FAKEACCESS","secret_key":"FAKESECRET"}`,
	"POST /v1/connections/c1/sign": `{"access_key":"FAKEACCESS","tonce":1700000000000,"signature":"00ff","query":"access_key=FAKEACCESS&tonce=1700000000000&signature=00ff"}`,
	"GET /v1/connections":          `{"connections":[{"id":"c1","provider":"exchange","label":"Alice","account":"ID1","fields":{},"scopes_granted":["profile"],"scopes_requested":["profile"],"expires_at":"2030-01-01T00:00:00Z","state":"connected","generation":1,"raw_keys":true,"default":false}]}`,
}

func startStandIn(t *testing.T) *standIn {
	t.Helper()
	s := &standIn{sock: filepath.Join(t.TempDir(), "agent.sock")}
	ln, err := net.Listen("unix", s.sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Method + " " + r.URL.Path
			s.mu.Lock()
			s.requests = append(s.requests, key)
			s.mu.Unlock()
			body, ok := standInAnswers[key]
			if !ok {
				http.Error(w, `{"error":{"code":"not_found","message":"no such route"}}`, http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(body))
		}),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.mu.Lock()
				s.conns++
				s.mu.Unlock()
			}
		},
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// take returns and resets the counts.
func (s *standIn) take() (conns int, requests []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns, requests = s.conns, s.requests
	s.conns, s.requests = 0, nil
	return conns, requests
}

// TestOneRequestPerCall checks the hot commands scripts run per order: one
// connection, one request, no retry, and stdout written in one write
// (counted with strace where it runs).
func TestOneRequestPerCall(t *testing.T) {
	bin := build(t, t.TempDir())
	agent := startStandIn(t)
	strace, _ := exec.LookPath("strace")
	tests := []struct {
		args    []string
		request string
		stdout  string
	}{
		{[]string{"token"}, "GET /v1/token", "^FAKEACCESS:FAKESECRET\n$"},
		{[]string{"token", "c1"}, "GET /v1/connections/c1/token", "^FAKEACCESS:FAKESECRET\n$"},
		{[]string{"token", "--json", "c1"}, "GET /v1/connections/c1/token", `^\{"token_type":"peatio",.*\}\n$`},
		{[]string{"sign", "c1", "GET", "/api/v2/orders", "market=btcusd"}, "POST /v1/connections/c1/sign", "^access_key=FAKEACCESS&tonce=1700000000000&signature=00ff\n$"},
		{[]string{"ls"}, "GET /v1/connections", "^c1 +exchange +connected +- +until \\d+ \\w{3} 20\\d\\d \\d\\d:\\d\\d, \\d+ d \\d+ h left +Alice\n$"},
	}
	for _, tt := range tests {
		t.Run(tt.request+" "+tt.args[0], func(t *testing.T) {
			trace := filepath.Join(t.TempDir(), "trace")
			cmd := exec.Command(bin, tt.args...)
			if strace != "" {
				cmd = exec.Command(strace, append([]string{"-f", "-qq", "-e", "trace=write", "-e", "signal=none", "-o", trace, bin}, tt.args...)...)
			}
			cmd.Env = append(os.Environ(), "TOKENTRAY_SOCK="+agent.sock)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("tokentray %q: %v\n%s", tt.args, err, stderr.String())
			}
			if !regexp.MustCompile(tt.stdout).Match(stdout.Bytes()) {
				t.Errorf("stdout %q, want %s", stdout.String(), tt.stdout)
			}
			conns, requests := agent.take()
			if conns != 1 || len(requests) != 1 || requests[0] != tt.request {
				t.Errorf("tokentray %q made %d connection(s) and requests %q; want 1 and [%s]", tt.args, conns, requests, tt.request)
			}
			if strace == "" {
				return
			}
			out, err := os.ReadFile(trace)
			if err != nil {
				t.Fatalf("strace left no trace: %v", err)
			}
			if n := len(regexp.MustCompile(`(?m)write\(1,`).FindAll(out, -1)); n != 1 {
				t.Errorf("tokentray %q wrote stdout in %d writes, want 1", tt.args, n)
			}
		})
	}
	if strace == "" {
		t.Log("strace is not installed: the one-write check did not run")
	}
}
