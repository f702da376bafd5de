package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestGenKey(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"gen-key"}, &out, &errOut); code != 0 {
		t.Fatalf("gen-key = %d: %s", code, errOut.String())
	}
	m := regexp.MustCompile(`^([A-Za-z0-9_-]{1,16}) (\S+)\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("gen-key printed %q, want one \"KID KEY\" line", out.String())
	}
	key, err := base64.StdEncoding.Strict().DecodeString(m[2])
	if err != nil || len(key) != 32 {
		t.Errorf("key = %d bytes, %v; want 32 in padded standard base64", len(key), err)
	}
	var again bytes.Buffer
	run(context.Background(), []string{"gen-key"}, &again, &errOut)
	if again.String() == out.String() {
		t.Error("two gen-key runs printed the same line")
	}
}

// writeRelayConfig writes a config, its seal keys and its secret into a new folder.
func writeRelayConfig(t *testing.T, listen string) string {
	t.Helper()
	dir := t.TempDir()
	var keyLine bytes.Buffer
	if code := run(context.Background(), []string{"gen-key"}, &keyLine, &bytes.Buffer{}); code != 0 {
		t.Fatal("gen-key failed")
	}
	files := map[string]string{
		"seal.keys":       keyLine.String(),
		"exchange.secret": "s3cret\n",
		"relay.toml": fmt.Sprintf(`
listen = %q
public_url = "https://relay.example.com"
metrics_listen = "127.0.0.1:0"
seal_keys_file = "seal.keys"
[[provider]]
id = "exchange"
name = "EXchange"
authorize_url = "https://f1cx.com/oauth/authorize"
token_url = "https://f1cx.com/oauth/token"
client_id = "cid"
client_secret_file = "exchange.secret"
token_format = "peatio"
[[provider.scope]]
name = "profile"
`, listen),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "relay.toml")
}

func TestCheckConfig(t *testing.T) {
	good := writeRelayConfig(t, "127.0.0.1:8787")
	badKeys := writeRelayConfig(t, "127.0.0.1:8787")
	if err := os.WriteFile(filepath.Join(filepath.Dir(badKeys), "seal.keys"), []byte("k1 short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	apiBase := func(hosts string) string {
		path := writeRelayConfig(t, "127.0.0.1:8787")
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(string(text), `token_format = "peatio"`,
			"token_format = \"peatio\"\napi_base = \"https://api.f1cx.com/api/v2\"\nallowed_hosts = "+hosts, 1)
		if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"ok", []string{"--config", good, "--check-config"}, 0, "config ok"},
		{"api_base allowed", []string{"--config", apiBase(`["*.f1cx.com"]`), "--check-config"}, 0, "config ok"},
		{"api_base not allowed", []string{"--config", apiBase(`["f1cx.com"]`), "--check-config"}, 1,
			`api_base host "api.f1cx.com" is not in allowed_hosts ["f1cx.com"]`},
		{"api_base, no allowed_hosts", []string{"--config", apiBase(`[]`), "--check-config"}, 1,
			`api_base host "api.f1cx.com" is not in allowed_hosts []`},
		{"bad keys", []string{"--config", badKeys, "--check-config"}, 1, "line 1: key must be"},
		{"missing", []string{"--config", good + ".nope", "--check-config"}, 1, "read config"},
		{"no config", []string{"--check-config"}, 2, "usage"},
		{"unknown flag", []string{"--colour"}, 2, "flag provided but not defined"},
		{"extra argument", []string{"--config", good, "serve"}, 2, "usage"},
		{"bad log format", []string{"--config", good, "--log-format", "xml", "--check-config"}, 2, `--log-format "xml"`},
		{"bad log level", []string{"--config", good, "--log-level", "loud", "--check-config"}, 2, `--log-level "loud"`},
		{"text logs", []string{"--config", good, "--log-format", "text", "--log-level", "debug", "--check-config"}, 0, "config ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			if code != tc.wantCode || !strings.Contains(out.String()+errOut.String(), tc.wantOut) {
				t.Fatalf("run(%q) = %d, output %q; want %d with %q", tc.args, code, out.String()+errOut.String(), tc.wantCode, tc.wantOut)
			}
		})
	}
}

func TestServeAndShutDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := writeRelayConfig(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() { done <- run(ctx, []string{"--config", cfg}, &bytes.Buffer{}, &errOut) }()

	ok := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !ok; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			ok = resp.StatusCode == http.StatusOK
			resp.Body.Close()
		}
	}
	cancel()
	select {
	case code := <-done:
		if !ok || code != 0 {
			t.Fatalf("healthz ok %v, exit %d", ok, code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the relay did not shut down")
	}
}
