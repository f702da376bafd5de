package agentd

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/safesocket"
	"github.com/tokentray/tokentray/vault"
)

func startDaemon(t *testing.T, env map[string]string) (*Daemon, *devstack.Stack) {
	t.Helper()
	stack, err := devstack.Start(devstack.Options{Dir: t.TempDir(), Approval: fakeexchange.AutoApprove})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	home := t.TempDir()
	getenv := func(k string) string {
		if k == "TOKENTRAY_HOME" {
			return home
		}
		return env[k]
	}
	memory := vault.ModeMemory
	d, err := Start(context.Background(), Options{
		Getenv: getenv, Socket: filepath.Join(t.TempDir(), "s", "agent.sock"), VaultDir: home,
		VaultMode: &memory, RelayURL: stack.RelayURL, Open: devstack.Browser,
		Logger: slog.New(slog.DiscardHandler), Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d, stack
}

func TestDaemonServesKeysOverTheSocket(t *testing.T) {
	d, stack := startDaemon(t, nil)
	c := localclient.NewClient(d.Socket)
	ctx := context.Background()
	var gotURL string
	conn, err := c.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID}, func(u string) { gotURL = u })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(gotURL, stack.ExchangeURL+"/oauth/authorize?") || conn.State != "connected" {
		t.Fatalf("connect: url %q, connection %+v", gotURL, conn)
	}
	tok, err := c.Token(ctx, "exchange", 0)
	if err != nil || len(tok.AccessKey) != 40 || tok.TokenType != "peatio" {
		t.Fatalf("Token = %+v, %v", tok, err)
	}
	if _, err := c.Token(ctx, "nope", 0); !errors.Is(err, localclient.ErrNotFound) {
		t.Fatalf("Token(nope) = %v, want not found", err)
	}
	d.Stop()
	if _, err := os.Stat(d.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket outlived Stop: %v", err)
	}
	if _, err := c.Status(ctx); !errors.Is(err, localclient.ErrAgentNotRunning) {
		t.Fatalf("Status after Stop = %v, want agent not running", err)
	}
}

func TestSecondAgentRefused(t *testing.T) {
	d, stack := startDaemon(t, nil)
	memory := vault.ModeMemory
	_, err := Start(context.Background(), Options{
		Getenv: func(string) string { return "" }, Socket: d.Socket, VaultDir: t.TempDir(),
		VaultMode: &memory, RelayURL: stack.RelayURL, Logger: slog.New(slog.DiscardHandler),
	})
	if !errors.Is(err, safesocket.ErrAgentRunning) {
		t.Fatalf("a second agent on the same socket: %v, want ErrAgentRunning", err)
	}
}

func TestLoadConfigRefusesUnknownKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("relay_url = \"https://relay.example.com\"\nrelay_ulr = \"x\"\n"), 0o600)
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), "relay_ulr") {
		t.Fatalf("LoadConfig = %v, want an error naming relay_ulr", err)
	}
}

func TestRelayURLRules(t *testing.T) {
	tests := []struct {
		name, env, want, errText string
	}{
		{"https", "https://relay.example.com/", "https://relay.example.com", ""},
		{"loopback http", "http://127.0.0.1:8787", "http://127.0.0.1:8787", ""},
		{"loopback range", "http://127.0.0.2:8787", "http://127.0.0.2:8787", ""},
		{"ipv6 loopback", "http://[::1]:8787", "http://[::1]:8787", ""},
		{"localhost any case", "http://LocalHost:8787", "http://LocalHost:8787", ""},
		{"http to a lookalike", "http://localhost.example.com:8787", "", "must be https"},
		{"plain http", "http://relay.example.com", "", "must be https"},
		{"not a url", "relay", "", "has no host"},
		{"unset", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RelayURL(func(string) string { return tt.env }, FileConfig{})
			if got != tt.want || (tt.errText == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.errText)) {
				t.Fatalf("RelayURL(%q) = %q, %v; want %q, %q", tt.env, got, err, tt.want, tt.errText)
			}
		})
	}
}
