package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A needs-reconnect error tells the user the command to run with the
// connection's own provider, not a literal PROVIDER.
func TestNeedsReconnectHintNamesTheProvider(t *testing.T) {
	dir, err := os.MkdirTemp("", "tt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/connections/desk-1/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(`{"error":{"code":"needs_reconnect","message":"the provider refused the connection's grant; connect again"}}`))
	})
	mux.HandleFunc("GET /v1/connections/desk-1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"desk-1","provider":"deskex","label":"Desk","account":"A1","fields":{},"scopes_granted":[],"scopes_requested":[],"expires_at":"2026-01-01T00:00:00Z","state":"needs_reconnect","generation":1,"raw_keys":true}`))
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	var stdout, stderr bytes.Buffer
	code := Main([]string{"token", "desk-1"}, Env{Stdout: &stdout, Stderr: &stderr, Context: context.Background(),
		Getenv: func(k string) string { return map[string]string{"TOKENTRAY_SOCK": sock}[k] }})
	if code != exitNotConnected {
		t.Fatalf("token on a dead grant exited %d, want %d; stderr %q", code, exitNotConnected, stderr.String())
	}
	if got := stderr.String(); !strings.Contains(got, "tokentray connect deskex") || strings.Contains(got, "PROVIDER") {
		t.Fatalf("stderr = %q, want the hint to name the provider deskex", got)
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout = %q, want nothing", stdout.String())
	}
}
